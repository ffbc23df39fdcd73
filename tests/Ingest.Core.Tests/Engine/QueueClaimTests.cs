using System.Text;
using Ingest.Core.Tests.Infrastructure;

namespace Ingest.Core.Tests.Engine;

/// <summary>A queue worker's claim on a file: lost while loading, and kept through database blips.</summary>
public sealed class QueueClaimTests
{
    [SkippableFact]
    public async Task A_worker_whose_claim_is_taken_while_it_loads_rolls_the_file_back_and_says_so()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        // About 2 s of trickling: the load is still running when the claim is taken away.
        server.AddFile("/stolen.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(3000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(50), ChunkSize = 8192 });
        var id = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [server.Url("/stolen.csv").ToString()]));
        using var stop = new CancellationTokenSource();
        // A long lease: no renewal falls inside the load, so the loss is found only at the file's commit.
        var worker = f.Engine.RunWorkerAsync(new WorkerOptions { Name = "w1", Streams = 1, Lease = TimeSpan.FromSeconds(60), PollInterval = TimeSpan.FromMilliseconds(50) }, stop.Token);
        await PostgresFaultTests.WaitUntilAsync(async () => await f.ScalarAsync("SELECT count(*) FROM ingest.work_file WHERE state = 'claimed' AND worker = 'w1'") == 1);

        // What another worker does when it finds the lease run out: the file is now its own.
        Assert.Equal(1, await f.ScalarAsync($"WITH t AS (UPDATE ingest.work_file SET worker = 'thief', lease_until = now() + interval '1 hour' WHERE batch_id = '{id}' RETURNING 1) SELECT count(*) FROM t"));

        // The worker rolls back and logs; before the fix the log line waited on the batch row its own
        // transaction still held FOR SHARE until the command timed out, and never arrived.
        await PostgresFaultTests.WaitUntilAsync(async () => ((await f.Recorder.GetBatchAsync(id)).Log ?? string.Empty).Contains("Lost the claim on", StringComparison.Ordinal));
        await stop.CancelAsync();
        await worker.ContinueWith(_ => { }, TaskScheduler.Default);

        Assert.Equal(0, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(0, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}' AND state = 'loaded'"));
        Assert.Equal(1, await f.ScalarAsync($"SELECT count(*) FROM ingest.work_file WHERE batch_id = '{id}' AND state = 'claimed' AND worker = 'thief'"));
        Assert.Contains("WARN [w1] Lost the claim on", (await f.Recorder.GetBatchAsync(id)).Log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_worker_keeps_renewing_its_lease_after_the_queue_table_fails_for_a_moment()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        // About 7 s of trickling against a 3 s lease: the file stays this worker's only if renewals go on.
        server.AddFile("/long.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(12_000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(50), ChunkSize = 8192 });
        var id = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [server.Url("/long.csv").ToString()]));
        using var stop = new CancellationTokenSource();
        var lease = TimeSpan.FromSeconds(3);
        var owner = f.Engine.RunWorkerAsync(new WorkerOptions { Name = "w1", Streams = 1, Lease = lease, PollInterval = TimeSpan.FromMilliseconds(50) }, stop.Token);
        await PostgresFaultTests.WaitUntilAsync(async () => await f.ScalarAsync("SELECT count(*) FROM ingest.work_file WHERE state = 'claimed' AND worker = 'w1'") == 1);
        // A second worker takes any file whose lease runs out.
        var rival = f.Engine.RunWorkerAsync(new WorkerOptions { Name = "w2", Streams = 1, Lease = lease, PollInterval = TimeSpan.FromMilliseconds(50) }, stop.Token);

        // For 0.8 s every statement on the queue table fails (it is renamed away), so at least one renewal
        // errors. Before the fix that ended the renewals for the rest of the file, the lease ran out and the
        // rival took the file over; now the next renewal, a quarter second later, goes through.
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        await f.ScalarAsync("ALTER TABLE ingest.work_file RENAME TO work_file_away; SELECT 1");
        await Task.Delay(TimeSpan.FromMilliseconds(800));
        await f.ScalarAsync("ALTER TABLE ingest.work_file_away RENAME TO work_file; SELECT 1");

        await PostgresFaultTests.WaitUntilAsync(async () => await f.ScalarAsync($"SELECT count(*) FROM ingest.work_file WHERE batch_id = '{id}' AND state = 'done'") == 1);
        await stop.CancelAsync();
        await Task.WhenAll(owner.ContinueWith(_ => { }, TaskScheduler.Default), rival.ContinueWith(_ => { }, TaskScheduler.Default));

        var log = (await f.Recorder.GetBatchAsync(id)).Log ?? string.Empty;
        Assert.Equal(12_000, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Contains("INFO [w1] Loaded", log, StringComparison.Ordinal);
        Assert.DoesNotContain("Lost the claim", log, StringComparison.Ordinal);
        Assert.DoesNotContain("[w2] Fetching", log, StringComparison.Ordinal);
    }
}
