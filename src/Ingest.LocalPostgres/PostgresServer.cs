using System.Collections.Concurrent;
using Npgsql;

namespace Ingest.LocalPostgres;

/// <summary>
/// A live PostgreSQL server for tests, benchmarks and sample hosts: a configured connection string,
/// a Testcontainers PostgreSQL where a Docker engine answers, or a cluster on this machine made with
/// initdb and pg_ctl. Start one with <see cref="StartThrowawayAsync(CancellationToken)"/> or
/// <see cref="StartEmbeddedAsync(CancellationToken)"/>.
/// </summary>
public sealed partial class PostgresServer : IAsyncDisposable
{
    /// <summary>The default database of the embedded server.</summary>
    internal const string EmbeddedDatabase = "ingest";

    private readonly Func<ValueTask>? _onDispose;
    private readonly bool _dropCreatedDatabases;
    private readonly ConcurrentQueue<string> _createdDatabases = new();
    private int _disposed;

    internal PostgresServer(string connectionString, string description, Func<ValueTask>? onDispose, bool dropCreatedDatabases)
    {
        ConnectionString = connectionString;
        Description = description;
        _onDispose = onDispose;
        _dropCreatedDatabases = dropCreatedDatabases;
    }

    /// <summary>
    /// The connection string of the server's default database: <c>postgres</c> for a throwaway server,
    /// <c>ingest</c> for the embedded local cluster, or whatever the configured connection string names.
    /// </summary>
    public string ConnectionString { get; }

    /// <summary>What this server is and where, for logs and messages, e.g. "local cluster at /tmp/ingest-pg-1a2b on port 41234". Never holds a password.</summary>
    public string Description { get; }

    /// <summary>The local cluster behind this server, when it is one (tests look at its folder).</summary>
    internal LocalCluster? Cluster { get; init; }

    /// <summary>
    /// Creates a new, empty database on this server and returns its connection string.
    /// </summary>
    /// <param name="name">The database's name, quoted as given; default: a unique <c>ingest_</c> name.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    /// <returns>The connection string of the new database, with the same host, user and password as <see cref="ConnectionString"/>.</returns>
    public async Task<string> CreateDatabaseAsync(string? name = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        name ??= "ingest_" + Guid.NewGuid().ToString("N");
        var connection = new NpgsqlConnection(ConnectionString);
        await using (connection.ConfigureAwait(false))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await ServerReadiness.CreateDatabaseAsync(connection, name, cancellationToken).ConfigureAwait(false);
        }

        _createdDatabases.Enqueue(name);
        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>
    /// Releases the server: a throwaway local cluster is stopped and its folder deleted, a throwaway container
    /// removed, databases made on a configured test server dropped. The embedded server is left running,
    /// so a later process finds the same server and data.
    /// </summary>
    /// <returns>A task that completes when the server is released.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Pooled idle connections to our databases would otherwise linger (and block DROP DATABASE).
        foreach (var database in _createdDatabases)
        {
            using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Database = database }.ConnectionString);
            NpgsqlConnection.ClearPool(connection);
        }

        if (_dropCreatedDatabases)
        {
            await DropCreatedDatabasesAsync().ConfigureAwait(false);
        }

        using (var defaultConnection = new NpgsqlConnection(ConnectionString))
        {
            NpgsqlConnection.ClearPool(defaultConnection);
        }

        if (_onDispose is not null)
        {
            await _onDispose().ConfigureAwait(false);
        }
    }

    private async Task DropCreatedDatabasesAsync()
    {
        try
        {
            var connection = new NpgsqlConnection(ConnectionString);
            await using var disposeConnection = connection.ConfigureAwait(false);
            await connection.OpenAsync().ConfigureAwait(false);
            while (_createdDatabases.TryDequeue(out var database))
            {
                using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {ServerReadiness.QuoteIdentifier(database)} WITH (FORCE)", connection);
                await drop.ExecuteNonQueryAsync().ConfigureAwait(false);
            }
        }
        catch (NpgsqlException)
        {
            // Best effort: a shared test server keeps a few stray databases rather than failing a test run at exit.
        }
    }
}
