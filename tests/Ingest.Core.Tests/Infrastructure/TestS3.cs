namespace Ingest.Core.Tests.Infrastructure;

/// <summary>
/// The S3 server of a test process: one <see cref="S3rverServer"/>, started on first use and stopped when the
/// process exits; each test takes buckets of its own. s3rver missing is installed with npm on first use. Use it
/// from [SkippableFact]: without Node.js and npm (or when the install fails) a test is skipped locally, and fails
/// when <c>CI</c> is set (as <c>TestPostgres</c> does).
/// </summary>
public static class TestS3
{
    private static readonly Lazy<Task<S3rverServer>> Server = new(StartAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The process's server, started on first call; skips (or fails on CI) when none can be had.</summary>
    public static async Task<S3rverServer> GetServerAsync()
    {
        try
        {
            return await Server.Value;
        }
        catch (S3rverUnavailableException ex)
        {
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")))
            {
                throw new InvalidOperationException("CI is set, so a test that needs an S3 server fails instead of skipping. " + ex.Message, ex);
            }

            throw new SkipException("Skipped: no S3 server for tests. " + ex.Message);
        }
    }

    private static async Task<S3rverServer> StartAsync()
    {
        var server = await S3rverServer.StartAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
        return server;
    }
}
