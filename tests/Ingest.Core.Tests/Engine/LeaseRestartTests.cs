using System.Text;
using Ingest.Core.Tests.Infrastructure;
using Ingest.LocalPostgres;
using Ingest.Status;

namespace Ingest.Core.Tests.Engine;

/// <summary>
/// A database restart ends every session, and the advisory locks that prove a process alive with them, while the
/// processes go on loading: a run takes its batch's lease again and a worker its liveness lock, so each is still seen
/// live (by an abort, by other workers) and only dead processes are treated as dead.
/// </summary>
public sealed class LeaseRestartTests
{
    [SkippableFact]
    public async Task A_run_that_lived_through_a_restart_is_seen_live_by_an_abort_which_it_records_once()
    {
        await using var pg = await PostgresServer.StartThrowawayAsync();
        Skip.If(!pg.Description.Contains("local cluster", StringComparison.Ordinal), $"Needs a local cluster to restart; the server is {pg.Description}.");
        await using var f = EngineFixture.On(await pg.CreateDatabaseAsync(), EngineFixture.FastOptions with { Streams = 1, FileAttempts = 8 });
        await using var server = await LoopbackHttpServer.StartAsync();
        var sources = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            // Slow enough that the run is still loading well after the server is back.
            server.AddFile($"/a{i}.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(8000, i * 10_000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(40), ChunkSize = 8192 });
            sources.Add(server.Url($"/a{i}.csv").ToString());
        }

        var id = Guid.NewGuid();
        var run = f.ImportAsync(sources, id);
        await PostgresFaultTests.WaitUntilAsync(async () => (await f.Recorder.TryGetBatchAsync(id))?.InsertCount > 0);
        await pg.RestartAsync(TimeSpan.FromMilliseconds(500));

        // The run holds its batch again once the server is back (before the fix its lease was gone for good).
        await PostgresFaultTests.WaitUntilAsync(async () => run.IsCompleted || await f.Engine.IsRunningAsync(id));
        Assert.False(run.IsCompleted);
        var outcome = await f.Engine.AbortAsync(id);
        var result = await run;

        // The abort found a live run, which rolled back its file in flight and recorded 'aborted' itself, once.
        Assert.Equal(AbortOutcome.Requested, outcome);
        Assert.Equal(BatchStatus.Aborted, result.Status);
        Assert.Contains("took the lease again", result.Log, StringComparison.Ordinal);
        var timeline = await f.Recorder.GetTimelineAsync(id);
        Assert.Single(timeline, record => record.Status == BatchStatus.Aborted);
        var batch = await f.Recorder.GetBatchAsync(id);
        Assert.DoesNotContain("no process was running it", batch.Log, StringComparison.Ordinal);
        Assert.Equal(result.InsertCount, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(result.InsertCount, await f.ScalarAsync($"SELECT coalesce(sum(rows_inserted), 0) FROM ingest.import_file WHERE batch_id = '{id}' AND state = 'loaded'"));
    }

    [SkippableFact]
    public async Task Two_workers_that_lived_through_a_restart_never_take_each_others_files_or_their_own()
    {
        await using var pg = await PostgresServer.StartThrowawayAsync();
        Skip.If(!pg.Description.Contains("local cluster", StringComparison.Ordinal), $"Needs a local cluster to restart; the server is {pg.Description}.");
        await using var f = EngineFixture.On(await pg.CreateDatabaseAsync(), EngineFixture.FastOptions with { FileAttempts = 8 });
        await using var server = await LoopbackHttpServer.StartAsync();
        List<string> Files(string prefix, int start)
        {
            var urls = new List<string>();
            for (var i = 0; i < 4; i++)
            {
                server.AddFile($"/{prefix}{i}.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(4000, start + (i * 10_000))), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(40), ChunkSize = 8192 });
                urls.Add(server.Url($"/{prefix}{i}.csv").ToString());
            }

            return urls;
        }

        var before = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, Files("b", 0)));
        using var stop = new CancellationTokenSource();
        var workers = new[] { "wa", "wb" }.Select(name => f.Engine.RunWorkerAsync(
            new WorkerOptions { Name = name, Streams = 2, Lease = TimeSpan.FromSeconds(5), PollInterval = TimeSpan.FromMilliseconds(50) }, stop.Token)).ToArray();
        try
        {
            await PostgresFaultTests.WaitUntilAsync(async () => await f.ScalarAsync($"SELECT count(*) FROM ingest.work_file WHERE batch_id = '{before}' AND state = 'claimed'") == 4);

            // The throwaway cluster commits asynchronously with fsync off, so an immediate shutdown this soon after the
            // submit and the claims lost them (the batch's row and its work rows went: BatchNotFoundException when read).
            // A later synchronous commit did not keep them (tried by hand: the row was gone after the restart); a
            // CHECKPOINT does: the restart then ends sessions, not data, as on a server that keeps what it acknowledged.
            await f.ScalarAsync("CHECKPOINT");
            await pg.RestartAsync(TimeSpan.FromMilliseconds(500));

            // A batch submitted after the restart, as in the report.
            Guid after = Guid.Empty;
            await PostgresFaultTests.WaitUntilAsync(async () =>
            {
                after = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, Files("c", 100_000)));
                return true;
            });
            await PostgresFaultTests.WaitUntilAsync(async () =>
                (await f.Recorder.GetBatchAsync(before)).Status.IsTerminal() && (await f.Recorder.GetBatchAsync(after)).Status.IsTerminal());

            foreach (var id in (Guid[])[before, after])
            {
                var batch = await f.Recorder.GetBatchAsync(id);
                Assert.Equal(BatchStatus.Finished, batch.Status);
                Assert.Equal(16_000, batch.InsertCount);
                Assert.Equal(4, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}' AND state = 'loaded'"));

                // Both workers were alive throughout: none took a file of the other, or of itself, and none lost one.
                Assert.DoesNotContain("Taking over", batch.Log, StringComparison.Ordinal);
                Assert.DoesNotContain("Lost the claim", batch.Log, StringComparison.Ordinal);
                Assert.DoesNotContain("is already loaded in this batch", batch.Log, StringComparison.Ordinal);
                Assert.DoesNotContain("the batch is no longer running", batch.Log, StringComparison.Ordinal);
            }

            Assert.Equal(32_000, await f.ScalarAsync("SELECT count(*) FROM plants"));
            Assert.Equal(32_000, await f.ScalarAsync("SELECT count(DISTINCT entity_id) FROM plants"));
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(workers.Select(w => w.ContinueWith(_ => { }, TaskScheduler.Default)));
        }
    }
}
