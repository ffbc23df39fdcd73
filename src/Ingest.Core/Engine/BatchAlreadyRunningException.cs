namespace Ingest;

/// <summary>The batch is being run by another live process; two processes never run one batch at once.</summary>
public sealed class BatchAlreadyRunningException : InvalidOperationException
{
    /// <summary>Creates the exception for <paramref name="batchId"/>.</summary>
    public BatchAlreadyRunningException(Guid batchId)
        : base($"Batch {batchId} is running in another process. Wait for it to end, or abort it first (ingest abort {batchId}).")
    {
        BatchId = batchId;
    }

    /// <summary>The batch.</summary>
    public Guid BatchId { get; }
}
