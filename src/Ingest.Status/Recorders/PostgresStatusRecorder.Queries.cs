namespace Ingest.Status;

public sealed partial class PostgresStatusRecorder
{
    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<StatusRecord>> GetTimelineAsync(Guid batchId, CancellationToken cancellationToken = default)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);

        // seq, not updated_at: two entries in the same millisecond keep the order they were written in. The newest entry
        // of a running batch shows the batch's live counts and log (updated in place every second or so, where snapshots
        // are appended every few seconds), so the timeline's head is never behind the batch record.
        var command = _dataSource.CreateCommand(
            """
            SELECT s.status,
                   CASE WHEN live THEN b.insert_count ELSE s.insert_count END,
                   CASE WHEN live THEN b.invalid_count ELSE s.invalid_count END,
                   CASE WHEN live THEN b.log ELSE s.log END,
                   CASE WHEN live THEN greatest(b.updated_at, s.updated_at) ELSE s.updated_at END
            FROM (SELECT *, seq = max(seq) OVER () AS head FROM ingest.import_batch_status WHERE batch_id = @id) s
            LEFT JOIN ingest.import_batch b ON b.id = s.batch_id
            CROSS JOIN LATERAL (SELECT s.head AND s.status = 'started' AND b.status = 'started' AS live) l
            ORDER BY s.seq DESC
            """);
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.Add(Sql.Uuid("id", batchId));
        var timeline = new List<StatusRecord>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            timeline.Add(new StatusRecord(
                batchId,
                BatchStatusExtensions.ParseWord(reader.GetString(0)),
                reader.GetInt64(1),
                reader.GetInt64(2),
                Sql.ReadText(reader, 3),
                reader.GetFieldValue<DateTimeOffset>(4)));
        }

        // Every batch has its `created` entry, so an empty timeline means an unknown batch.
        return timeline.Count > 0 ? timeline : throw new BatchNotFoundException(batchId);
    }

    /// <inheritdoc />
    public async ValueTask<BatchRecord> GetBatchAsync(Guid batchId, CancellationToken cancellationToken = default) =>
        await TryGetBatchAsync(batchId, cancellationToken).ConfigureAwait(false) ?? throw new BatchNotFoundException(batchId);

    /// <inheritdoc />
    public async ValueTask<BatchRecord?> TryGetBatchAsync(Guid batchId, CancellationToken cancellationToken = default)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var command = _dataSource.CreateCommand(
            """
            SELECT dataset_id, format::text, source::text, status, insert_count, invalid_count, log, added_at, deleted_at
            FROM ingest.import_batch
            WHERE id = @id
            """);
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.Add(Sql.Uuid("id", batchId));
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new BatchRecord
        {
            Id = batchId,
            DatasetId = reader.GetString(0),
            Format = Sql.ReadJson(reader, 1),
            Source = Sql.ReadJson(reader, 2),
            Status = BatchStatusExtensions.ParseWord(reader.GetString(3)),
            InsertCount = reader.GetInt64(4),
            InvalidCount = reader.GetInt64(5),
            Log = Sql.ReadText(reader, 6),
            AddedAt = reader.GetFieldValue<DateTimeOffset>(7),
            DeletedAt = reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8),
        };
    }
}
