namespace Ingest.Status;

/// <summary>The states of an import batch. Serialized as the lower-case word (<c>"finished"</c>).</summary>
public enum BatchStatus
{
    /// <summary>The batch was accepted; no file has been read yet.</summary>
    Created,

    /// <summary>The batch is loading files.</summary>
    Started,

    /// <summary>Every file was loaded (invalid rows skipped and counted).</summary>
    Finished,

    /// <summary>A file error stopped the batch; files loaded before it stay loaded.</summary>
    Error,

    /// <summary>The batch was aborted on request; files in flight were rolled back.</summary>
    Aborted,
}

/// <summary>Helpers for <see cref="BatchStatus"/>.</summary>
public static class BatchStatusExtensions
{
    /// <summary>True for the states a batch never leaves (<c>finished</c>, <c>error</c>, <c>aborted</c>).</summary>
    public static bool IsTerminal(this BatchStatus status) =>
        status is BatchStatus.Finished or BatchStatus.Error or BatchStatus.Aborted;

    /// <summary>The lower-case word of the status, as it appears in JSON and in the PostgreSQL store.</summary>
    public static string ToWord(this BatchStatus status) => status switch
    {
        BatchStatus.Created => "created",
        BatchStatus.Started => "started",
        BatchStatus.Finished => "finished",
        BatchStatus.Error => "error",
        BatchStatus.Aborted => "aborted",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown batch status."),
    };

    /// <summary>Parses the lower-case word of a status.</summary>
    /// <exception cref="FormatException">The word is not a batch status.</exception>
    public static BatchStatus ParseWord(string word) => word switch
    {
        "created" => BatchStatus.Created,
        "started" => BatchStatus.Started,
        "finished" => BatchStatus.Finished,
        "error" => BatchStatus.Error,
        "aborted" => BatchStatus.Aborted,
        _ => throw new FormatException($"'{word}' is not a batch status (created, started, finished, error, aborted)."),
    };
}
