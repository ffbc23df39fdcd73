using Ingest.Copy;
using Npgsql;

namespace Ingest.Engine.Queue;

/// <summary>A file claimed by a worker under a lease.</summary>
/// <param name="BatchId">Its batch.</param>
/// <param name="FileKey">Its key in the ledger.</param>
/// <param name="Location">Where to read it (may hold credentials).</param>
/// <param name="Attempts">Claims of it so far, this one included.</param>
/// <param name="TakenFrom">The worker whose claim was taken over; null for a pending file.</param>
/// <param name="LeaseRanOut">True when that claim's lease had run out; false when it was taken early, its worker's process being gone.</param>
internal sealed record WorkClaim(Guid BatchId, string FileKey, string Location, int Attempts, string? TakenFrom = null, bool LeaseRanOut = false);

/// <summary>What a worker needs to load a queued batch's files, as <c>ingest.work_batch</c> keeps it.</summary>
/// <param name="Dataset">The dataset document (JSON).</param>
/// <param name="Format">The format (JSON).</param>
/// <param name="HeaderLines">Lines skipped at the top of each file.</param>
/// <param name="MaxRecord">The record size cap.</param>
/// <param name="RoleArn">The role the batch's objects are read as; null to read with the worker's own credentials.</param>
internal sealed record QueuedSettings(string Dataset, string Format, int HeaderLines, int MaxRecord, string? RoleArn);

/// <summary>
/// The work queue of submitted batches, kept in PostgreSQL itself: <c>ingest.work_batch</c> (what to
/// load and how) and <c>ingest.work_file</c> (one row per file: pending, claimed under a lease, done or
/// failed). Workers claim with <c>FOR UPDATE SKIP LOCKED</c>, so any number of them on any hosts share
/// a batch without a coordinator; a claim whose lease ran out (its worker died) is claimed again.
/// </summary>
internal static class WorkStore
{
    private const string CreateSql = """
        CREATE SCHEMA IF NOT EXISTS ingest;
        CREATE TABLE IF NOT EXISTS ingest.work_batch (
            batch_id     uuid PRIMARY KEY,
            dataset      jsonb NOT NULL,
            format       jsonb NOT NULL,
            header_lines integer NOT NULL DEFAULT 0,
            max_record   integer NOT NULL,
            submitted_at timestamptz NOT NULL DEFAULT now(),
            role_arn     text
        );
        -- Stores made before batches kept their role: the column is added in place, empty for their batches.
        ALTER TABLE ingest.work_batch ADD COLUMN IF NOT EXISTS role_arn text;
        CREATE TABLE IF NOT EXISTS ingest.work_file (
            batch_id    uuid NOT NULL REFERENCES ingest.work_batch (batch_id) ON DELETE CASCADE,
            file_key    text NOT NULL,
            location    text NOT NULL,
            position    integer NOT NULL,
            state       text NOT NULL DEFAULT 'pending',
            worker      text,
            lease_until timestamptz,
            attempts    integer NOT NULL DEFAULT 0,
            error       text,
            renewed_at  timestamptz,
            PRIMARY KEY (batch_id, file_key)
        );
        CREATE INDEX IF NOT EXISTS work_file_claimable ON ingest.work_file (state, lease_until);
        -- Stores made before claims kept when they were last renewed: added in place, empty for claims made before.
        ALTER TABLE ingest.work_file ADD COLUMN IF NOT EXISTS renewed_at timestamptz;
        """;

    // The last column added is there, so every table, index and column before it is too (the script runs whole).
    private const string ExistsSql = """
        SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('ingest.work_file') AND attname = 'renewed_at' AND NOT attisdropped)
        """;

    public static Task EnsureAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        Sql.EnsureAsync(dataSource, 2, ExistsSql, CreateSql, cancellationToken);

    /// <summary>
    /// Queues a batch: how to load it, the role its objects are read as (an ARN, never a credential: each worker
    /// assumes it with its own), and its files in order.
    /// </summary>
    public static async Task SubmitAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid batchId, QueuedSettings settings, IReadOnlyList<(string Key, string Location)> files, CancellationToken cancellationToken)
    {
        using (var batch = new NpgsqlCommand("INSERT INTO ingest.work_batch (batch_id, dataset, format, header_lines, max_record, role_arn) VALUES ($1, $2::jsonb, $3::jsonb, $4, $5, $6)", connection, transaction))
        {
            batch.Parameters.AddWithValue(batchId);
            batch.Parameters.AddWithValue(settings.Dataset);
            batch.Parameters.AddWithValue(settings.Format);
            batch.Parameters.AddWithValue(settings.HeaderLines);
            batch.Parameters.AddWithValue(settings.MaxRecord);
            batch.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = settings.RoleArn, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        for (var i = 0; i < files.Count; i++)
        {
            using var file = new NpgsqlCommand("INSERT INTO ingest.work_file (batch_id, file_key, location, position) VALUES ($1, $2, $3, $4)", connection, transaction);
            file.Parameters.AddWithValue(batchId);
            file.Parameters.AddWithValue(files[i].Key);
            file.Parameters.AddWithValue(files[i].Location);
            file.Parameters.AddWithValue(i);
            await file.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The settings a queued batch was submitted with.</summary>
    public static async Task<QueuedSettings> SettingsAsync(NpgsqlDataSource dataSource, Guid batchId, CancellationToken cancellationToken)
    {
        using var command = dataSource.CreateCommand("SELECT dataset::text, format::text, header_lines, max_record, role_arn FROM ingest.work_batch WHERE batch_id = $1");
        command.Parameters.AddWithValue(batchId);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidOperationException($"Batch {batchId} is not in the work queue.");
            }

            return new QueuedSettings(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt32(3), reader.IsDBNull(4) ? null : reader.GetString(4));
        }
    }

    /// <summary>Locks a queued batch's row until the transaction ends (a no-op when the batch was not queued or the queue does not exist).</summary>
    /// <returns>True when the batch is a queued one.</returns>
    public static async Task<bool> LockBatchAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid batchId, CancellationToken cancellationToken)
    {
        using (var exists = new NpgsqlCommand("SELECT to_regclass('ingest.work_batch') IS NOT NULL", connection, transaction))
        {
            if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true)
            {
                return false;
            }
        }

        using var command = new NpgsqlCommand("SELECT 1 FROM ingest.work_batch WHERE batch_id = $1 FOR UPDATE", connection, transaction);
        command.Parameters.AddWithValue(batchId);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null;
    }

    /// <summary>True when a queued batch has files pending or claimed: queue workers load it, no run of its own may.</summary>
    public static async Task<bool> HasOpenWorkAsync(NpgsqlDataSource dataSource, Guid batchId, CancellationToken cancellationToken)
    {
        using (var exists = dataSource.CreateCommand("SELECT to_regclass('ingest.work_file') IS NOT NULL"))
        {
            if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true)
            {
                return false;
            }
        }

        using var command = dataSource.CreateCommand("SELECT EXISTS (SELECT 1 FROM ingest.work_file WHERE batch_id = $1 AND state IN ('pending', 'claimed'))");
        command.Parameters.AddWithValue(batchId);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
    }

    /// <summary>
    /// Claims the next loadable file of any running batch, or returns null when there is none: a pending file, or
    /// one claimed by a worker whose lease ran out or whose process is gone (no session holds its
    /// <see cref="WorkerLiveness"/> lock). A missing lock proves a worker gone at once, unless every lock was dropped
    /// since it last renewed: a database restart (the server's start) or, as the claiming worker saw, the loss of its
    /// own session (<paramref name="lockRetakenAt"/>; a crash of one backend ends all of them without a new server
    /// start). A live worker takes its lock again within moments of that, before it renews (it renews only while it
    /// holds it), so such a claim is taken only once <see cref="WorkerLiveness.TakeoverGrace"/> has passed since.
    /// </summary>
    public static WorkClaim? TryClaim(NpgsqlConnection connection, string worker, TimeSpan lease, DateTime? lockRetakenAt)
    {
        using var command = new NpgsqlCommand($$"""
            UPDATE ingest.work_file w
            SET state = 'claimed', worker = $1, lease_until = now() + $2, renewed_at = now(), attempts = w.attempts + 1
            FROM (
                SELECT f.batch_id, f.file_key, CASE WHEN f.state = 'claimed' THEN f.worker END AS previous, f.lease_until < now() AS expired
                FROM ingest.work_file f
                JOIN ingest.import_batch b ON b.id = f.batch_id
                CROSS JOIN (SELECT greatest(pg_postmaster_start_time(), $3) AS at) dropped
                WHERE (f.state = 'pending' OR (f.state = 'claimed' AND (f.lease_until < now() OR (NOT EXISTS (
                    SELECT 1 FROM pg_locks l
                    WHERE l.locktype = 'advisory' AND l.classid = {{WorkerLiveness.LockClass}} AND l.objid = hashtext(f.worker)::oid AND l.objsubid = 2 AND l.granted)
                    AND (f.renewed_at > dropped.at OR now() > dropped.at + $4)))))
                  AND b.status IN ('created', 'started') AND NOT b.abort_requested
                ORDER BY f.batch_id, f.position
                LIMIT 1
                FOR UPDATE OF f SKIP LOCKED
            ) c
            WHERE w.batch_id = c.batch_id AND w.file_key = c.file_key
            RETURNING w.batch_id, w.file_key, w.location, w.attempts, c.previous, coalesce(c.expired, false)
            """, connection);
        command.Parameters.AddWithValue(worker);
        command.Parameters.AddWithValue(lease);
        command.Parameters.AddWithValue(NpgsqlTypes.NpgsqlDbType.TimestampTz, lockRetakenAt is { } at ? DateTime.SpecifyKind(at, DateTimeKind.Utc) : (object)DBNull.Value);
        command.Parameters.AddWithValue(WorkerLiveness.TakeoverGrace);
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? new WorkClaim(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetBoolean(5))
            : null;
    }

    /// <summary>
    /// Running batches with no file left to load or in flight, and the error of a file of theirs that failed: what a
    /// worker that died between its last file's COMMIT (or failure) and the batch's status leaves behind. Not a batch
    /// a run of its own holds (its lease, <see cref="Run.BatchLease"/>): one ended and run again in a process (an API
    /// host's PUT with its id) loads its files there, none through the queue, and ends itself.
    /// </summary>
    public static List<(Guid BatchId, string? Failure)> Settled(NpgsqlConnection connection)
    {
        using var command = new NpgsqlCommand(
            $$"""
            SELECT w.batch_id, (SELECT f.error FROM ingest.work_file f WHERE f.batch_id = w.batch_id AND f.state = 'failed' ORDER BY f.position LIMIT 1)
            FROM ingest.work_batch w
            JOIN ingest.import_batch b ON b.id = w.batch_id
            WHERE b.status = 'started' AND NOT b.abort_requested
              AND NOT EXISTS (SELECT 1 FROM ingest.work_file f WHERE f.batch_id = w.batch_id AND f.state IN ('pending', 'claimed'))
              AND NOT EXISTS (
                  SELECT 1 FROM pg_locks l
                  WHERE l.locktype = 'advisory' AND l.classid = {{Run.BatchLease.LockClass}} AND l.objid = hashtext(w.batch_id::text)::oid AND l.objsubid = 2 AND l.granted)
            LIMIT 16
            """,
            connection);
        var settled = new List<(Guid, string?)>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            settled.Add((reader.GetGuid(0), reader.IsDBNull(1) ? null : reader.GetString(1)));
        }

        return settled;
    }

    /// <summary>Extends the lease (the caller holds its liveness lock); false when the claim was lost (another worker took it).</summary>
    public static async Task<bool> RenewAsync(NpgsqlDataSource dataSource, WorkClaim claim, string worker, TimeSpan lease, CancellationToken cancellationToken)
    {
        using var command = dataSource.CreateCommand("UPDATE ingest.work_file SET lease_until = now() + $4, renewed_at = now() WHERE batch_id = $1 AND file_key = $2 AND worker = $3 AND state = 'claimed'");
        command.Parameters.AddWithValue(claim.BatchId);
        command.Parameters.AddWithValue(claim.FileKey);
        command.Parameters.AddWithValue(worker);
        command.Parameters.AddWithValue(lease);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <summary>
    /// Ends the claim as done inside the file's transaction; false when the claim was lost. A claim this worker
    /// already ended counts as ended here: a retry after a COMMIT whose answer was lost finds it so.
    /// </summary>
    public static bool CompleteInTransaction(NpgsqlConnection connection, NpgsqlTransaction transaction, WorkClaim claim, string worker)
    {
        using var command = new NpgsqlCommand(
            "UPDATE ingest.work_file SET state = 'done', lease_until = NULL, location = file_key WHERE batch_id = $1 AND file_key = $2 AND worker = $3 AND state IN ('claimed', 'done')",
            connection,
            transaction);
        command.Parameters.AddWithValue(claim.BatchId);
        command.Parameters.AddWithValue(claim.FileKey);
        command.Parameters.AddWithValue(worker);
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>
    /// A location may hold credentials (a presigned signature, a password in the URL) that only the loading of
    /// its file needs: once a file is done or failed, or its batch has ended, only its key (the location without
    /// them) stays, and files still pending are dropped, as no worker will load them now; so are claims whose
    /// worker died (lease run out). Files claimed right now keep theirs until their worker lets them go. Does
    /// nothing while the batch runs (a lost claim is not an end).
    /// </summary>
    public static async Task ForgetLocationsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid batchId, CancellationToken cancellationToken)
    {
        using var command = new NpgsqlCommand(
            """
            UPDATE ingest.work_file
            SET location = file_key,
                state = CASE WHEN state IN ('pending', 'claimed') THEN 'dropped' ELSE state END,
                worker = CASE WHEN state IN ('pending', 'claimed') THEN NULL ELSE worker END,
                lease_until = CASE WHEN state IN ('pending', 'claimed') THEN NULL ELSE lease_until END,
                error = CASE WHEN state IN ('pending', 'claimed') THEN 'the batch ended before this file was loaded' ELSE error END
            WHERE batch_id = $1 AND (state <> 'claimed' OR lease_until < now()) AND (location <> file_key OR state IN ('pending', 'claimed'))
              AND EXISTS (SELECT 1 FROM ingest.import_batch b WHERE b.id = $1 AND (b.status IN ('finished', 'error', 'aborted') OR b.abort_requested))
            """,
            connection,
            transaction);
        command.Parameters.AddWithValue(batchId);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Gives the claim back (pending, for any worker) or marks the file failed (forgetting its location's credentials).</summary>
    public static async Task ReleaseAsync(NpgsqlDataSource dataSource, WorkClaim claim, string worker, string? failure, CancellationToken cancellationToken)
    {
        using var command = dataSource.CreateCommand(
            """
            UPDATE ingest.work_file
            SET state = $4, worker = NULL, lease_until = NULL, error = $5, location = CASE WHEN $4 = 'failed' THEN file_key ELSE location END
            WHERE batch_id = $1 AND file_key = $2 AND worker = $3 AND state = 'claimed'
            """);
        command.Parameters.AddWithValue(claim.BatchId);
        command.Parameters.AddWithValue(claim.FileKey);
        command.Parameters.AddWithValue(worker);
        command.Parameters.AddWithValue(failure is null ? "pending" : "failed");
        command.Parameters.AddWithValue((object?)failure ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
