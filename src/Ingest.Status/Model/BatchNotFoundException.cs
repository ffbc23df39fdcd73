namespace Ingest.Status;

/// <summary>Thrown when a batch id is unknown to a recorder.</summary>
public sealed class BatchNotFoundException : Exception
{
    /// <summary>Creates the exception for <paramref name="batchId"/>.</summary>
    public BatchNotFoundException(Guid batchId)
        : base($"Batch {batchId} was not found. Check the id, and that the same status store (connection) is used.")
    {
        BatchId = batchId;
    }

    /// <summary>The unknown batch id.</summary>
    public Guid BatchId { get; }
}
