using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Status;
using Npgsql;

namespace Ingest.Core.Tests.Engine;

/// <summary>
/// Restarted at once: a run whose batch is still held by the sessions of a run that has just died waits for them,
/// an abort of such a batch marks it, and a queued batch whose last worker died is ended by the next. (A run or a
/// worker started while the server is out of reach: <see cref="StartOutageTests"/>.)
/// </summary>
public sealed class RestartTests
{
    [SkippableFact]
    public async Task A_resume_waits_for_a_lease_its_holder_lets_go_of_and_says_so()
    {
        var lines = new ConcurrentQueue<string>();
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { OnLogLine = (_, _, line) => lines.Enqueue(line) });
        var file = f.WriteFile("a.csv", EngineFixture.Rows(300));
        var id = Guid.NewGuid();

        // What a killed run leaves for a moment: its session, still holding the batch's lease.
        var holder = await HoldLeaseAsync(f, id);
        var run = f.ImportAsync([file], id);
        await PostgresFaultTests.WaitUntilAsync(() => Task.FromResult(lines.Any(l => l.Contains("is held by another process: waiting up to 15 s", StringComparison.Ordinal))));
        Assert.False(run.IsCompleted);
        await holder.DisposeAsync();
        var result = await run;

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(300, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Contains("s for the batch's lease: the run before this one had stopped", result.Log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_batch_another_run_created_while_this_one_waited_for_the_lease_is_resumed_not_created_again()
    {
        var lines = new ConcurrentQueue<string>();
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { OnLogLine = (_, _, line) => lines.Enqueue(line) });
        var file = f.WriteFile("a.csv", EngineFixture.Rows(30));
        var id = Guid.NewGuid();

        // The run reads the batch (not there yet) while another run holds the lease; that run creates the batch and
        // stops before loading anything.
        var holder = await HoldLeaseAsync(f, id);
        var run = f.ImportAsync([file], id);
        await PostgresFaultTests.WaitUntilAsync(() => Task.FromResult(lines.Any(l => l.Contains("is held by another process", StringComparison.Ordinal))));
        await f.Recorder.CreateBatchAsync(new NewBatch(id, "plants", null, null));
        await f.Recorder.AppendStatusAsync(id, BatchStatus.Started, 0, 0, "2026-01-01T00:00:00.000Z INFO Starting batch job (the other run)");
        await holder.DisposeAsync();
        var result = await run;

        // Read again under the lease: the batch the other run made, resumed under a run number of its own.
        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Contains("(the other run)", result.Log, StringComparison.Ordinal);
        Assert.Contains("Resuming batch job: 0 of 1 files already loaded, 1 to load", result.Log, StringComparison.Ordinal);
        Assert.Equal(1, await f.ScalarAsync($"SELECT run FROM ingest.import_batch WHERE id = '{id}'"));
        Assert.Equal(30, await f.ScalarAsync("SELECT count(*) FROM plants"));
    }

    [SkippableFact]
    public async Task A_resume_still_held_after_the_wait_is_refused_as_running_elsewhere()
    {
        var lines = new ConcurrentQueue<string>();
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { LeaseWait = TimeSpan.FromSeconds(1), OnLogLine = (_, _, line) => lines.Enqueue(line) });
        var id = Guid.NewGuid();
        await using var holder = await HoldLeaseAsync(f, id);

        var refused = await Assert.ThrowsAsync<BatchAlreadyRunningException>(() => f.ImportAsync([f.WriteFile("a.csv", EngineFixture.Rows(3))], id));

        Assert.Contains("is running in another process", refused.Message, StringComparison.Ordinal);
        Assert.Contains(lines, l => l.Contains($"WARN Batch {id} is held by another process: waiting up to 1 s", StringComparison.Ordinal));
        Assert.Equal(0, await f.ScalarAsync("SELECT count(*) FROM plants"));
    }

    [SkippableFact]
    public async Task An_abort_of_a_batch_whose_run_has_just_died_marks_it_aborted_instead_of_waiting_on_the_dead()
    {
        await using var f = await EngineFixture.CreateAsync();
        var id = Guid.NewGuid();
        await f.Recorder.CreateBatchAsync(new NewBatch(id, "plants", null, null));
        await f.Recorder.AppendStatusAsync(id, BatchStatus.Started, 0, 0, "2026-01-01T00:00:00.000Z INFO Starting batch job");
        var holder = await HoldLeaseAsync(f, id);

        var abort = f.Engine.AbortAsync(id).AsTask();
        await Task.Delay(300);
        Assert.False(abort.IsCompleted); // The lease is held: it may be a live run, which records the abort itself.
        await holder.DisposeAsync(); // It was not: its sessions end.
        var outcome = await abort;

        Assert.Equal(AbortOutcome.AbortedNow, outcome);
        var batch = await f.Recorder.GetBatchAsync(id);
        Assert.Equal(BatchStatus.Aborted, batch.Status);
        Assert.Contains("no process was running it", batch.Log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_queued_batch_whose_last_worker_died_before_recording_its_end_is_ended_by_the_next_worker()
    {
        await using var f = await EngineFixture.CreateAsync();
        var done = f.WriteFile("done.csv", EngineFixture.Rows(10));
        var broken = f.WriteFile("broken.csv", "not,a,row\n");
        var finished = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [done]));
        var failed = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [broken]));

        // What a worker killed right after its last file's COMMIT (or its failure) leaves: the batch 'started', no file left.
        foreach (var id in (Guid[])[finished, failed])
        {
            await f.Recorder.AppendStatusAsync(id, BatchStatus.Started, 0, 0, "2026-01-01T00:00:00.000Z INFO [gone:1] Starting batch job");
        }

        await f.ScalarAsync($"INSERT INTO ingest.import_file (batch_id, file_key, state, rows_inserted) VALUES ('{finished}', '{done}', 'loaded', 10); SELECT 1");
        await f.ScalarAsync($"UPDATE ingest.work_file SET state = 'done', worker = 'gone:1' WHERE batch_id = '{finished}'; SELECT 1");
        await f.ScalarAsync($"UPDATE ingest.work_file SET state = 'failed', worker = NULL, error = '{broken}: injected failure' WHERE batch_id = '{failed}'; SELECT 1");

        await f.Engine.RunWorkerAsync(new WorkerOptions { Name = "next", Streams = 1, ExitWhenIdle = true, PollInterval = TimeSpan.FromMilliseconds(50) });

        var timeline = await f.Recorder.GetTimelineAsync(finished);
        Assert.Equal(BatchStatus.Finished, timeline[0].Status);
        Assert.Equal(10, timeline[0].InsertCount);
        Assert.Contains("[next] Finished batch job. Inserted: 10, Invalid: 0", timeline[0].Log, StringComparison.Ordinal);
        var error = await f.Recorder.GetBatchAsync(failed);
        Assert.Equal(BatchStatus.Error, error.Status);
        Assert.Contains($"ERROR [next] {broken}: injected failure", error.Log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_queued_batch_run_again_in_process_is_left_to_that_run_by_workers_that_find_none_of_its_files_queued()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        var good = f.WriteFile("good.csv", EngineFixture.Rows(100));
        server.AddFile("/fixed.csv", Encoding.UTF8.GetBytes("\"unterminated\n"));
        var url = server.Url("/fixed.csv").ToString();
        var id = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [good, url]));
        await f.Engine.RunWorkerAsync(new WorkerOptions { Name = "first", Streams = 1, ExitWhenIdle = true, PollInterval = TimeSpan.FromMilliseconds(50) });
        Assert.Equal(BatchStatus.Error, (await f.Recorder.GetBatchAsync(id)).Status);

        // The file fixed, the batch is run again in a process (as the API host does for a PUT with its id), slowly; a
        // worker with nothing to claim meanwhile sees a started queued batch with a failed file and none in the queue.
        server.AddFile("/fixed.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(3000, 1000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(50), ChunkSize = 8192 });
        var run = f.ImportAsync([good, url], id);
        await PostgresFaultTests.WaitUntilAsync(async () => server.RequestCount("/fixed.csv") > 1 && (await f.Recorder.GetBatchAsync(id)).Status == BatchStatus.Started);
        await f.Engine.RunWorkerAsync(new WorkerOptions { Name = "idle", Streams = 1, ExitWhenIdle = true, PollInterval = TimeSpan.FromMilliseconds(50) });
        var result = await run;

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(3100, result.InsertCount);
        var timeline = await f.Recorder.GetTimelineAsync(id);
        Assert.Single(timeline, r => r.Status == BatchStatus.Error); // The first run's, before the fix; none from the idle worker.
        Assert.DoesNotContain("[idle]", timeline[0].Log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_file_whose_acknowledged_commit_the_server_lost_is_loaded_again_before_the_batch_finishes()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 1 });
        var lost = f.WriteFile("lost.csv", EngineFixture.Rows(400));
        var kept = f.WriteFile("kept.csv", EngineFixture.Rows(100, 1000));
        var fired = 0;

        // What a server with synchronous_commit = off does when it crashes right after acknowledging a COMMIT: the
        // transaction is gone after the restart, though the client saw it commit.
        f.Engine.Hooks = new Ingest.Engine.Loading.LoadHooks
        {
            AfterCommit = key =>
            {
                if (key == lost && Interlocked.Exchange(ref fired, 1) == 0)
                {
                    using var forget = f.DataSource.CreateCommand($"DELETE FROM plants; DELETE FROM ingest.import_file WHERE file_key = '{lost}'");
                    forget.ExecuteNonQuery();
                }
            },
        };

        var result = await f.ImportAsync([lost, kept]);

        Assert.Equal(1, fired);
        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(500, result.InsertCount);
        Assert.Equal(500, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(2, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{result.BatchId}' AND state = 'loaded'"));
        Assert.Contains($"1 file(s) committed earlier are not in the ledger now", result.Log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_lost_file_cut_into_more_chunks_than_the_first_pass_had_streams_is_loaded_again_without_waiting_forever()
    {
        // Five files of 9.5 MB on 6 streams: none is over its share, so the first pass runs 5 streams. The file whose
        // commit the server loses is alone in the second pass, over its share of 6 streams: it is cut into 6 chunks,
        // which wait for each other, so that pass needs 6 streams.
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 6 });
        var files = Enumerable.Range(1, 5).Select(k => f.WriteFile($"f{k}.csv", EngineFixture.Rows(95_000, k * 100_000))).ToList();
        var lost = files[0];
        var fired = 0;
        f.Engine.Hooks = new Ingest.Engine.Loading.LoadHooks
        {
            AfterCommit = key =>
            {
                if (key == lost && Interlocked.Exchange(ref fired, 1) == 0)
                {
                    using var forget = f.DataSource.CreateCommand($"DELETE FROM plants WHERE altitude < 200000; DELETE FROM ingest.import_file WHERE file_key = '{lost}'");
                    forget.ExecuteNonQuery();
                }
            },
        };

        var result = await f.ImportAsync(files).WaitAsync(TimeSpan.FromSeconds(180));

        Assert.Equal(1, fired);
        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(475_000, result.InsertCount);
        Assert.Equal(475_000, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Contains($"Splitting {lost} (9 MiB) into 6 chunks", result.Log, StringComparison.Ordinal);
        Assert.Single(Regex.Matches(result.Log!, "Splitting "));
    }

    /// <summary>A session holding the batch's lease, as a run's does (<c>BatchLease</c>); disposing it ends the session.</summary>
    private static async Task<NpgsqlConnection> HoldLeaseAsync(EngineFixture f, Guid id)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(f.ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pg_advisory_lock(7355609, hashtext($1))", connection);
        command.Parameters.AddWithValue(id.ToString());
        await command.ExecuteScalarAsync();
        return connection;
    }
}
