using Ingest.LocalPostgres;

namespace Ingest.Testing;

/// <summary>
/// The PostgreSQL of a test process: one server (from <c>INGEST_TEST_POSTGRES</c>, else Testcontainers, else a
/// throwaway local cluster), started on first use and disposed when the process exits. Each test takes a fresh
/// database, so tests run in parallel without seeing each other. Use it from [SkippableFact]/[SkippableTheory]:
/// without a server a test is skipped locally and fails when <c>CI</c> is set.
/// </summary>
public static class TestPostgres
{
    private static readonly Lazy<Task<PostgresServer>> Server = new(StartAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Creates a fresh database on the process's server and returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken = default)
    {
        var server = await GetServerAsync(cancellationToken);
        return await server.CreateDatabaseAsync(cancellationToken: cancellationToken);
    }

    /// <summary>The process's server, started on first call; skips (or fails on CI) when none can be had.</summary>
    public static async Task<PostgresServer> GetServerAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            // The start is shared: one caller's cancellation must not cancel it for everyone, so only the wait is cancellable.
            return await Server.Value.WaitAsync(cancellationToken);
        }
        catch (PostgresUnavailableException ex)
        {
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")))
            {
                throw new InvalidOperationException("CI is set, so a test that needs PostgreSQL fails instead of skipping. " + ex.Message, ex);
            }

            throw new SkipException("Skipped: no PostgreSQL for tests. " + ex.Message);
        }
    }

    private static async Task<PostgresServer> StartAsync()
    {
        var server = await PostgresServer.StartThrowawayAsync();
        // Best effort: test hosts may be killed before this finishes; a local cluster's watchdog then cleans up.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(30));
        return server;
    }
}
