using Ingest.Status;
using Npgsql;

namespace Ingest.Core.Tests.Engine;

/// <summary>
/// A load that the server holds back on a lock (a <c>CREATE INDEX</c> or a transaction left open on the table) says
/// which session holds it, instead of standing at 0 rows/s with nothing said, and loads every row once it is let go.
/// </summary>
public sealed class LockWaitTests
{
    [SkippableTheory]
    [InlineData("import")]
    [InlineData("worker")]
    public async Task A_load_held_back_by_another_sessions_lock_names_that_session_then_loads_when_it_lets_go(string host)
    {
        await using var f = await EngineFixture.CreateAsync();
        var first = await f.ImportAsync([f.WriteFile("first.csv", EngineFixture.Rows(10))]);
        Assert.Equal(BatchStatus.Finished, first.Status);

        // A SHARE lock (what CREATE INDEX takes) conflicts with the ROW EXCLUSIVE a COPY needs.
        await using var holder = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(f.ConnectionString) { ApplicationName = "index-builder", Pooling = false }.ConnectionString);
        await holder.OpenAsync();
        await using (var command = new NpgsqlCommand("BEGIN; LOCK TABLE plants IN SHARE MODE", holder))
        {
            await command.ExecuteNonQueryAsync();
        }

        var id = Guid.NewGuid();
        var second = f.WriteFile("second.csv", EngineFixture.Rows(100, 1000));
        var run = host == "import"
            ? f.ImportAsync([second], id)
            : RunWorkerAsync(f, await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [second]) { BatchId = id }));
        string log = string.Empty;
        await PostgresFaultTests.WaitUntilAsync(async () =>
        {
            log = (await f.Recorder.TryGetBatchAsync(id))?.Log ?? string.Empty;
            return log.Contains("Loading waits for a lock", StringComparison.Ordinal) || run.IsCompleted;
        });

        Assert.False(run.IsCompleted, "The load did not wait for the lock: " + log);
        Assert.Contains(
            $"WARN {(host == "worker" ? "[w1] " : string.Empty)}Loading waits for a lock on table plants: PostgreSQL session {holder.ProcessID} (user '{holder.UserName}', application 'index-builder', idle in transaction, its transaction open ",
            log,
            StringComparison.Ordinal);
        Assert.Contains("The load goes on once it commits, rolls back or ends", log, StringComparison.Ordinal);
        Assert.Equal(10, await f.ScalarAsync("SELECT count(*) FROM plants"));

        await using (var commit = new NpgsqlCommand("COMMIT", holder))
        {
            await commit.ExecuteNonQueryAsync();
        }

        var result = await run;
        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(100, result.InsertCount);
        Assert.Equal(110, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Matches(@"INFO (\[w1\] )?The lock wait ended after \d+ s", result.Log ?? string.Empty);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(result.Log ?? string.Empty, "Loading waits for a lock"));
    }

    [SkippableFact]
    public async Task Behind_an_alter_table_queued_for_the_lock_it_names_the_session_that_holds_it_not_the_alter()
    {
        await using var f = await EngineFixture.CreateAsync();
        Assert.Equal(BatchStatus.Finished, (await f.ImportAsync([f.WriteFile("first.csv", EngineFixture.Rows(10))])).Status);

        // An idle transaction that read the table holds ACCESS SHARE; an ALTER TABLE queues for ACCESS EXCLUSIVE behind
        // it, and the COPY queues behind the ALTER. The one to end is the idle reader: the ALTER only waits too.
        await using var reader = await OpenAsync(f, "reader");
        await ExecuteAsync(reader, "BEGIN; SELECT count(*) FROM plants");
        await using var alter = await OpenAsync(f, "migration");
        var altering = ExecuteAsync(alter, "ALTER TABLE plants ADD COLUMN note text");
        await PostgresFaultTests.WaitUntilAsync(async () => await f.ScalarAsync($"SELECT count(*) FROM pg_stat_activity WHERE pid = {alter.ProcessID} AND wait_event_type = 'Lock'") == 1);

        var id = Guid.NewGuid();
        var run = f.ImportAsync([f.WriteFile("second.csv", EngineFixture.Rows(100, 1000))], id);
        string log = string.Empty;
        await PostgresFaultTests.WaitUntilAsync(async () =>
        {
            log = (await f.Recorder.TryGetBatchAsync(id))?.Log ?? string.Empty;
            return log.Contains("Loading waits for a lock", StringComparison.Ordinal) || run.IsCompleted;
        });

        Assert.Contains($"PostgreSQL session {reader.ProcessID} (user '{reader.UserName}', application 'reader', idle in transaction", log, StringComparison.Ordinal);
        Assert.DoesNotContain($"session {alter.ProcessID}", log, StringComparison.Ordinal);

        // The reader lets go, the ALTER runs (the table gains a nullable column the load leaves NULL), then the load.
        await ExecuteAsync(reader, "ROLLBACK");
        await altering;
        var result = await run;
        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(110, await f.ScalarAsync("SELECT count(*) FROM plants"));
    }

    private static async Task<NpgsqlConnection> OpenAsync(EngineFixture f, string application)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(f.ConnectionString) { ApplicationName = application, Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<BatchResult> RunWorkerAsync(EngineFixture f, Guid id)
    {
        await f.Engine.RunWorkerAsync(new WorkerOptions { Name = "w1", Streams = 1, ExitWhenIdle = true, PollInterval = TimeSpan.FromMilliseconds(50) });
        var batch = await f.Recorder.GetBatchAsync(id);
        return new BatchResult { BatchId = id, Status = batch.Status, InsertCount = batch.InsertCount, InvalidCount = batch.InvalidCount, FilesLoaded = 0, FilesTotal = 1, RowErrors = [], Log = batch.Log };
    }
}
