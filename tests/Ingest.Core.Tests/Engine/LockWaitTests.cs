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
            $"WARN {(host == "worker" ? "[w1] " : string.Empty)}Loading waits for a lock on table \"plants\": PostgreSQL session {holder.ProcessID} (user '{holder.UserName}', application 'index-builder', idle in transaction, its transaction open ",
            log,
            StringComparison.Ordinal);
        Assert.Contains("The load goes on once that session commits, rolls back or ends", log, StringComparison.Ordinal);
        Assert.Equal(10, await f.ScalarAsync("SELECT count(*) FROM plants"));

        await using (var commit = new NpgsqlCommand("COMMIT", holder))
        {
            await commit.ExecuteNonQueryAsync();
        }

        var result = await run;
        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(100, result.InsertCount);
        Assert.Equal(110, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Matches(@"INFO (\[w1\] )?The lock wait ended after \d+ s; loading goes on", result.Log ?? string.Empty);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(result.Log ?? string.Empty, "Loading waits for a lock"));
    }

    private static async Task<BatchResult> RunWorkerAsync(EngineFixture f, Guid id)
    {
        await f.Engine.RunWorkerAsync(new WorkerOptions { Name = "w1", Streams = 1, ExitWhenIdle = true, PollInterval = TimeSpan.FromMilliseconds(50) });
        var batch = await f.Recorder.GetBatchAsync(id);
        return new BatchResult { BatchId = id, Status = batch.Status, InsertCount = batch.InsertCount, InvalidCount = batch.InvalidCount, FilesLoaded = 0, FilesTotal = 1, RowErrors = [], Log = batch.Log };
    }
}
