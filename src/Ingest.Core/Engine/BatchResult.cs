using Ingest.Status;
using Ingest.Validation;

namespace Ingest;

/// <summary>How a batch ended.</summary>
public sealed record BatchResult
{
    /// <summary>The batch id (give it again to resume the batch).</summary>
    public required Guid BatchId { get; init; }

    /// <summary><c>finished</c>, <c>error</c> or <c>aborted</c>; <c>started</c> when the run was interrupted (see <see cref="Interrupted"/>).</summary>
    public required BatchStatus Status { get; init; }

    /// <summary>
    /// True when the run was stopped by its token under <see cref="CancellationMode.Interrupt"/>: files in flight
    /// rolled back and the batch is left to resume (its status stays <c>started</c>).
    /// </summary>
    public bool Interrupted { get; init; }

    /// <summary>Rows in the table from this batch: exactly the sum over its loaded files.</summary>
    public required long InsertCount { get; init; }

    /// <summary>Invalid rows skipped in the batch's loaded files.</summary>
    public required long InvalidCount { get; init; }

    /// <summary>Files of the batch that are loaded (now or by an earlier run).</summary>
    public required int FilesLoaded { get; init; }

    /// <summary>Files in the batch.</summary>
    public required int FilesTotal { get; init; }

    /// <summary>The first invalid rows (up to <see cref="IngestOptions.MaxRowErrorsKept"/>), with file, line, field and reason.</summary>
    public required IReadOnlyList<RowError> RowErrors { get; init; }

    /// <summary>What stopped the batch when it ended <c>error</c>; <see langword="null"/> otherwise.</summary>
    public string? Error { get; init; }

    /// <summary>The batch log.</summary>
    public string? Log { get; init; }
}
