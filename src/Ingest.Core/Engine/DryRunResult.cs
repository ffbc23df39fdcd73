using System.Text.Json.Serialization;

namespace Ingest;

/// <summary>The result of a dry run (SPEC §4): <c>{"status": "success"|"error", "report": "...", "log": "..."}</c>.</summary>
public sealed record DryRunResult
{
    /// <summary><c>success</c>, or <c>error</c> when the format does not fit the dataset or a file cannot be read.</summary>
    [JsonPropertyName("status")]
    public required string Status { get; init; }

    /// <summary>One block per file: valid and invalid row counts, and per field the rows invalid for it.</summary>
    [JsonPropertyName("report")]
    public required string Report { get; init; }

    /// <summary>The dry run's log lines.</summary>
    [JsonPropertyName("log")]
    public required string Log { get; init; }

    /// <summary>True when <see cref="Status"/> is <c>success</c>.</summary>
    [JsonIgnore]
    public bool Succeeded => Status == "success";
}
