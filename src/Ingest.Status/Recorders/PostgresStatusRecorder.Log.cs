using Npgsql;

namespace Ingest.Status;

public sealed partial class PostgresStatusRecorder
{
    /// <summary>
    /// Appends lines to the batch record's log in one atomic statement, and sets its live counts when
    /// given. For several processes working on one batch (queue workers): each appends its own lines
    /// and none overwrites another's. The lines are redacted like every batch log line.
    /// </summary>
    /// <exception cref="BatchNotFoundException">The batch is unknown.</exception>
    public async ValueTask AppendLogAsync(Guid batchId, string lines, long? insertCount = null, long? invalidCount = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lines);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var command = _dataSource.CreateCommand("""
            UPDATE ingest.import_batch
            SET log = CASE WHEN log IS NULL OR log = '' THEN @lines ELSE log || E'\n' || @lines END,
                insert_count = coalesce(@inserted, insert_count),
                invalid_count = coalesce(@invalid, invalid_count),
                updated_at = now()
            WHERE id = @id
            """);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.Add(Sql.Uuid("id", batchId));
            command.Parameters.Add(Sql.Text("lines", Redactor.RedactText(lines)));
            command.Parameters.Add(new NpgsqlParameter("inserted", NpgsqlTypes.NpgsqlDbType.Bigint) { Value = (object?)insertCount ?? DBNull.Value });
            command.Parameters.Add(new NpgsqlParameter("invalid", NpgsqlTypes.NpgsqlDbType.Bigint) { Value = (object?)invalidCount ?? DBNull.Value });
            if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                throw new BatchNotFoundException(batchId);
            }
        }
    }

    /// <summary>
    /// As <see cref="AppendLogAsync"/>, inside the caller's transaction: the line becomes visible with what it
    /// reports (a file's rows and ledger row), and not at all if that rolls back. The transaction must already
    /// hold the batch row FOR NO KEY UPDATE (or stronger), so concurrent callers queue instead of deadlocking.
    /// </summary>
    internal static void AppendLogInTransaction(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid batchId, string lines)
    {
        using var command = new NpgsqlCommand(
            "UPDATE ingest.import_batch SET log = CASE WHEN log IS NULL OR log = '' THEN $2 ELSE log || E'\\n' || $2 END, updated_at = now() WHERE id = $1",
            connection,
            transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = batchId });
        command.Parameters.Add(new NpgsqlParameter { Value = Redactor.RedactText(lines) });
        if (command.ExecuteNonQuery() == 0)
        {
            throw new BatchNotFoundException(batchId);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// One atomic statement: lines other processes append at the same moment (<see cref="AppendLogAsync"/>) are
    /// kept, which reading the log, adding to it and writing it back would overwrite.
    /// </remarks>
    public async ValueTask<StatusRecord> AppendStatusLinesAsync(
        Guid batchId, BatchStatus status, long insertCount, long invalidCount, string lines, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lines);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var at = RecorderShared.Now(_time);
        var command = _dataSource.CreateCommand("""
            WITH b AS (
                UPDATE ingest.import_batch
                SET status = @status, insert_count = @inserted, invalid_count = @invalid, updated_at = @at,
                    log = CASE WHEN log IS NULL OR log = '' THEN @lines ELSE log || E'\n' || @lines END
                WHERE id = @id AND (@run IS NULL OR run = @run)
                RETURNING id, log)
            INSERT INTO ingest.import_batch_status (batch_id, status, insert_count, invalid_count, log, updated_at)
            SELECT id, @status, @inserted, @invalid, log, @at FROM b
            RETURNING log
            """);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.Add(Sql.Uuid("id", batchId));
            command.Parameters.Add(Sql.Text("status", status.ToWord()));
            command.Parameters.Add(Sql.Bigint("inserted", insertCount));
            command.Parameters.Add(Sql.Bigint("invalid", invalidCount));
            command.Parameters.Add(Sql.Text("lines", Redactor.RedactText(lines)));
            command.Parameters.Add(Sql.Time("at", at));
            command.Parameters.Add(Fence(batchId));
            var log = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return log is string text
                ? new StatusRecord(batchId, status, insertCount, invalidCount, text, at)
                : throw Refused(batchId);
        }
    }

    /// <inheritdoc />
    /// <remarks>One statement: appends to the stored array, so two processes adding at once both keep theirs.</remarks>
    public async ValueTask AddSourceUrlsAsync(Guid batchId, IReadOnlyList<string> urls, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(urls);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var command = _dataSource.CreateCommand("""
            UPDATE ingest.import_batch
            SET source = jsonb_set(
                CASE WHEN jsonb_typeof(source) = 'object' THEN source ELSE '{}'::jsonb END,
                '{urls}',
                CASE WHEN jsonb_typeof(source -> 'urls') = 'array' THEN source -> 'urls' ELSE '[]'::jsonb END || @urls)
            WHERE id = @id AND (@run IS NULL OR run = @run)
            """);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.Add(Sql.Uuid("id", batchId));
            command.Parameters.Add(new NpgsqlParameter("urls", NpgsqlTypes.NpgsqlDbType.Jsonb) { Value = JsonNodes.Strings(urls.Select(Redactor.RedactUrl)).ToJsonString() });
            command.Parameters.Add(Fence(batchId));
            if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                throw Refused(batchId);
            }
        }
    }

    /// <summary>
    /// Appends a <c>started</c> record of the batch's live counts and log to its timeline, in one statement,
    /// when the batch is <c>started</c>, its newest record is older than <paramref name="minInterval"/> (and, when that is not
    /// zero, for a batch started long ago than 1/<see cref="RecorderShared.SnapshotSpread"/> of its time since), and the counts or log changed since: what queue workers, which each load a part of the batch, use so the
    /// timeline shows it grow (SPEC §3) as a single run's snapshots do.
    /// </summary>
    /// <returns>True when a record was appended.</returns>
    public async ValueTask<bool> AppendStartedSnapshotAsync(Guid batchId, TimeSpan minInterval, CancellationToken cancellationToken = default)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var at = RecorderShared.Now(_time);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                // The batch row's lock orders a snapshot with the final statuses (written under it), so no 'started'
                // lands after 'finished', and with other snapshots, so two workers do not both append one. Skipped when
                // someone holds it: that writer is recording the batch's news itself (and it may be this very
                // thread's file transaction, which waiting would deadlock).
                using (var lockRow = new NpgsqlCommand(
                    "SELECT 1 FROM ingest.import_batch WHERE id = @id AND status = 'started' FOR NO KEY UPDATE SKIP LOCKED", connection, transaction))
                {
                    lockRow.Parameters.Add(Sql.Uuid("id", batchId));
                    if (await lockRow.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null)
                    {
                        return false;
                    }
                }

                // A statement of its own: it sees every record committed before the lock was had.
                using var insert = new NpgsqlCommand("""
                    INSERT INTO ingest.import_batch_status (batch_id, status, insert_count, invalid_count, log, updated_at)
                    SELECT b.id, 'started', b.insert_count, b.invalid_count, b.log, @at
                    FROM ingest.import_batch b
                    LEFT JOIN LATERAL (
                        SELECT s.insert_count, s.invalid_count, s.log, s.updated_at
                        FROM ingest.import_batch_status s WHERE s.batch_id = b.id ORDER BY s.seq DESC LIMIT 1) last ON true
                    LEFT JOIN LATERAL (
                        SELECT s.updated_at FROM ingest.import_batch_status s
                        WHERE s.batch_id = b.id AND s.status = 'started' ORDER BY s.seq LIMIT 1) first ON true
                    WHERE b.id = @id
                      AND (last.updated_at IS NULL OR last.updated_at <= @at - greatest(@interval, (@at - first.updated_at) / @spread))
                      AND (last.updated_at IS NULL OR (b.insert_count, b.invalid_count) IS DISTINCT FROM (last.insert_count, last.invalid_count)
                           OR b.log IS DISTINCT FROM last.log)
                    """, connection, transaction);
                insert.Parameters.Add(Sql.Uuid("id", batchId));
                insert.Parameters.Add(Sql.Time("at", at));
                insert.Parameters.Add(new NpgsqlParameter("interval", NpgsqlTypes.NpgsqlDbType.Interval) { Value = minInterval });
                // No spacing asked (zero): the caller wants this record (a worker stopping records what it leaves).
                insert.Parameters.Add(new NpgsqlParameter("spread", NpgsqlTypes.NpgsqlDbType.Integer) { Value = minInterval > TimeSpan.Zero ? RecorderShared.SnapshotSpread : DBNull.Value });
                var appended = await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return appended;
            }
        }
    }

    /// <summary>
    /// Adds to the live counts of a running batch (<c>created</c> or <c>started</c>) in one atomic statement,
    /// so several processes loading one batch each add what they load (and take back what rolls back);
    /// a batch that has ended keeps the counts its final status recorded.
    /// </summary>
    public async ValueTask AddProgressAsync(Guid batchId, long insertedDelta, long invalidDelta, CancellationToken cancellationToken = default)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var command = _dataSource.CreateCommand("""
            UPDATE ingest.import_batch
            SET insert_count = insert_count + @inserted, invalid_count = invalid_count + @invalid, updated_at = now()
            WHERE id = @id AND status IN ('created', 'started')
            """);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.Add(Sql.Uuid("id", batchId));
            command.Parameters.Add(Sql.Bigint("inserted", insertedDelta));
            command.Parameters.Add(Sql.Bigint("invalid", invalidDelta));
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
