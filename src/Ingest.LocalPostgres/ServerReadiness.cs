using Npgsql;

namespace Ingest.LocalPostgres;

/// <summary>Waits for a server to accept connections and makes databases on it.</summary>
internal static class ServerReadiness
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Connects until it works or <paramref name="patience"/> (default 30 s) runs out.</summary>
    public static async Task WaitAsync(string connectionString, CancellationToken cancellationToken, TimeSpan? patience = null)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = 5 };
        var deadline = DateTime.UtcNow + (patience ?? Patience);
        while (true)
        {
            try
            {
                var connection = new NpgsqlConnection(builder.ConnectionString);
                await using var disposeConnection = connection.ConfigureAwait(false);
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
            {
                throw new TimeoutException(
                    $"PostgreSQL at {builder.Host}:{builder.Port} did not accept connections within {(patience ?? Patience).TotalSeconds:0} s: {ex.Message}", ex);
            }
        }
    }

    /// <summary>Creates <paramref name="database"/> unless it exists (also when another process creates it at the same time).</summary>
    public static async Task EnsureDatabaseAsync(string connectionString, string database, CancellationToken cancellationToken)
    {
        // Unpooled: after a restart of the server, pooled connections of this process are dead.
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await using var disposeConnection = connection.ConfigureAwait(false);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection);
        exists.Parameters.Add(new NpgsqlParameter { Value = database });
        if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null)
        {
            return;
        }

        try
        {
            await CreateDatabaseAsync(connection, database, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
        }
    }

    /// <summary>CREATE DATABASE with the name quoted.</summary>
    public static async Task CreateDatabaseAsync(NpgsqlConnection connection, string database, CancellationToken cancellationToken)
    {
        using var create = new NpgsqlCommand($"CREATE DATABASE {QuoteIdentifier(database)}", connection);
        await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A name as a quoted SQL identifier.</summary>
    public static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
