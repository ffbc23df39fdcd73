namespace Ingest.Status;

/// <summary>
/// Keeps the timeline of import batches (SPEC §3). Implementations are thread-safe; the in-memory
/// recorder serves one process, the PostgreSQL recorder lets several processes share batches
/// (status from one, abort from another).
/// </summary>
/// <remarks>
/// Timeline entries are appended only on status changes (and, while <c>started</c>, as periodic
/// snapshots chosen by the caller). Live counts and log go through <see cref="UpdateProgressAsync"/>,
/// which updates the batch record without adding a timeline entry, so a running batch can publish its
/// counts often without flooding the timeline; the timeline's newest entry, while it is the running
/// batch's <c>started</c>, shows those live counts and log (its <c>updatedAt</c> moves with them).
/// </remarks>
public interface IStatusRecorder
{
    /// <summary>Creates the batch and its <c>created</c> entry (log <see langword="null"/>).</summary>
    /// <exception cref="InvalidOperationException">A batch with that id already exists.</exception>
    ValueTask<StatusRecord> CreateBatchAsync(NewBatch batch, CancellationToken cancellationToken = default);

    /// <summary>Appends a timeline entry and makes it the batch's current status, counts and log.</summary>
    /// <exception cref="BatchNotFoundException">The batch is unknown.</exception>
    ValueTask<StatusRecord> AppendStatusAsync(
        Guid batchId,
        BatchStatus status,
        long insertCount,
        long invalidCount,
        string? log,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends a timeline entry whose log is the batch's log with <paramref name="lines"/> (formatted, e.g. by
    /// <see cref="BatchLog.FormatLines"/>) added. This default reads the log and writes it back; a recorder that
    /// several processes share (<see cref="PostgresStatusRecorder"/>) does it in one atomic step, so lines they
    /// append at the same moment are kept.
    /// </summary>
    /// <exception cref="BatchNotFoundException">The batch is unknown.</exception>
    async ValueTask<StatusRecord> AppendStatusLinesAsync(
        Guid batchId, BatchStatus status, long insertCount, long invalidCount, string lines, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var log = (await GetBatchAsync(batchId, cancellationToken).ConfigureAwait(false)).Log;
        var text = Redactor.RedactText(lines);
        return await AppendStatusAsync(batchId, status, insertCount, invalidCount, string.IsNullOrEmpty(log) ? text : log + "\n" + text, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Adds <paramref name="urls"/> to the batch record's <c>source.urls</c> (each redacted): a batch run again with
    /// files it did not list loads them too, and its record then says so. This default keeps the first list (a
    /// recorder that cannot change a source); the built-in recorders add them.
    /// </summary>
    /// <exception cref="BatchNotFoundException">The batch is unknown.</exception>
    ValueTask AddSourceUrlsAsync(Guid batchId, IReadOnlyList<string> urls, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    /// <summary>
    /// Updates the live counts and log of the batch record without adding a timeline entry; the newest entry, when it
    /// is the running batch's <c>started</c>, shows them too.
    /// </summary>
    /// <exception cref="BatchNotFoundException">The batch is unknown.</exception>
    ValueTask UpdateProgressAsync(
        Guid batchId,
        long insertCount,
        long invalidCount,
        string? log,
        CancellationToken cancellationToken = default);

    /// <summary>The batch's timeline, newest first.</summary>
    /// <exception cref="BatchNotFoundException">The batch is unknown.</exception>
    ValueTask<IReadOnlyList<StatusRecord>> GetTimelineAsync(Guid batchId, CancellationToken cancellationToken = default);

    /// <summary>The batch record, with live counts and log.</summary>
    /// <exception cref="BatchNotFoundException">The batch is unknown.</exception>
    ValueTask<BatchRecord> GetBatchAsync(Guid batchId, CancellationToken cancellationToken = default);

    /// <summary>The batch record, or <see langword="null"/> when the batch is unknown.</summary>
    ValueTask<BatchRecord?> TryGetBatchAsync(Guid batchId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Asks for the batch to be aborted. A <c>created</c> batch is marked <c>aborted</c> at once; a
    /// <c>started</c> one is flagged, and the process running it stops and records <c>aborted</c>.
    /// </summary>
    /// <exception cref="BatchNotFoundException">The batch is unknown.</exception>
    ValueTask<AbortOutcome> RequestAbortAsync(Guid batchId, CancellationToken cancellationToken = default);

    /// <summary>True once an abort was requested for the batch (from this or any other process).</summary>
    /// <exception cref="BatchNotFoundException">The batch is unknown.</exception>
    ValueTask<bool> IsAbortRequestedAsync(Guid batchId, CancellationToken cancellationToken = default);

    /// <summary>Clears a pending abort request, so that a batch resumed later runs again.</summary>
    /// <exception cref="BatchNotFoundException">The batch is unknown.</exception>
    ValueTask ClearAbortRequestAsync(Guid batchId, CancellationToken cancellationToken = default);
}
