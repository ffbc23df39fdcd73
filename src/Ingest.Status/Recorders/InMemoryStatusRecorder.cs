namespace Ingest.Status;

/// <summary>
/// Keeps batch timelines in the memory of one process. Thread-safe. Nothing survives the process,
/// and an abort can only be asked from inside it; use <see cref="PostgresStatusRecorder"/> to share
/// batches between processes.
/// </summary>
public sealed class InMemoryStatusRecorder : IStatusRecorder
{
    private readonly Lock _gate = new();
    private readonly Dictionary<Guid, Entry> _batches = [];
    private readonly TimeProvider _time;

    /// <summary>Creates an empty recorder.</summary>
    /// <param name="timeProvider">The clock of <c>updatedAt</c> and <c>addedAt</c>; default the system clock.</param>
    public InMemoryStatusRecorder(TimeProvider? timeProvider = null)
    {
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public ValueTask<StatusRecord> CreateBatchAsync(NewBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentException.ThrowIfNullOrWhiteSpace(batch.DatasetId);
        cancellationToken.ThrowIfCancellationRequested();
        var source = RecorderShared.RedactSource(batch.Source);
        var log = RecorderShared.RedactLog(batch.Log);
        var format = batch.Format?.Clone();
        lock (_gate)
        {
            if (_batches.ContainsKey(batch.Id))
            {
                throw RecorderShared.DuplicateBatch(batch.Id);
            }

            var now = RecorderShared.Now(_time);
            var record = new BatchRecord
            {
                Id = batch.Id,
                DatasetId = batch.DatasetId,
                Format = format,
                Source = source,
                Status = BatchStatus.Created,
                Log = log,
                AddedAt = now,
            };
            var created = new StatusRecord(batch.Id, BatchStatus.Created, 0, 0, log, now);
            _batches.Add(batch.Id, new Entry(record, created));
            return ValueTask.FromResult(created);
        }
    }

    /// <inheritdoc />
    public ValueTask<StatusRecord> AppendStatusAsync(
        Guid batchId,
        BatchStatus status,
        long insertCount,
        long invalidCount,
        string? log,
        CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var entry = Find(batchId);
            return ValueTask.FromResult(entry.Append(status, insertCount, invalidCount, log, RecorderShared.Now(_time)));
        }
    }

    /// <inheritdoc />
    public ValueTask UpdateProgressAsync(
        Guid batchId,
        long insertCount,
        long invalidCount,
        string? log,
        CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            // Live counts go on the batch record only (the timeline's newest `started` entry shows them when read); the
            // engine appends a `started` snapshot itself, at most every few seconds, so the timeline stays short.
            var entry = Find(batchId);
            entry.Batch = entry.Batch with { InsertCount = insertCount, InvalidCount = invalidCount, Log = log };
            entry.LiveAt = RecorderShared.Now(_time);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<StatusRecord>> GetTimelineAsync(Guid batchId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var entry = Find(batchId);
            var timeline = entry.Timeline;
            var newestFirst = new StatusRecord[timeline.Count];
            for (var i = 0; i < newestFirst.Length; i++)
            {
                newestFirst[i] = timeline[timeline.Count - 1 - i];
            }

            // The newest entry of a running batch shows its live counts and log, as the PostgreSQL recorder's does.
            if (entry.Batch.Status == BatchStatus.Started && newestFirst[0] is { Status: BatchStatus.Started } head)
            {
                var at = entry.LiveAt is { } live && live > head.UpdatedAt ? live : head.UpdatedAt;
                newestFirst[0] = head with { InsertCount = entry.Batch.InsertCount, InvalidCount = entry.Batch.InvalidCount, Log = entry.Batch.Log, UpdatedAt = at };
            }

            return ValueTask.FromResult<IReadOnlyList<StatusRecord>>(newestFirst);
        }
    }

    /// <inheritdoc />
    public ValueTask AddSourceUrlsAsync(Guid batchId, IReadOnlyList<string> urls, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(urls);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var entry = Find(batchId);
            entry.Batch = entry.Batch with { Source = RecorderShared.WithUrls(entry.Batch.Source, urls) };
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<BatchRecord> GetBatchAsync(Guid batchId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return ValueTask.FromResult(Find(batchId).Batch);
        }
    }

    /// <inheritdoc />
    public ValueTask<BatchRecord?> TryGetBatchAsync(Guid batchId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return ValueTask.FromResult(_batches.TryGetValue(batchId, out var entry) ? entry.Batch : null);
        }
    }

    /// <inheritdoc />
    public ValueTask<AbortOutcome> RequestAbortAsync(Guid batchId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var entry = Find(batchId);
            var outcome = RecorderShared.AbortOutcomeFor(entry.Batch.Status);
            if (outcome is AbortOutcome.AbortedNow or AbortOutcome.Requested)
            {
                entry.AbortRequested = true;
            }

            if (outcome == AbortOutcome.AbortedNow)
            {
                var batch = entry.Batch;
                var log = RecorderShared.AbortedLog(batch.Log, _time);
                entry.Append(BatchStatus.Aborted, batch.InsertCount, batch.InvalidCount, log, RecorderShared.Now(_time));
            }

            return ValueTask.FromResult(outcome);
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> IsAbortRequestedAsync(Guid batchId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return ValueTask.FromResult(Find(batchId).AbortRequested);
        }
    }

    /// <inheritdoc />
    public ValueTask ClearAbortRequestAsync(Guid batchId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            Find(batchId).AbortRequested = false;
        }

        return ValueTask.CompletedTask;
    }

    private Entry Find(Guid batchId) =>
        _batches.TryGetValue(batchId, out var entry) ? entry : throw new BatchNotFoundException(batchId);

    // Mutated only under _gate; records handed out are immutable snapshots.
    private sealed class Entry(BatchRecord batch, StatusRecord created)
    {
        public BatchRecord Batch { get; set; } = batch;

        public List<StatusRecord> Timeline { get; } = [created];

        public bool AbortRequested { get; set; }

        /// <summary>When live counts last reached the batch record.</summary>
        public DateTimeOffset? LiveAt { get; set; }

        public StatusRecord Append(BatchStatus status, long insertCount, long invalidCount, string? log, DateTimeOffset now)
        {
            var record = new StatusRecord(Batch.Id, status, insertCount, invalidCount, log, now);
            Timeline.Add(record);
            Batch = Batch with { Status = status, InsertCount = insertCount, InvalidCount = invalidCount, Log = log };
            return record;
        }
    }
}
