using Ingest.Schema;

namespace Ingest;

/// <summary>An import batch: the dataset, the CSV format and the files (SPEC §2).</summary>
/// <param name="Dataset">The dataset (its table is created if missing).</param>
/// <param name="Format">Which CSV column holds each field.</param>
/// <param name="Sources">http(s) URLs, <c>file://</c> URLs or local paths; <c>.gz</c> is decompressed on the fly.</param>
public sealed record ImportRequest(DatasetSchema Dataset, CsvFormat Format, IReadOnlyList<string> Sources)
{
    /// <summary>
    /// The batch id. Running a request with the id of an earlier batch resumes it: only files not yet
    /// loaded are loaded. Default: a new id.
    /// </summary>
    public Guid? BatchId { get; init; }
}
