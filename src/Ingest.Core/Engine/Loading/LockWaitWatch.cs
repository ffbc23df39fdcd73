using System.Diagnostics;
using System.Globalization;
using Ingest.Status;
using Npgsql;

namespace Ingest.Engine.Loading;

/// <summary>
/// Says why a load stands still when the server makes its sessions wait for a lock: a <c>CREATE INDEX</c>, an
/// <c>ALTER TABLE</c>, a <c>VACUUM FULL</c>, a transaction left open or a prepared one that holds a lock on the table a
/// COPY must take. Without it the load shows 0 rows/s for as long as that lock is held, with nothing to say whose.
/// </summary>
/// <remarks>
/// Costs nothing while the load moves: only after <see cref="QuietFor"/> without a row or a byte does it ask the server
/// (once per <see cref="CheckEvery"/>) whether one of the load's sessions waits for a lock and which session is at the
/// root of the wait: one that holds the lock, not one queued ahead of the load for it (an <c>ALTER TABLE</c> waiting
/// behind an idle transaction). It names that session by process id, user, application and state, never by its query
/// (which may hold a secret), once per holder, and says when the wait is over. It runs on a loop of its own
/// (<see cref="RunAsync"/>), so a slow answer never holds up an abort poll or a lease renewal.
/// </remarks>
internal sealed class LockWaitWatch(NpgsqlDataSource dataSource, Action<BatchLogLevel, string> log)
{
    /// <summary>How long a load stands still before the watch asks why.</summary>
    public static readonly TimeSpan QuietFor = TimeSpan.FromSeconds(2);

    /// <summary>How often it asks again while the load stands still.</summary>
    public static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);

    // The sessions that block the load's waiting ones, followed up the chain of waits (a blocker may itself wait), with
    // the relation the load waits for (schema-qualified when not on the search path). A blocker that holds the lock
    // comes first, nearest first. Pid 0 is a prepared transaction. The relation-extension lock ('extend') is the
    // load's own streams taking turns, not a wait on anyone else. Other users' columns read null without pg_read_all_stats.
    private const string Query = """
        WITH RECURSIVE waiting AS (
            SELECT a.pid FROM pg_stat_activity a
            WHERE a.pid = ANY($1) AND a.wait_event_type = 'Lock' AND a.wait_event IS DISTINCT FROM 'extend'),
        chain(pid, depth) AS (
            SELECT DISTINCT blocker, 1 FROM waiting, unnest(pg_blocking_pids(waiting.pid)) AS blocker
            UNION
            SELECT blocker, chain.depth + 1 FROM chain, unnest(pg_blocking_pids(chain.pid)) AS blocker
            WHERE chain.depth < 4 AND chain.pid <> 0)
        SELECT c.pid, b.usename, b.application_name, b.state, extract(epoch FROM now() - b.xact_start)::bigint,
               (SELECT l.relation::regclass::text FROM pg_locks l
                WHERE l.pid IN (SELECT pid FROM waiting) AND NOT l.granted AND l.locktype = 'relation' LIMIT 1)
        FROM chain c
        LEFT JOIN pg_stat_activity b ON b.pid = c.pid
        WHERE c.pid <> ALL($1)
        ORDER BY b.wait_event_type IS NOT DISTINCT FROM 'Lock', c.depth, c.pid
        LIMIT 1
        """;

    private long _signature = -1;
    private long _quietSince;
    private long _lastCheck;
    private long _waitingSince;
    private int? _holder;

    /// <summary>
    /// Watches until <paramref name="cancellationToken"/> is cancelled: <paramref name="progress"/> is anything that grows
    /// while the load moves (rows and bytes), <paramref name="sessions"/> the server process ids of the load's open
    /// connections now. Never throws; when it stops, a wait still open is closed in the log (<see cref="End"/>).
    /// </summary>
    public async Task RunAsync(Func<long> progress, Func<int[]> sessions, CancellationToken cancellationToken)
    {
        // Stopped by disposing the timer, not by a cancelled wait: an exception costs a fresh process milliseconds.
        using var timer = new PeriodicTimer(Tick);
        using var stop = cancellationToken.Register(timer.Dispose);
        try
        {
            while (await timer.WaitForNextTickAsync(CancellationToken.None).ConfigureAwait(false))
            {
                await TickAsync(progress(), sessions, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The load ended while a check was in flight.
        }
        finally
        {
            End();
        }
    }

    /// <summary>One look: a database that cannot be asked, or an answer not understood, is left to the load's own retries.</summary>
    internal async Task TickAsync(long progress, Func<int[]> sessions, CancellationToken cancellationToken)
    {
        var now = Stopwatch.GetTimestamp();
        if (progress != _signature)
        {
            _signature = progress;
            _quietSince = now;
            EndWait("; loading goes on");
            return;
        }

        if (Stopwatch.GetElapsedTime(_quietSince, now) < QuietFor || Stopwatch.GetElapsedTime(_lastCheck, now) < CheckEvery)
        {
            return;
        }

        _lastCheck = now;
        var ids = sessions();
        if (ids.Length == 0)
        {
            return;
        }

        try
        {
            await CheckAsync(ids, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _ = ex; // Only a report: it must never stop the load it watches.
        }
    }

    /// <summary>The load is over (its watch stopped): a wait still open ended with it, and says so.</summary>
    private void End() => EndWait(string.Empty);

    private async Task CheckAsync(int[] sessions, CancellationToken cancellationToken)
    {
        using var command = dataSource.CreateCommand(Query);
        command.CommandTimeout = 5;
        command.Parameters.AddWithValue(sessions);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                EndWait("; loading goes on");
                return;
            }

            var holder = reader.GetInt32(0);
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
            var table = reader.IsDBNull(5) ? "a lock" : $"a lock on table {reader.GetString(5)}";
            var since = waited > TimeSpan.Zero ? string.Create(CultureInfo.InvariantCulture, $" (waiting {waited.TotalSeconds:0} s)") : string.Empty;
            var who = holder == 0
                ? "a prepared transaction (two-phase commit: see pg_prepared_xacts; COMMIT PREPARED or ROLLBACK PREPARED ends it)"
                : $"PostgreSQL session {holder.ToString(CultureInfo.InvariantCulture)}{Describe(Text(reader, 1), Text(reader, 2), Text(reader, 3), reader.IsDBNull(4) ? null : reader.GetInt64(4))}";
            log(BatchLogLevel.Warn, $"Loading waits for {table}{since}: {who} holds one that conflicts. The load goes on once it commits, rolls back or ends");
        }
    }

    private static string? Text(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private void EndWait(string after)
    {
        if (_holder is null)
        {
            return;
        }

        _holder = null;
        log(BatchLogLevel.Info, string.Create(CultureInfo.InvariantCulture, $"The lock wait ended after {Stopwatch.GetElapsedTime(_waitingSince).TotalSeconds:0} s{after}"));
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
