using System.Text.Json;

namespace Ingest.Status;

/// <summary>What a recorder needs to create a batch.</summary>
/// <param name="Id">The batch id.</param>
/// <param name="DatasetId">The dataset the batch loads into.</param>
/// <param name="Format">The format object as given (<c>{"csv": {...}}</c>).</param>
/// <param name="Source">The source object (<c>{"urls": [...]}</c>); URLs are redacted before they are stored.</param>
public sealed record NewBatch(Guid Id, string DatasetId, JsonElement? Format, JsonElement? Source)
{
    /// <summary>
    /// Lines the batch's log starts with (<see cref="BatchLog"/>'s text, e.g. a warning found before any file
    /// loads), written with the batch in one step; redacted again on write. Default none.
    /// </summary>
    public string? Log { get; init; }
}
