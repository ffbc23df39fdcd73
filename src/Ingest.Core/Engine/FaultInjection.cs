namespace Ingest.Engine;

/// <summary>
/// Test seams for faults that cannot be provoked from outside at an exact moment (after the runtime's
/// pipes and the network, which tests break for real). Null in production; set only by tests, keyed by
/// file so parallel tests do not see each other's faults.
/// </summary>
internal static class FaultInjection
{
    /// <summary>Runs right after a file's COMMIT succeeded; throwing here is a COMMIT whose answer was lost.</summary>
    public static Action<string>? AfterCommit { get; set; }

    /// <summary>Runs when a queue worker has read a batch under its lock and is about to record a status for it.</summary>
    public static Action<Guid>? AfterBatchRead { get; set; }
}
