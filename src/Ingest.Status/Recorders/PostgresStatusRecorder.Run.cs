using Npgsql;
using NpgsqlTypes;

namespace Ingest.Status;

public sealed partial class PostgresStatusRecorder
{
    // The run a fenced recorder writes for: its batch and the run number it took (null: not fenced).
    private (Guid BatchId, long Run)? _fence;

    /// <summary>
    /// Starts a new run of the batch: the batch's run number goes up by one. Writes of an older run (a killed
    /// process's statement still in flight on the server when its batch was started again) are refused from now on
    /// by a recorder <see cref="FencedTo"/> that older number. Null when the batch does not exist.
    /// </summary>
    internal async ValueTask<long?> BeginRunAsync(Guid batchId, CancellationToken cancellationToken = default)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var command = _dataSource.CreateCommand("UPDATE ingest.import_batch SET run = run + 1 WHERE id = @id RETURNING run");
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.Add(Sql.Uuid("id", batchId));
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as long?;
        }
    }

    /// <summary>
    /// True while the batch has not ended and (fenced) no newer run of it has started: what a run that lost its lease
    /// with its database session (a restart) and took it again asks before it goes on, since meanwhile an abort may have
    /// found no run holding the batch and marked it, or another run may have taken it over.
    /// </summary>
    internal async ValueTask<bool> IsCurrentRunAsync(Guid batchId, CancellationToken cancellationToken = default)
    {
        var command = _dataSource.CreateCommand(
            "SELECT status NOT IN ('finished', 'error', 'aborted') AND (@run IS NULL OR run = @run) FROM ingest.import_batch WHERE id = @id");
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.Add(Sql.Uuid("id", batchId));
            command.Parameters.Add(Fence(batchId));
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
        }
    }

    /// <summary>
    /// A recorder on the same database whose writes to <paramref name="batchId"/> land only while its run number is
    /// still <paramref name="run"/>; a refused write throws <see cref="RunSupersededException"/>.
    /// </summary>
    internal PostgresStatusRecorder FencedTo(Guid batchId, long run) =>
        new(_dataSource, ownsDataSource: false, _time) { _fence = (batchId, run), _schemaReady = _schemaReady };

    private NpgsqlParameter Fence(Guid batchId) =>
        new("run", NpgsqlDbType.Bigint) { Value = _fence is { } fence && fence.BatchId == batchId ? fence.Run : DBNull.Value };

    // No row written: the batch is gone, or (fenced) a newer run of it has started.
    private Exception Refused(Guid batchId) =>
        _fence is { } fence && fence.BatchId == batchId ? new RunSupersededException(batchId, fence.Run) : new BatchNotFoundException(batchId);
}

/// <summary>A write of a run of a batch was refused: the batch has been started again by another run since.</summary>
internal sealed class RunSupersededException(Guid batchId, long run)
    : InvalidOperationException($"Batch {batchId} was started again by another run; this run (number {run}) no longer records its status.")
{
    public Guid BatchId { get; } = batchId;
}
