using Npgsql;

namespace Ingest.Copy;

/// <summary>SQL text helpers: every identifier from input is quoted here and nowhere else.</summary>
internal static class Sql
{
    /// <summary>Quotes an identifier (<c>a"b</c> becomes <c>"a""b"</c>), so any name is safe in SQL.</summary>
    public static string Quote(string identifier)
    {
        if (identifier.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("An identifier cannot hold a NUL character.", nameof(identifier));
        }

        return string.Concat("\"", identifier.Replace("\"", "\"\"", StringComparison.Ordinal), "\"");
    }

    /// <summary>True for the errors a concurrent <c>CREATE ... IF NOT EXISTS</c> can raise; retrying settles them.</summary>
    public static bool IsCreateRace(Exception ex) =>
        ex is PostgresException { SqlState: "23505" or "42P06" or "42P07" or "42710" };

    /// <summary>
    /// Runs idempotent DDL (<c>CREATE ... IF NOT EXISTS</c>) in a transaction under an advisory lock, so that
    /// processes starting at once do not race on the catalogs; a race that still slips through is retried.
    /// </summary>
    public static Task EnsureAsync(NpgsqlDataSource dataSource, int lockKey, string createSql, CancellationToken cancellationToken) =>
        RetryCreateRaceAsync(async () =>
        {
            var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    using var command = new NpgsqlCommand($"SELECT pg_advisory_xact_lock(7355608, {lockKey});" + createSql, connection, transaction);
                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        });

    /// <summary>Runs <paramref name="action"/> again when a concurrent create raced it.</summary>
    public static async Task RetryCreateRaceAsync(Func<Task> action)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await action().ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (IsCreateRace(ex) && attempt < 5)
            {
                await Task.Delay(20 * attempt).ConfigureAwait(false);
            }
        }
    }
}
