using System.Text.Json;
using Ingest.Sources;
using Ingest.Status;

namespace Ingest.Engine.Run;

/// <summary>
/// A batch id names one batch: one dataset and one column mapping. Running an existing id again resumes
/// that batch, so a request that differs in either is refused before anything is created or loaded: rows
/// read with another mapping would be counted under a record that does not describe them.
/// </summary>
internal static class BatchIdentity
{
    /// <exception cref="ArgumentException">The request is not the batch <paramref name="existing"/> records.</exception>
    public static void Check(BatchRecord? existing, ImportRequest request)
    {
        if (existing is null)
        {
            return;
        }

        var id = existing.Id;
        if (existing.DatasetId != request.Dataset.Name)
        {
            throw new ArgumentException($"Batch {id} belongs to dataset '{existing.DatasetId}', not '{request.Dataset.Name}'; use a new batch id.");
        }

        if (Columns(existing.Format) is { } recorded && !SameColumns(recorded, request.Format.Columns))
        {
            throw new ArgumentException(
                $"Batch {id} was created with the format {existing.Format!.Value.GetRawText()}, not {IngestEngine.FormatJson(request).GetRawText()}: "
                + "resume it with the same format, or load with this one under a new batch id.");
        }
    }

    /// <summary>
    /// The files of <paramref name="files"/> the batch's record does not list: running a batch id again with more
    /// files loads them too (only files not yet loaded load); the log says so and the record then lists them.
    /// </summary>
    public static IReadOnlyList<SourceFile> Unlisted(BatchRecord? existing, IReadOnlyList<SourceFile> files) =>
        Keys(existing?.Source) is { } listed ? [.. files.Where(f => !listed.Contains(f.Key))] : [];

    /// <summary>
    /// A run of an existing batch must name every file of it that is not loaded yet: the batch ends <c>finished</c> only
    /// when all its files are in, and the record keeps no URL's query string, so a file left out could not be fetched
    /// from the record. Files already loaded may be left out.
    /// </summary>
    /// <exception cref="ArgumentException">The batch lists files that are neither loaded nor in <paramref name="files"/>.</exception>
    public static void CheckNoneLeftOut(
        BatchRecord? existing,
        IReadOnlyList<SourceFile> files,
        IReadOnlyDictionary<string, (long Inserted, long Invalid)> loaded,
        IReadOnlyCollection<string>? listedObjects = null)
    {
        // The objects its patterns matched when it first started are files of the batch too (kept in ingest.import_listing).
        var objects = new HashSet<string>((listedObjects ?? []).Select(location => SourceFile.Parse(location).Key), StringComparer.Ordinal);
        var listed = Keys(existing?.Source) ?? new HashSet<string>(StringComparer.Ordinal);
        listed.UnionWith(objects);
        listed.ExceptWith(files.Select(f => f.Key));
        var missing = listed.Where(key => !loaded.ContainsKey(key)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
        {
            var shown = string.Join(", ", missing.Take(5)) + (missing.Count > 5 ? $" and {missing.Count - 5} more" : "");
            var patterns = missing.Any(objects.Contains) ? " (objects a pattern of the batch matched: give that pattern again)" : string.Empty;
            throw new ArgumentException(
                $"Batch {existing!.Id} lists {missing.Count} file(s) not loaded yet that this run does not give: {shown}{patterns}. "
                + "Give them too to resume the batch (URLs with their query strings, if they had one); files already loaded may be left out.");
        }
    }

    /// <summary>Whether the batch's record names an object-store pattern or source, whose listing is kept.</summary>
    public static bool MayHaveListing(BatchRecord? existing) =>
        existing?.Source is { ValueKind: JsonValueKind.Object } source
        && (source.TryGetProperty("s3", out _)
            || (source.TryGetProperty("urls", out var urls) && urls.ValueKind == JsonValueKind.Array
                && urls.EnumerateArray().Any(url => url.ValueKind == JsonValueKind.String && SourceFile.IsPattern(url.GetString()!))));

    // The mapping of a recorded {"csv": {...}}; null when the record holds none it can be compared with.
    private static Dictionary<string, int>? Columns(JsonElement? format)
    {
        if (format is not { ValueKind: JsonValueKind.Object } value
            || !value.TryGetProperty("csv", out var csv)
            || csv.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var columns = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var property in csv.EnumerateObject())
        {
            if (!property.Value.TryGetInt32(out var column))
            {
                return null;
            }

            columns[property.Name] = column;
        }

        return columns;
    }

    private static bool SameColumns(Dictionary<string, int> recorded, IReadOnlyDictionary<string, int> requested) =>
        recorded.Count == requested.Count
        && requested.All(pair => recorded.TryGetValue(pair.Key, out var column) && column == pair.Value);

    // The file keys of a recorded {"urls": [...]} (stored redacted, so each URL is its own key); null when there are none.
    private static HashSet<string>? Keys(JsonElement? source)
    {
        if (source is not { ValueKind: JsonValueKind.Object } value
            || !value.TryGetProperty("urls", out var urls)
            || urls.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var url in urls.EnumerateArray())
        {
            if (url.ValueKind != JsonValueKind.String)
            {
                return null;
            }

            if (SourceFile.IsPattern(url.GetString()!))
            {
                continue; // Its objects are the batch's stored listing, not entries of this list.
            }

            try
            {
                keys.Add(SourceFile.Parse(url.GetString()!).Key);
            }
            catch (ArgumentException)
            {
                return null; // A record this engine did not write: nothing to hold the request to.
            }
        }

        return keys.Count == 0 ? null : keys;
    }
}
