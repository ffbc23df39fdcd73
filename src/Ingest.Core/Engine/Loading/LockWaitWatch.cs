using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Ingest.Status;
using Npgsql;

namespace Ingest.Engine.Loading;

/// <summary>
/// Says why a load stands still when the server makes its sessions wait for a lock: a <c>CREATE INDEX</c>, an
/// <c>ALTER TABLE</c>, a <c>VACUUM FULL</c> or a transaction left open that holds a lock on the table a COPY must
/// take. Without it the load shows 0 rows/s for as long as that session keeps its lock, with nothing to say which.
/// </summary>
/// <remarks>
/// Costs nothing while the load moves: only after <see cref="QuietFor"/> without a row or a byte does it ask
/// <c>pg_stat_activity</c> (once per <see cref="CheckEvery"/>) whether one of the load's own sessions waits for a lock
/// and who blocks it. It names the blocking session by process id, user, application and state, never by its query
/// (that may hold a secret), once per holder, and says when the wait is over.
/// </remarks>
internal sealed class LockWaitWatch(NpgsqlDataSource dataSource, Action<BatchLogLevel, string> log)
{
    /// <summary>How long a load stands still before the watch asks why.</summary>
    public static readonly TimeSpan QuietFor = TimeSpan.FromSeconds(2);

    /// <summary>How often it asks again while the load stands still.</summary>
    public static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(2);

    // The waiting session, the relation it waits for (none for a row's or a transaction's lock), and the first
    // session that blocks it. Columns of sessions of other users read null without pg_read_all_stats.
    private const string Query = """
        SELECT w.pid,
               (SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE l.pid = w.pid AND NOT l.granted LIMIT 1),
               b.pid, b.usename, b.application_name, b.state,
               extract(epoch FROM now() - b.xact_start)::bigint
        FROM pg_stat_activity w
        CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS blocker(pid)
        LEFT JOIN pg_stat_activity b ON b.pid = blocker.pid
        WHERE w.pid = ANY($1) AND w.wait_event_type = 'Lock'
        ORDER BY w.pid, b.pid
        LIMIT 1
        """;

    private readonly ConcurrentDictionary<int, byte> _sessions = new();
    private long _signature = -1;
    private long _quietSince;
    private long _lastCheck;
    private long _waitingSince;
    private int? _holder;

    /// <summary>A session of the load (its backend's process id), to look for among the waiting ones.</summary>
    public void Add(int processId)
    {
        if (processId != 0)
        {
            _sessions.TryAdd(processId, 0);
        }
    }

    /// <summary>
    /// One tick of the load's monitor. <paramref name="progress"/> is anything that grows while the load moves (rows
    /// and bytes); a database that cannot be asked is left to the load's own retries.
    /// </summary>
    public async Task TickAsync(long progress, CancellationToken cancellationToken)
    {
        var now = Stopwatch.GetTimestamp();
        if (progress != _signature)
        {
            _signature = progress;
            _quietSince = now;
            EndWait();
            return;
        }

        if (Stopwatch.GetElapsedTime(_quietSince, now) < QuietFor || Stopwatch.GetElapsedTime(_lastCheck, now) < CheckEvery || _sessions.IsEmpty)
        {
            return;
        }

        _lastCheck = now;
        try
        {
            await CheckAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
        {
            _ = ex; // The database is away or busy: the load's own retries say so.
        }
    }

    private async Task CheckAsync(CancellationToken cancellationToken)
    {
        using var command = dataSource.CreateCommand(Query);
        command.Parameters.AddWithValue(_sessions.Keys.ToArray());
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                EndWait();
                return;
            }

            var holder = reader.GetInt32(2);
            if (_holder == holder)
            {
                return;
            }

            var waited = _holder is null ? TimeSpan.Zero : Stopwatch.GetElapsedTime(_waitingSince);
            if (_holder is null)
            {
                // The load stood still for QuietFor before the first check: that is part of the wait.
                _waitingSince = _quietSince;
            }

            _holder = holder;
            var table = reader.IsDBNull(1) ? "a lock" : $"a lock on table \"{reader.GetString(1)}\"";
            var who = Describe(Text(reader, 3), Text(reader, 4), Text(reader, 5), reader.IsDBNull(6) ? null : reader.GetInt64(6));
            var since = waited > TimeSpan.Zero ? string.Create(CultureInfo.InvariantCulture, $" (waiting {waited.TotalSeconds:0} s)") : string.Empty;
            log(BatchLogLevel.Warn, $"Loading waits for {table}{since}: PostgreSQL session {holder.ToString(CultureInfo.InvariantCulture)}{who} holds one that conflicts. The load goes on once that session commits, rolls back or ends");
        }
    }

    private static string? Text(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>The load is over (its monitor stopped): a wait still open ended with it, and says so.</summary>
    public void End() => EndWait();

    private void EndWait()
    {
        if (_holder is null)
        {
            return;
        }

        _holder = null;
        log(BatchLogLevel.Info, string.Create(CultureInfo.InvariantCulture, $"The lock wait ended after {Stopwatch.GetElapsedTime(_waitingSince).TotalSeconds:0} s; loading goes on"));
    }

    private static string Describe(string? user, string? application, string? state, long? seconds)
    {
        var parts = new List<string>(4);
        if (user is not null)
        {
            parts.Add($"user '{user}'");
        }

        if (!string.IsNullOrEmpty(application))
        {
            parts.Add($"application '{application}'");
        }

        if (state is not null)
        {
            parts.Add(state);
        }

        if (seconds is { } open)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"its transaction open {open} s"));
        }

        return parts.Count == 0 ? string.Empty : $" ({string.Join(", ", parts)})";
    }
}
