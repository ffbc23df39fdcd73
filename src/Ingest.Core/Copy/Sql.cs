using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
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

    // Tables known to exist, per data source and DDL key: a long-running host checks its tables once, not per batch.
    private static readonly ConditionalWeakTable<NpgsqlDataSource, ConcurrentDictionary<int, bool>> Ready = [];

    /// <summary>
    /// Makes sure the objects of <paramref name="createSql"/> exist: one catalog query (<paramref name="existsSql"/>,
    /// true when they all do) and nothing more in the usual case, else the idempotent DDL (<c>CREATE ... IF NOT
    /// EXISTS</c>) in a transaction under an advisory lock, so that processes starting at once do not race on the
    /// catalogs; a race that still slips through is retried. DDL on every start cost a COMMIT (a WAL flush) before
    /// the first row.
    /// </summary>
    public static Task EnsureAsync(NpgsqlDataSource dataSource, int lockKey, string existsSql, string createSql, CancellationToken cancellationToken) =>
        EnsureAsync(dataSource, lockKey, existsSql, createSql, alsoAsk: null, cancellationToken);

    /// <summary>
    /// As above, and asks <paramref name="alsoAsk"/> (a boolean SQL expression: another component's own catalog check)
    /// in the same query, so a start pays one round trip for both. Returns its answer; false when it was not asked
    /// (null, or this data source's objects were already known to exist and no query was sent).
    /// </summary>
    public static async Task<bool> EnsureAsync(NpgsqlDataSource dataSource, int lockKey, string existsSql, string createSql, string? alsoAsk, CancellationToken cancellationToken)
    {
        var ready = Ready.GetOrCreateValue(dataSource);
        if (ready.ContainsKey(lockKey))
        {
            return false;
        }

        var answer = false;
        using (var exists = dataSource.CreateCommand(alsoAsk is null ? existsSql : $"SELECT ({existsSql}), ({alsoAsk})"))
        {
            var reader = await exists.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var row = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                answer = row && alsoAsk is not null && reader.GetFieldValue<bool?>(1) == true;
                if (row && reader.GetFieldValue<bool?>(0) == true)
                {
                    ready[lockKey] = true;
                    return answer;
                }
            }
        }

        await RetryCreateRaceAsync(async () =>
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
        }).ConfigureAwait(false);
        ready[lockKey] = true;
        return answer;
    }

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
