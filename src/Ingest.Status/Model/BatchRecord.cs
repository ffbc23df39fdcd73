using System.Text.Json;

namespace Ingest.Status;

/// <summary>
/// What "get batch info" returns (SPEC §3): <c>{ id, datasetId, format, source, status, insertCount,
/// invalidCount, log, addedAt, deletedAt }</c>. Counts and log are the live values of the batch.
/// </summary>
public sealed record BatchRecord
{
    /// <summary>The batch id.</summary>
    public required Guid Id { get; init; }

    /// <summary>The dataset the batch loads into.</summary>
    public required string DatasetId { get; init; }

    /// <summary>The batch's format object (<c>{"csv": {...}}</c>) as given.</summary>
    public JsonElement? Format { get; init; }

    /// <summary>The batch's source object (<c>{"urls": [...]}</c>) with every URL redacted.</summary>
    public JsonElement? Source { get; init; }

    /// <summary>The newest status.</summary>
    public required BatchStatus Status { get; init; }

    /// <summary>Rows inserted so far.</summary>
    public long InsertCount { get; init; }

    /// <summary>Rows skipped as invalid so far.</summary>
    public long InvalidCount { get; init; }

    /// <summary>The batch log so far; <see langword="null"/> while the batch is only <c>created</c>.</summary>
    public string? Log { get; init; }

    /// <summary>When the batch was created.</summary>
    public required DateTimeOffset AddedAt { get; init; }

    /// <summary>When the batch was deleted; <see langword="null"/> unless it was.</summary>
    public DateTimeOffset? DeletedAt { get; init; }
}
