namespace Ingest.Status;

/// <summary>
/// One entry of a batch's timeline, exactly the shape of SPEC §3:
/// <c>{ "id", "status", "insertCount", "invalidCount", "log", "updatedAt" }</c>.
/// </summary>
/// <param name="Id">The batch id.</param>
/// <param name="Status">The status this entry records.</param>
/// <param name="InsertCount">Rows inserted so far.</param>
/// <param name="InvalidCount">Rows skipped as invalid so far.</param>
/// <param name="Log">The batch log up to this entry; <see langword="null"/> on <c>created</c>.</param>
/// <param name="UpdatedAt">When this entry was recorded (UTC, millisecond precision).</param>
public sealed record StatusRecord(
    Guid Id,
    BatchStatus Status,
    long InsertCount,
    long InvalidCount,
    string? Log,
    DateTimeOffset UpdatedAt);
