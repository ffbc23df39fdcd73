using Ingest.LocalPostgres;

namespace Ingest.Benchmarks.Throughput;

/// <summary>
/// What every end-to-end command starts with: the generated files, a PostgreSQL with durable settings
/// (unless kept as is), and the settings before and during the runs for the report.
/// </summary>
internal sealed class BenchSetup : IAsyncDisposable
{
    private BenchSetup(Workload workload, PostgresServer server, BenchDatabase database, IReadOnlyDictionary<string, string> before, IReadOnlyDictionary<string, string> settings, bool configured)
    {
        Workload = workload;
        Server = server;
        Database = database;
        Before = before;
        Settings = settings;
        Configured = configured;
    }

    public Workload Workload { get; }

    public PostgresServer Server { get; }

    public BenchDatabase Database { get; }

    public IReadOnlyDictionary<string, string> Before { get; }

    public IReadOnlyDictionary<string, string> Settings { get; }

    /// <summary>True when the server came from INGEST_TEST_POSTGRES and is left as configured.</summary>
    public bool Configured { get; }

    public static async Task<BenchSetup> CreateAsync(int rows, int files, bool asIs, Action<string> log)
    {
        log($"Generating {rows:N0} rows in {files} files");
        var workload = Workload.Create(rows, files);
        log($"  {workload.Directory}: {workload.CsvBytes / 1e6:0.0} MB CSV, {workload.BinBytes / 1e6:0.0} MB binary COPY");
        log("Starting PostgreSQL (INGEST_TEST_POSTGRES, else Testcontainers, else a throwaway local cluster)");
        var server = await PostgresServer.StartThrowawayAsync();
        var database = await BenchDatabase.CreateAsync(server);
        var before = await database.SettingsAsync();
        var configured = !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("INGEST_TEST_POSTGRES"));
        if (!asIs && !configured)
        {
            await database.RestoreDurabilityAsync();
        }

        var settings = await database.SettingsAsync();
        log($"  {server.Description}; fsync={settings["fsync"]}, synchronous_commit={settings["synchronous_commit"]}, full_page_writes={settings["full_page_writes"]}");
        return new BenchSetup(workload, server, database, before, settings, configured);
    }

    /// <summary>The sentence of the report that says which durability settings were in force.</summary>
    public static string DurabilityNote(bool configured, bool asIs) =>
        configured
            ? "The server came from INGEST_TEST_POSTGRES and was left exactly as configured."
            : asIs
                ? "The throwaway cluster's test settings were kept (--as-is): fsync, synchronous_commit and full_page_writes off, so no load waited for the disk."
                : "The throwaway cluster of Ingest.LocalPostgres starts with fsync, synchronous_commit and full_page_writes off (speed over durability, for tests); the runner set them back to PostgreSQL's defaults with ALTER SYSTEM + pg_reload_conf() before any load, so every load paid for durability.";

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Workload.Dispose();
    }
}
