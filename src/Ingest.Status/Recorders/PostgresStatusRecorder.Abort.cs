using Npgsql;

namespace Ingest.Status;

public sealed partial class PostgresStatusRecorder
{
    /// <inheritdoc />
    /// <remarks>One primary-key lookup on a pooled connection: cheap enough to poll every few hundred milliseconds.</remarks>
    public async ValueTask<bool> IsAbortRequestedAsync(Guid batchId, CancellationToken cancellationToken = default)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var command = _dataSource.CreateCommand("SELECT abort_requested FROM ingest.import_batch WHERE id = @id");
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.Add(Sql.Uuid("id", batchId));
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is bool requested ? requested : throw new BatchNotFoundException(batchId);
    }

    /// <inheritdoc />
    public async ValueTask ClearAbortRequestAsync(Guid batchId, CancellationToken cancellationToken = default)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var command = _dataSource.CreateCommand("UPDATE ingest.import_batch SET abort_requested = false WHERE id = @id AND (@run IS NULL OR run = @run)");
        await using var commandScope = command.ConfigureAwait(false);
        command.Parameters.Add(Sql.Uuid("id", batchId));
        command.Parameters.Add(Fence(batchId));
        if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
        {
            throw Refused(batchId);
        }
    }

    /// <inheritdoc />
    public async ValueTask<AbortOutcome> RequestAbortAsync(Guid batchId, CancellationToken cancellationToken = default)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);
        var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var transactionScope = transaction.ConfigureAwait(false);

        // FOR UPDATE: the status read and the change made from it are one step, so an abort racing
        // with the engine's `started` (or another abort) sees one order of events.
        BatchStatus status;
        long inserted, invalid;
        string? log;
        var select = new NpgsqlCommand(
            "SELECT status, insert_count, invalid_count, log FROM ingest.import_batch WHERE id = @id FOR UPDATE",
            connection,
            transaction);
        await using (select.ConfigureAwait(false))
        {
            select.Parameters.Add(Sql.Uuid("id", batchId));
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using var readerScope = reader.ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new BatchNotFoundException(batchId);
            }

            (status, inserted, invalid, log) =
                (BatchStatusExtensions.ParseWord(reader.GetString(0)), reader.GetInt64(1), reader.GetInt64(2), Sql.ReadText(reader, 3));
        }

        var outcome = RecorderShared.AbortOutcomeFor(status);
        if (outcome is AbortOutcome.Requested or AbortOutcome.AbortedNow)
        {
            var flag = new NpgsqlCommand(
                "UPDATE ingest.import_batch SET abort_requested = true WHERE id = @id", connection, transaction);
            await using var flagScope = flag.ConfigureAwait(false);
            flag.Parameters.Add(Sql.Uuid("id", batchId));
            await flag.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        if (outcome == AbortOutcome.AbortedNow)
        {
            var record = new StatusRecord(
                batchId, BatchStatus.Aborted, inserted, invalid, RecorderShared.AbortedLog(log, _time), RecorderShared.Now(_time));
            await AppendAsync(connection, transaction, record, Fence(batchId), cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return outcome;
    }
}
