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
        using var stop = new CancellationTokenSource();
        // About 2 s of trickling, so the load is still running when the claim is taken away; a long lease,
        // so no renewal falls inside the load and the loss is found only at the file's commit.
        var (id, worker) = await SubmitAndClaimAsync(f, server, rows: 3000, TimeSpan.FromSeconds(60), stop.Token);

        // What another worker does when it finds the lease run out: the file is now its own. The thief is alive
        // (it holds its liveness lock), so w1 cannot take the file back from it.
        await using var thief = await f.DataSource.OpenConnectionAsync();
        await using (var alive = new Npgsql.NpgsqlCommand($"SELECT pg_advisory_lock({Ingest.Engine.Queue.WorkerLiveness.LockClass}, hashtext('thief'))", thief))
        {
            await alive.ExecuteScalarAsync();
        }

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
    public async Task A_worker_keeps_renewing_its_lease_after_renewals_fail_for_a_moment()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        using var stop = new CancellationTokenSource();
        // About 7 s of trickling against a 4 s lease (renewed every 1.3 s): the file stays w1's only if renewals go on.
        var lease = TimeSpan.FromSeconds(4);
        var (id, owner) = await SubmitAndClaimAsync(f, server, rows: 12_000, lease, stop.Token);
        // A second worker takes any file whose lease runs out.
        var rival = f.Engine.RunWorkerAsync(Worker("w2", lease), stop.Token);

        // For 1.5 s every renewal of w1's claim fails on the server (a trigger raises while a flag is on), so at least
        // one renewal errors. Before the fix that ended the renewals for the rest of the file, the lease ran out and
        // the rival took the file over; now the next renewal, a quarter second after the flag goes off, goes through.
        await f.ScalarAsync("""
            CREATE TABLE renewals_fail (failing boolean NOT NULL);
            INSERT INTO renewals_fail VALUES (false);
            CREATE FUNCTION fail_renewal() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF (SELECT failing FROM renewals_fail) THEN RAISE EXCEPTION 'renewal failed (injected)'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER fail_renewal BEFORE UPDATE ON ingest.work_file FOR EACH ROW
                WHEN (OLD.worker = 'w1' AND NEW.worker = 'w1' AND NEW.state = 'claimed') EXECUTE FUNCTION fail_renewal();
            SELECT 1
            """);
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        await f.ScalarAsync("UPDATE renewals_fail SET failing = true; SELECT 1");
        await Task.Delay(TimeSpan.FromMilliseconds(1500));
        await f.ScalarAsync("UPDATE renewals_fail SET failing = false; SELECT 1");

        await PostgresFaultTests.WaitUntilAsync(async () => await f.ScalarAsync($"SELECT count(*) FROM ingest.work_file WHERE batch_id = '{id}' AND state = 'done'") == 1);
        await stop.CancelAsync();
        await Task.WhenAll(owner.ContinueWith(_ => { }, TaskScheduler.Default), rival.ContinueWith(_ => { }, TaskScheduler.Default));

        var log = (await f.Recorder.GetBatchAsync(id)).Log ?? string.Empty;
        Assert.Equal(12_000, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Contains("INFO [w1] Loaded", log, StringComparison.Ordinal);
        Assert.DoesNotContain("Lost the claim", log, StringComparison.Ordinal);
        Assert.DoesNotContain("[w2] Fetching", log, StringComparison.Ordinal);
    }

    private static WorkerOptions Worker(string name, TimeSpan lease) =>
        new() { Name = name, Streams = 1, Lease = lease, PollInterval = TimeSpan.FromMilliseconds(50) };

    /// <summary>Submits one trickling file (8 KiB every 50 ms) and starts worker "w1"; returns once w1 holds the claim.</summary>
    private static async Task<(Guid Id, Task Worker)> SubmitAndClaimAsync(EngineFixture f, LoopbackHttpServer server, int rows, TimeSpan lease, CancellationToken stop)
    {
        server.AddFile("/slow.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(rows)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(50), ChunkSize = 8192 });
        var id = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [server.Url("/slow.csv").ToString()]));
        var worker = f.Engine.RunWorkerAsync(Worker("w1", lease), stop);
        await PostgresFaultTests.WaitUntilAsync(async () => await f.ScalarAsync("SELECT count(*) FROM ingest.work_file WHERE state = 'claimed' AND worker = 'w1'") == 1);
        return (id, worker);
    }
}
