using System.Text;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Engine.Loading;
using Ingest.LocalPostgres;
using Ingest.Status;

namespace Ingest.Core.Tests.Engine;

/// <summary>
/// The same fault through <c>ingest import</c> (an in-process run) and through a queue worker ends the same
/// way: both load files with one unit (<see cref="FileLoad"/>), so neither may drift from the other.
/// </summary>
public sealed class LoadParityTests
{
    public enum Host
    {
        Import,
        Worker,
    }

    [SkippableTheory]
    [InlineData(Host.Import)]
    [InlineData(Host.Worker)]
    public async Task A_connection_killed_mid_copy_rolls_the_file_back_and_it_loads_once_on_a_new_connection(Host host)
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/slow.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(15_000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(20), ChunkSize = 16 * 1024 });
        var id = Guid.NewGuid();
        var run = RunAsync(f, host, id, [server.Url("/slow.csv").ToString()]);

        await PostgresFaultTests.WaitUntilAsync(async () => (await f.Recorder.TryGetBatchAsync(id))?.InsertCount > 0);
        var killed = await f.ScalarAsync("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'COPY %' AND pid <> pg_backend_pid()");
        var outcome = await run;

        Assert.Equal(1, killed);
        Assert.Equal(BatchStatus.Finished, outcome.Status);
        Assert.Equal(15_000, outcome.InsertCount);
        Assert.Equal(15_000, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(15_000, await f.ScalarAsync("SELECT count(DISTINCT entity_id) FROM plants"));
        Assert.Contains($"Retrying {server.Url("/slow.csv")} (attempt 2 of 3)", outcome.Log, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData(Host.Import)]
    [InlineData(Host.Worker)]
    public async Task A_commit_whose_answer_was_lost_is_settled_by_the_ledger_never_by_loading_again(Host host)
    {
        await using var f = await EngineFixture.CreateAsync();
        var lost = f.WriteFile("lost-ack.csv", EngineFixture.Rows(700));
        var other = f.WriteFile("other.csv", EngineFixture.Rows(300, 1000));
        var fired = 0;
        f.Engine.Hooks = new LoadHooks
        {
            AfterCommit = key =>
            {
                if (key == lost && Interlocked.Exchange(ref fired, 1) == 0)
                {
                    throw new IOException("Connection reset while reading the COMMIT answer (injected)");
                }
            },
        };

        var outcome = await RunAsync(f, host, Guid.NewGuid(), [lost, other]);

        Assert.Equal(1, fired);
        Assert.Equal(BatchStatus.Finished, outcome.Status);
        Assert.Equal(1000, outcome.InsertCount);
        Assert.Equal(1000, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(2, await f.ScalarAsync("SELECT count(*) FROM ingest.import_file WHERE state = 'loaded'"));
        // The batch's log, not its last record's: a worker settles the retry after another may have recorded 'finished'.
        var log = (await f.Recorder.GetBatchAsync(outcome.Id)).Log!;
        Assert.True(log.Contains($"{lost} was committed before the connection was lost; not loading it again", StringComparison.Ordinal), log);
    }

    [SkippableTheory]
    [InlineData(Host.Import)]
    [InlineData(Host.Worker)]
    public async Task A_database_restart_mid_batch_is_ridden_out_and_loses_and_doubles_nothing(Host host)
    {
        await using var pg = await PostgresServer.StartThrowawayAsync();
        Skip.If(!pg.Description.Contains("local cluster", StringComparison.Ordinal), $"Needs a local cluster to restart; the server is {pg.Description}.");
        await using var f = EngineFixture.On(await pg.CreateDatabaseAsync(), EngineFixture.FastOptions with { Streams = 2 });
        await using var server = await LoopbackHttpServer.StartAsync();
        var sources = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            server.AddFile($"/r{i}.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(5000, i * 10_000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(20), ChunkSize = 16 * 1024 });
            sources.Add(server.Url($"/r{i}.csv").ToString());
        }

        var id = Guid.NewGuid();
        var run = RunAsync(f, host, id, sources);
        await PostgresFaultTests.WaitUntilAsync(async () => (await f.Recorder.TryGetBatchAsync(id))?.InsertCount > 0);
        await pg.RestartAsync(TimeSpan.FromSeconds(2));
        var outcome = await run;

        Assert.Equal(BatchStatus.Finished, outcome.Status);
        Assert.Equal(20_000, outcome.InsertCount);
        Assert.Equal(20_000, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(20_000, await f.ScalarAsync("SELECT count(DISTINCT entity_id) FROM plants"));
        Assert.Equal(4, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}' AND state = 'loaded'"));
    }

    [SkippableTheory]
    [InlineData(Host.Import)]
    [InlineData(Host.Worker)]
    public async Task A_file_error_ends_the_batch_naming_the_file_and_keeps_the_files_loaded_before_it(Host host)
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 1 });
        var first = f.WriteFile("first.csv", EngineFixture.Rows(400));
        var broken = f.WriteFile("broken.csv", EngineFixture.Rows(50, 1000) + "\"an unterminated quote,\n" + EngineFixture.Rows(50, 2000));
        var last = f.WriteFile("last.csv", EngineFixture.Rows(200, 3000));

        var outcome = await RunAsync(f, host, Guid.NewGuid(), [first, broken, last]);

        Assert.Equal(BatchStatus.Error, outcome.Status);
        Assert.Equal(400, outcome.InsertCount);
        Assert.Equal(400, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Matches($@"ERROR (\[w\] )?{System.Text.RegularExpressions.Regex.Escape(broken)} line 51: unterminated quoted field", outcome.Log);
        Assert.Equal(1, await f.ScalarAsync("SELECT count(*) FROM ingest.import_file WHERE state = 'loaded'"));
    }

    [SkippableTheory]
    [InlineData(Host.Import)]
    [InlineData(Host.Worker)]
    public async Task An_abort_rolls_back_the_files_in_flight_and_keeps_only_whole_files(Host host)
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 2 });
        await using var server = await LoopbackHttpServer.StartAsync();
        var fast = f.WriteFile("fast.csv", EngineFixture.Rows(500));
        server.AddFile("/slow.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(20_000, 10_000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(50), ChunkSize = 4096 });
        var id = Guid.NewGuid();
        var run = RunAsync(f, host, id, [fast, server.Url("/slow.csv").ToString()]);

        await PostgresFaultTests.WaitUntilAsync(async () => (await f.Recorder.TryGetBatchAsync(id))?.InsertCount > 500);
        await f.Engine.AbortAsync(id);
        var outcome = await run;

        Assert.Equal(BatchStatus.Aborted, outcome.Status);
        Assert.Equal(500, outcome.InsertCount);
        Assert.Equal(500, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Contains("INFO Received abort instruction", outcome.Log, StringComparison.Ordinal);
        Assert.Equal(1, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}' AND state = 'loaded'"));
    }

    [SkippableTheory]
    [InlineData(Host.Import)]
    [InlineData(Host.Worker)]
    public async Task A_source_read_tried_again_says_so_in_the_batch_log(Host host)
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/busy.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(1_000)), new HttpFault { FailFirst = 1, FailStatus = 503 });

        var outcome = await RunAsync(f, host, Guid.NewGuid(), [server.Url("/busy.csv").ToString()]);

        Assert.Equal(BatchStatus.Finished, outcome.Status);
        Assert.Equal(1_000, outcome.InsertCount);
        var line = outcome.Log!.Split('\n').Single(l => l.Contains($"Retrying {server.Url("/busy.csv")} (attempt 2 of ", StringComparison.Ordinal));
        Assert.Contains(" WARN ", line, StringComparison.Ordinal);
        Assert.Contains("after HTTP 503", line, StringComparison.Ordinal);
        if (host == Host.Worker)
        {
            Assert.Contains("[w] Retrying", line, StringComparison.Ordinal); // Named by the worker that read it.
        }
    }

    /// <summary>The batch run by <paramref name="host"/> to its end: its last status record.</summary>
    private static async Task<StatusRecord> RunAsync(EngineFixture f, Host host, Guid id, IReadOnlyList<string> sources)
    {
        var request = new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, sources) { BatchId = id };
        if (host == Host.Import)
        {
            await f.Engine.ImportAsync(request);
        }
        else
        {
            await f.Engine.SubmitAsync(request);
            await f.Engine.RunWorkerAsync(new WorkerOptions { Name = "w", Streams = f.Engine.Options.Streams, ExitWhenIdle = true, PollInterval = TimeSpan.FromMilliseconds(50) });
        }

        return (await f.Recorder.GetTimelineAsync(id))[0];
    }
}
