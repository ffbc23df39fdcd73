using Ingest.Schema;

namespace Ingest;

/// <summary>An import batch: the dataset, the CSV format and the files (SPEC §2).</summary>
/// <param name="Dataset">The dataset (its table is created if missing).</param>
/// <param name="Format">Which CSV column holds each field.</param>
/// <param name="Sources">
/// http(s) URLs, <c>file://</c> URLs, local paths, <c>s3://bucket/key</c> objects and <c>s3://bucket/prefix/**/*.csv.gz</c>
/// patterns (each listed once, when the batch first starts); <c>.gz</c> and <c>.zst</c> are decompressed on the fly.
/// </param>
public sealed record ImportRequest(DatasetSchema Dataset, CsvFormat Format, IReadOnlyList<string> Sources)
{
    /// <summary>
    /// The DFI object-store source (<c>source.s3</c>: bucket, prefix, glob and the role to assume): every object
    /// under the prefix that matches the glob is a file of the batch, listed once when the batch first starts,
    /// beside any <see cref="Sources"/>. Default none.
    /// </summary>
    public Sources.S3.S3BatchSource? S3 { get; init; }

    /// <summary>
    /// The batch id. Running a request with the id of an earlier batch resumes it: only files not yet
    /// loaded are loaded. Default: a new id.
    /// </summary>
    public Guid? BatchId { get; init; }
}
