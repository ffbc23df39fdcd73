using Ingest.LocalPostgres;
using Npgsql;

namespace Ingest.Core.Tests.Engine;

/// <summary>
/// The server side of a restart at once: an <c>ingest import</c> run or a queue worker started while the server has no
/// free connection slot (<c>53300</c>), or while it is stopped and comes back seconds later (a supervisor starting
/// everything at once), waits for it under <see cref="IngestOptions.DatabaseOutageTolerance"/> and loads exactly; a
/// worker that cannot reach it past the tolerance stops with the fault instead of polling forever.
/// </summary>
public sealed class StartOutageTests
{
    [SkippableTheory]
    [InlineData("import", "no free slot")]
    [InlineData("import", "stopped")]
    [InlineData("worker", "no free slot")]
    [InlineData("worker", "stopped")]
    public async Task Started_while_the_database_is_out_of_reach_it_waits_for_it_and_loads_exactly(string host, string outage)
    {
        await using var pg = await PostgresServer.StartThrowawayAsync();
        Skip.If(!pg.Description.Contains("local cluster", StringComparison.Ordinal), $"Needs a local cluster to reconfigure and stop; the server is {pg.Description}.");
        var connectionString = await pg.CreateDatabaseAsync();
        if (outage == "no free slot")
        {
            await using (var admin = new NpgsqlConnection(connectionString))
            {
                await admin.OpenAsync();
                await using var set = new NpgsqlCommand("ALTER SYSTEM SET max_connections = 12", admin);
                await set.ExecuteNonQueryAsync();
            }

            NpgsqlConnection.ClearAllPools();
            await pg.RestartAsync();
        }

        await using var f = EngineFixture.On(connectionString, EngineFixture.FastOptions with { Streams = 2 });
        var files = Enumerable.Range(0, 3).Select(i => f.WriteFile($"s{i}.csv", EngineFixture.Rows(2000, i * 10_000))).ToArray();
        var id = Guid.NewGuid();

        // The worker runs on a data source of its own, as in a process of its own: nothing of the submit's is cached.
        await using var workerSide = EngineFixture.On(connectionString, EngineFixture.FastOptions);
        if (host == "worker")
        {
            id = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, files) { BatchId = id });
        }

        var hogs = new List<NpgsqlConnection>();
        Task restart = Task.CompletedTask;
        if (outage == "no free slot")
        {
            hogs = await TakeEverySlotAsync(connectionString);
        }
        else
        {
            // The test cluster commits asynchronously: what the submit wrote must reach the disk before the crash.
            await f.ScalarAsync("CHECKPOINT; SELECT 1");
            restart = pg.RestartAsync(TimeSpan.FromSeconds(4));
            await WaitUntilDownAsync(connectionString);
        }

        var run = host == "import"
            ? f.ImportAsync(files, id)
            : workerSide.Engine.RunWorkerAsync(new WorkerOptions { Name = "late", Streams = 2, ExitWhenIdle = true, PollInterval = TimeSpan.FromMilliseconds(50) });
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(run.IsCompleted, $"The {host} ended while the database was out of reach: {run.Exception?.InnerException?.Message}");
        foreach (var hog in hogs)
        {
            await hog.DisposeAsync();
        }

        await restart;
        await run;

        f.DataSource.Clear(); // Connections of the submit, from before the server stopped.
        await f.AssertFinishedWithEachRowOnceAsync(id, 6000, files: 3);
    }

    [Fact]
    public async Task A_run_that_cannot_reach_the_database_says_so_once_not_once_per_session_it_tries()
    {
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var engine = IngestEngine.Create(
            Infrastructure.ClosedPort.ConnectionString(),
            EngineFixture.FastOptions with { DatabaseOutageTolerance = TimeSpan.FromSeconds(1), OnLogLine = (_, _, line) => lines.Enqueue(line) });

        var error = await Assert.ThrowsAnyAsync<Exception>(() => engine.ImportAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, ["/nowhere/a.csv"])));

        Assert.True(Ingest.Engine.Loading.LoadPolicy.IsDatabaseUnavailable(error) || error is DatabaseUnavailableException, error.ToString());
        Assert.Single(lines, line => line.Contains("The database is out of reach", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task A_worker_that_cannot_reach_the_database_past_the_tolerance_stops_with_the_fault()
    {
        await using var pg = await PostgresServer.StartThrowawayAsync();
        Skip.If(!pg.Description.Contains("local cluster", StringComparison.Ordinal), $"Needs a local cluster to stop; the server is {pg.Description}.");
        var connectionString = await pg.CreateDatabaseAsync();
        await using var f = EngineFixture.On(connectionString, EngineFixture.FastOptions with { DatabaseOutageTolerance = TimeSpan.FromSeconds(1) });
        var worker = f.Engine.RunWorkerAsync(new WorkerOptions { Name = "cut-off", Streams = 2, PollInterval = TimeSpan.FromMilliseconds(50) });
        await PostgresFaultTests.WaitUntilAsync(async () => await f.ScalarAsync("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 7355610") == 1);

        // Down for far longer than the tolerance: the worker must give up while it is down, not poll on forever.
        var restart = pg.RestartAsync(TimeSpan.FromSeconds(10));
        var fault = await Assert.ThrowsAnyAsync<NpgsqlException>(() => worker.WaitAsync(TimeSpan.FromSeconds(60)));
        var stoppedWhileDown = !restart.IsCompleted;
        await restart;

        Assert.True(stoppedWhileDown, "the worker stopped only after the database was back");
        Assert.True(Ingest.Engine.Loading.LoadPolicy.IsDatabaseUnavailable(fault), fault.ToString());
    }

    /// <summary>Opens sessions until the server answers 53300 (too many clients); disposing them frees the slots.</summary>
    internal static async Task<List<NpgsqlConnection>> TakeEverySlotAsync(string connectionString)
    {
        var hogs = new List<NpgsqlConnection>();
        var full = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;
        try
        {
            while (true)
            {
                var hog = new NpgsqlConnection(full);
                await hog.OpenAsync();
                hogs.Add(hog);
            }
        }
        catch (PostgresException ex) when (ex.SqlState == "53300")
        {
            // Full.
        }

        Assert.NotEmpty(hogs);
        return hogs;
    }

    private static async Task WaitUntilDownAsync(string connectionString)
    {
        var single = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = 2 }.ConnectionString;
        for (var i = 0; i < 600; i++)
        {
            try
            {
                await using var probe = new NpgsqlConnection(single);
                await probe.OpenAsync();
            }
            catch (NpgsqlException)
            {
                return;
            }

            await Task.Delay(25);
        }

        Assert.Fail("The server never went down.");
    }
}
