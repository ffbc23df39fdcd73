namespace Ingest.Status;

/// <summary>The answer to an abort request.</summary>
public enum AbortOutcome
{
    /// <summary>The request was recorded; the process running the batch stops it and records <c>aborted</c>.</summary>
    Requested,

    /// <summary>The batch had not started, so it was marked <c>aborted</c> at once.</summary>
    AbortedNow,

    /// <summary>The batch was already aborted.</summary>
    AlreadyAborted,

    /// <summary>The batch already ended <c>finished</c> or <c>error</c>; it cannot be aborted.</summary>
    AlreadyEnded,
}
