using Npgsql;

namespace Ingest.Status;

/// <summary>
/// Keeps batch timelines in PostgreSQL, in schema <c>ingest</c> (<c>ingest.import_batch</c>,
/// <c>ingest.import_batch_status</c>), which it creates itself on first use. Several processes can
/// share batches through it: one runs a batch, another reads its status or asks for an abort.
/// Thread-safe; every call takes a pooled connection from the data source.
/// </summary>
public sealed partial class PostgresStatusRecorder : IStatusRecorder, IAsyncDisposable, IDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly TimeProvider _time;

    /// <summary>Creates a recorder on <paramref name="dataSource"/>, which the caller keeps and disposes.</summary>
    /// <param name="dataSource">Where the <c>ingest</c> schema lives (usually the target database).</param>
    /// <param name="timeProvider">The clock of <c>updatedAt</c> and <c>addedAt</c>; default the system clock.</param>
    public PostgresStatusRecorder(NpgsqlDataSource dataSource, TimeProvider? timeProvider = null)
        : this(dataSource, ownsDataSource: false, timeProvider)
    {
    }

    private PostgresStatusRecorder(NpgsqlDataSource dataSource, bool ownsDataSource, TimeProvider? timeProvider)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Creates a recorder with its own data source on <paramref name="connectionString"/>; disposing the recorder disposes it.</summary>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <param name="timeProvider">The clock of <c>updatedAt</c> and <c>addedAt</c>; default the system clock.</param>
    public static PostgresStatusRecorder Create(string connectionString, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return new PostgresStatusRecorder(NpgsqlDataSource.Create(ConnectionStrings.Normalize(connectionString)), ownsDataSource: true, timeProvider);
    }

    /// <inheritdoc />
    public async ValueTask<StatusRecord> CreateBatchAsync(NewBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentException.ThrowIfNullOrWhiteSpace(batch.DatasetId);
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var source = RecorderShared.RedactSource(batch.Source);
        var log = RecorderShared.RedactLog(batch.Log);
        var now = RecorderShared.Now(_time);

        // One statement: the batch row and its `created` entry exist together or not at all, and
        // ON CONFLICT turns a duplicate id into "no row" rather than an aborted transaction.
        var command = _dataSource.CreateCommand(
            """
            WITH b AS (
                INSERT INTO ingest.import_batch
                    (id, dataset_id, format, source, status, insert_count, invalid_count, log, added_at, updated_at, abort_requested)
                VALUES (@id, @dataset, @format, @source, @status, 0, 0, @log, @at, @at, false)
                ON CONFLICT (id) DO NOTHING
                RETURNING id)
            INSERT INTO ingest.import_batch_status (batch_id, status, insert_count, invalid_count, log, updated_at)
            SELECT id, @status, 0, 0, @log, @at FROM b
            """);
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.Add(Sql.Uuid("id", batch.Id));
        command.Parameters.Add(Sql.Text("dataset", batch.DatasetId));
        command.Parameters.Add(Sql.Jsonb("format", batch.Format));
        command.Parameters.Add(Sql.Jsonb("source", source));
        command.Parameters.Add(Sql.Text("status", BatchStatus.Created.ToWord()));
        command.Parameters.Add(Sql.Time("at", now));
        command.Parameters.Add(Sql.Text("log", log));
        var rows = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        if (rows == 0)
        {
            throw RecorderShared.DuplicateBatch(batch.Id);
        }

        return new StatusRecord(batch.Id, BatchStatus.Created, 0, 0, log, now);
    }

    /// <inheritdoc />
    public async ValueTask<StatusRecord> AppendStatusAsync(
        Guid batchId,
        BatchStatus status,
        long insertCount,
        long invalidCount,
        string? log,
        CancellationToken cancellationToken = default)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var record = new StatusRecord(batchId, status, insertCount, invalidCount, log, RecorderShared.Now(_time));
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        if (!await AppendAsync(connection, null, record, Fence(batchId), cancellationToken).ConfigureAwait(false))
        {
            throw Refused(batchId);
        }

        return record;
    }

    /// <inheritdoc />
    public async ValueTask UpdateProgressAsync(
        Guid batchId,
        long insertCount,
        long invalidCount,
        string? log,
        CancellationToken cancellationToken = default)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);

        // Live counts go on the batch record only (one row updated in place, cheap to do every
        // second); the engine appends a `started` snapshot to the timeline at most every few
        // seconds, so the timeline stays short however long the batch runs.
        var command = _dataSource.CreateCommand(
            """
            UPDATE ingest.import_batch
            SET insert_count = @inserted, invalid_count = @invalid, log = @log, updated_at = @at
            WHERE id = @id AND (@run IS NULL OR run = @run)
            """);
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.Add(Sql.Uuid("id", batchId));
        command.Parameters.Add(Fence(batchId));
        command.Parameters.Add(Sql.Bigint("inserted", insertCount));
        command.Parameters.Add(Sql.Bigint("invalid", invalidCount));
        command.Parameters.Add(Sql.Text("log", log));
        command.Parameters.Add(Sql.Time("at", RecorderShared.Now(_time)));
        if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
        {
            throw Refused(batchId);
        }
    }

    /// <summary>Disposes the data source when the recorder made it (<see cref="Create"/>).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }

        _schemaGate.Dispose();
    }

    /// <summary>Disposes the data source when the recorder made it (<see cref="Create"/>).</summary>
    public void Dispose()
    {
        if (_ownsDataSource)
        {
            _dataSource.Dispose();
        }

        _schemaGate.Dispose();
    }

    // Appends one timeline entry and makes it the batch's current state, in one statement: the
    // UPDATE locks the batch row, so concurrent appends to a batch take their seq in order.
    private static async Task<bool> AppendAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, StatusRecord record, NpgsqlParameter fence, CancellationToken cancellationToken)
    {
        var command = new NpgsqlCommand(
            """
            WITH b AS (
                UPDATE ingest.import_batch
                SET status = @status, insert_count = @inserted, invalid_count = @invalid, log = @log, updated_at = @at
                WHERE id = @id AND (@run IS NULL OR run = @run)
                RETURNING id)
            INSERT INTO ingest.import_batch_status (batch_id, status, insert_count, invalid_count, log, updated_at)
            SELECT id, @status, @inserted, @invalid, @log, @at FROM b
            """,
            connection,
            transaction);
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.Add(Sql.Uuid("id", record.Id));
        command.Parameters.Add(Sql.Text("status", record.Status.ToWord()));
        command.Parameters.Add(Sql.Bigint("inserted", record.InsertCount));
        command.Parameters.Add(Sql.Bigint("invalid", record.InvalidCount));
        command.Parameters.Add(Sql.Text("log", record.Log));
        command.Parameters.Add(Sql.Time("at", record.UpdatedAt));
        command.Parameters.Add(fence);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }
}
