using Ingest.Benchmarks.Data;
using Ingest.Copy;
using Ingest.LocalPostgres;
using Ingest.Schema;
using Npgsql;

namespace Ingest.Benchmarks.Throughput;

/// <summary>The benchmark's database: the target table, reset before every run, and the server's settings.</summary>
internal sealed class BenchDatabase
{
    /// <summary>The settings that decide what a load costs on the server, reported with the results.</summary>
    private static readonly string[] ReportedSettings =
    [
        "fsync", "synchronous_commit", "full_page_writes", "wal_level", "shared_buffers", "max_wal_size", "checkpoint_timeout", "wal_compression",
    ];

    private static readonly string[] DurabilitySettings = ["fsync = on", "synchronous_commit = on", "full_page_writes = on"];

    private readonly TableLayout _layout;

    private BenchDatabase(string connectionString, TableLayout layout)
    {
        ConnectionString = connectionString;
        _layout = layout;
    }

    public string ConnectionString { get; }

    public DatasetSchema Schema => _layout.Schema;

    /// <summary>The quoted table name, e.g. <c>"bench_plants"</c>.</summary>
    public string Table => _layout.QualifiedName;

    /// <summary>Column list in table order, quoted, for psql's <c>\copy</c>.</summary>
    public string ColumnList => string.Join(", ", Schema.Fields.Select(f => Sql.Quote(f.ColumnName)));

    public static async Task<BenchDatabase> CreateAsync(PostgresServer server)
    {
        var connectionString = await server.CreateDatabaseAsync("ingest_bench");
        return new BenchDatabase(connectionString, new TableLayout(DatasetSchema.Parse(PlantCsv.DatasetDocument)));
    }

    /// <summary>
    /// Puts back PostgreSQL's defaults for durability where the throwaway cluster turned them off for tests
    /// (fsync, synchronous_commit, full_page_writes = off), so every loader pays for a real, crash-safe load.
    /// </summary>
    public async Task RestoreDurabilityAsync()
    {
        await using var connection = await OpenAsync();
        foreach (var setting in DurabilitySettings)
        {
            await ExecuteAsync(connection, $"ALTER SYSTEM SET {setting}");
        }

        await ExecuteAsync(connection, "SELECT pg_reload_conf()");

        // The reload is asynchronous: wait until a new session sees it.
        for (var i = 0; i < 50 && (await SettingsAsync())["fsync"] != "on"; i++)
        {
            await Task.Delay(100);
        }
    }

    public async Task<IReadOnlyDictionary<string, string>> SettingsAsync()
    {
        await using var connection = await OpenAsync();
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in ReportedSettings)
        {
            await using var command = new NpgsqlCommand($"SELECT current_setting('{name}')", connection);
            settings[name] = (string)(await command.ExecuteScalarAsync())!;
        }

        return settings;
    }

    public async Task<string> ServerVersionAsync()
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand("SELECT version()", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>A fresh, empty, logged table of the SPEC layout, and a checkpoint so no run pays for the previous one's dirty pages.</summary>
    public async Task ResetAsync()
    {
        await using var connection = await OpenAsync();
        await ExecuteAsync(connection, $"DROP TABLE IF EXISTS {Table}");
        await ExecuteAsync(connection, _layout.CreateTableSql());
        await ExecuteAsync(connection, "CHECKPOINT");
    }

    public async Task<long> CountAsync()
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT count(*) FROM {Table}", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync();
    }
}
