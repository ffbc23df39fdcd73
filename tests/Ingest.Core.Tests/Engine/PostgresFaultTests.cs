using System.Text;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Engine.Loading;
using Ingest.LocalPostgres;
using Ingest.Status;
using Npgsql;

namespace Ingest.Core.Tests.Engine;

public sealed class PostgresFaultTests
{
    [SkippableFact]
    public async Task A_connection_killed_mid_copy_rolls_the_file_back_and_the_stream_retries_it_on_a_new_connection()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 1 });
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/slow.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(15_000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(20), ChunkSize = 16 * 1024 });
        var id = Guid.NewGuid();
        var run = f.ImportAsync([server.Url("/slow.csv").ToString()], id);

        await WaitUntilAsync(async () => (await f.Recorder.TryGetBatchAsync(id))?.InsertCount > 0);
        var killed = await f.ScalarAsync("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'COPY %' AND pid <> pg_backend_pid()");
        var result = await run;

        Assert.Equal(1, killed);
        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(15_000, result.InsertCount);
        Assert.Equal(15_000, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(15_000, await f.ScalarAsync("SELECT count(DISTINCT entity_id) FROM plants"));
        Assert.Contains("Retrying", result.Log, StringComparison.Ordinal);
        Assert.True(server.RequestCount("/slow.csv") >= 2);
    }

    [SkippableFact]
    public async Task A_server_restarted_mid_batch_loses_and_doubles_nothing()
    {
        await using var pg = await PostgresServer.StartThrowawayAsync();
        Skip.If(!pg.Description.Contains("local cluster", StringComparison.Ordinal), $"Needs a local cluster to restart; the server is {pg.Description}.");
        var connectionString = await pg.CreateDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var recorder = new PostgresStatusRecorder(dataSource);
        await using var engine = new IngestEngine(dataSource, recorder, EngineFixture.FastOptions with { Streams = 2, FileAttempts = 8 });
        await using var server = await LoopbackHttpServer.StartAsync();
        var sources = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            server.AddFile($"/f{i}.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(5000, i * 10_000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(20), ChunkSize = 16 * 1024 });
            sources.Add(server.Url($"/f{i}.csv").ToString());
        }

        var id = Guid.NewGuid();
        var run = engine.ImportAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, sources) { BatchId = id });
        await WaitUntilAsync(async () => (await recorder.TryGetBatchAsync(id))?.InsertCount > 0);
        await pg.RestartAsync(TimeSpan.FromMilliseconds(500));
        var result = await run;

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(20_000, result.InsertCount);
        await using var count = dataSource.CreateCommand("SELECT count(*), count(DISTINCT entity_id) FROM plants");
        await using var reader = await count.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal(20_000, reader.GetInt64(0));
        Assert.Equal(20_000, reader.GetInt64(1));
    }

    // Past the tolerance the streams give up while the server is still down (4 s of tolerance, 6.5 s down: the last
    // check of a stream comes 4 to 6 s in), and the end of the batch, which rides out outages by the same policy from its
    // own first fault, records 'error' once the server is back (by 8 s at the earliest).
    [SkippableTheory]
    [InlineData(60, 3000, true)]
    [InlineData(4, 6500, false)]
    public async Task A_database_down_for_seconds_is_ridden_out_within_the_tolerance_and_ends_the_batch_saying_so_past_it(int toleranceSeconds, int downMilliseconds, bool finishes)
    {
        await using var pg = await PostgresServer.StartThrowawayAsync();
        Skip.If(!pg.Description.Contains("local cluster", StringComparison.Ordinal), $"Needs a local cluster to stop; the server is {pg.Description}.");
        var connectionString = await pg.CreateDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var recorder = new PostgresStatusRecorder(dataSource);
        var options = EngineFixture.FastOptions with { Streams = 2, DatabaseOutageTolerance = TimeSpan.FromSeconds(toleranceSeconds) };
        Assert.Equal(3, options.FileAttempts); // the default: about 0.75 s of retries, far less than the outage
        await using var engine = new IngestEngine(dataSource, recorder, options);
        await using var server = await LoopbackHttpServer.StartAsync();
        var sources = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            server.AddFile($"/o{i}.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(5000, i * 10_000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(20), ChunkSize = 16 * 1024 });
            sources.Add(server.Url($"/o{i}.csv").ToString());
        }

        var id = Guid.NewGuid();
        var run = engine.ImportAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, sources) { BatchId = id });
        await WaitUntilAsync(async () => (await recorder.TryGetBatchAsync(id))?.InsertCount > 0);
        await pg.RestartAsync(TimeSpan.FromMilliseconds(downMilliseconds));
        var result = await run;

        await using var count = dataSource.CreateCommand("SELECT count(*), count(DISTINCT entity_id) FROM plants");
        await using var reader = await count.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal(reader.GetInt64(0), reader.GetInt64(1));
        Assert.Equal(result.InsertCount, reader.GetInt64(0));
        if (finishes)
        {
            Assert.Equal(BatchStatus.Finished, result.Status);
            Assert.Equal(20_000, result.InsertCount);
            Assert.Contains("The database has been out of reach for ", result.Log, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(BatchStatus.Error, result.Status);
            Assert.StartsWith("the database stayed out of reach while loading ", result.Error, StringComparison.Ordinal);
            Assert.Contains("When the database is back, run the batch again with the same id to load the rest", result.Log, StringComparison.Ordinal);
            Assert.DoesNotContain("Fix the file", result.Log, StringComparison.Ordinal);
        }
    }

    // Down longer than the tolerance twice over (2 s of tolerance, 15 s down): the streams give up, the end of the batch
    // rides the outage out by the same policy, saying so, then returns the error with the way on instead of throwing,
    // and the batch, whose end could not be recorded, resumes once the server is back.
    [SkippableFact]
    public async Task A_database_still_down_after_the_end_rode_it_out_ends_the_run_saying_the_batch_is_left_started()
    {
        await using var pg = await PostgresServer.StartThrowawayAsync();
        Skip.If(!pg.Description.Contains("local cluster", StringComparison.Ordinal), $"Needs a local cluster to stop; the server is {pg.Description}.");
        var connectionString = await pg.CreateDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var recorder = new PostgresStatusRecorder(dataSource);
        var options = EngineFixture.FastOptions with { Streams = 2, DatabaseOutageTolerance = TimeSpan.FromSeconds(2) };
        await using var engine = new IngestEngine(dataSource, recorder, options);
        await using var server = await LoopbackHttpServer.StartAsync();
        var sources = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            server.AddFile($"/d{i}.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(5000, i * 10_000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(20), ChunkSize = 16 * 1024 });
            sources.Add(server.Url($"/d{i}.csv").ToString());
        }

        var request = new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, sources) { BatchId = Guid.NewGuid() };
        var run = engine.ImportAsync(request);
        await WaitUntilAsync(async () => (await recorder.TryGetBatchAsync(request.BatchId.Value))?.InsertCount > 0);
        var restart = pg.RestartAsync(TimeSpan.FromSeconds(15));
        var result = await run;
        var serverWasDown = !restart.IsCompleted;
        await restart;

        Assert.True(serverWasDown, "the run should have ended while the server was still down");
        Assert.Equal(BatchStatus.Error, result.Status);
        Assert.StartsWith("the database stayed out of reach while loading ", result.Error, StringComparison.Ordinal);
        Assert.Contains("the batch's end could not be recorded (it shows 'started' until then). When the database is back, run the batch again with the same id", result.Error, StringComparison.Ordinal);
        Assert.Contains("WARN The database is out of reach (", result.Log, StringComparison.Ordinal);
        Assert.Equal(BatchStatus.Started, (await recorder.GetBatchAsync(request.BatchId.Value)).Status);

        var resumed = await engine.ImportAsync(request);
        Assert.Equal(BatchStatus.Finished, resumed.Status);
        Assert.Equal(20_000, resumed.InsertCount);
        Assert.Equal(20_000, await CountDistinctAsync(dataSource));
    }

    private static async Task<long> CountDistinctAsync(NpgsqlDataSource dataSource)
    {
        await using var count = dataSource.CreateCommand("SELECT count(DISTINCT entity_id) FROM plants WHERE (SELECT count(*) FROM plants) = (SELECT count(DISTINCT entity_id) FROM plants)");
        return (long)(await count.ExecuteScalarAsync())!;
    }

    [SkippableFact]
    public async Task Twenty_batches_at_once_on_one_server_and_status_store_finish_with_exact_counts()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 2 });
        var runs = Enumerable.Range(0, 20).Select(b =>
        {
            var files = Enumerable.Range(0, 3).Select(i => f.WriteFile($"b{b}-f{i}.csv", EngineFixture.Rows(300 + i, (b * 10_000) + (i * 1000)))).ToArray();
            var schema = EngineFixture.Plants(b % 2 == 0 ? "shared_plants" : $"plants_{b}");
            return f.Engine.ImportAsync(new ImportRequest(schema, EngineFixture.PlantsFormat, files));
        }).ToArray();

        var results = await Task.WhenAll(runs);

        Assert.All(results, r => Assert.Equal(BatchStatus.Finished, r.Status));
        Assert.All(results, r => Assert.Equal(903, r.InsertCount));
        Assert.Equal(10 * 903, await f.ScalarAsync("SELECT count(*) FROM shared_plants"));
        Assert.Equal(60, await f.ScalarAsync("SELECT count(*) FROM ingest.import_file WHERE state = 'loaded'"));
        foreach (var result in results)
        {
            var timeline = await f.Recorder.GetTimelineAsync(result.BatchId);
            Assert.Equal(903, timeline[0].InsertCount);
        }
    }

    [SkippableFact]
    public async Task A_commit_whose_answer_was_lost_is_settled_by_the_ledger_never_by_loading_again()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 1 });
        var lost = f.WriteFile("lost-ack.csv", EngineFixture.Rows(700));
        var fired = 0;
        Action<string> loseTheAnswer = key =>
        {
            if (key == lost && Interlocked.Exchange(ref fired, 1) == 0)
            {
                throw new IOException("Connection reset while reading the COMMIT answer (injected)");
            }
        };
        f.Engine.Hooks = new LoadHooks { AfterCommit = loseTheAnswer };
        var result = await f.ImportAsync([lost]);

        Assert.Equal(1, fired);
        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(700, result.InsertCount);
        Assert.Equal(700, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(1, result.FilesLoaded);
        Assert.Contains($"{lost} was committed before the connection was lost; not loading it again", result.Log, StringComparison.Ordinal);
    }

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        // A bounded wait for a state change, not a timed assertion: it fails only if the state never comes.
        for (var i = 0; i < 1200; i++)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (NpgsqlException)
            {
                // The server may be restarting.
            }

            await Task.Delay(25);
        }

        Assert.Fail("The batch never reached the expected state.");
    }
}
