using Ingest.Validation;

namespace Ingest.Engine.Loading;

/// <summary>The batch log's lines for invalid rows: the first <see cref="IngestOptions.MaxRowErrorsLogged"/> of each file, then one line saying the rest are only counted.</summary>
internal static class InvalidRowLog
{
    /// <summary>The lines for a file's <paramref name="nth"/> logged invalid row (1-based, at most <paramref name="max"/>).</summary>
    public static IEnumerable<string> Lines(RowError error, int nth, int max)
    {
        yield return $"Invalid row skipped: {error}";
        if (nth == max)
        {
            yield return $"Further invalid rows of {error.FileKey} are skipped and counted without a log line each";
        }
    }
}
