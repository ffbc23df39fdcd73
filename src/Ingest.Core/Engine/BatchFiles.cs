using Ingest.Sources;
using Ingest.Sources.S3;

namespace Ingest.Engine;

/// <summary>The files of a batch, from the sources its request names: each file once, within the cap.</summary>
internal static class BatchFiles
{
    /// <summary>An object-store listing of a batch: its key (the pattern as a location) and how to list it.</summary>
    /// <param name="Key">The pattern, as an <c>s3://</c> location; a batch's stored listing is found by it.</param>
    /// <param name="List">Lists the objects it matches, in natural order.</param>
    public readonly record struct Listing(string Key, Func<SourceOpener, CancellationToken, Task<IReadOnlyList<string>>> List);

    /// <summary>The object-store listings of a request: each <c>s3://</c> pattern among its sources, then its <see cref="ImportRequest.S3"/> source.</summary>
    public static IEnumerable<Listing> Listings(ImportRequest request)
    {
        foreach (var source in request.Sources)
        {
            if (SourceFile.IsPattern(source))
            {
                yield return new Listing(source, (opener, token) => opener.ExpandAsync([source], token));
            }
        }

        if (request.S3 is { } s3)
        {
            yield return new Listing(s3.ToPattern(), (opener, token) => opener.ExpandAsync(s3, token));
        }
    }

    /// <summary>
    /// The request's locations with each listing replaced by the objects <paramref name="expand"/> gives for it, in
    /// place; an object an earlier source already named is not repeated.
    /// </summary>
    /// <exception cref="SourceListingException">A pattern matches nothing, or its bucket cannot be listed.</exception>
    public static async Task<List<string>> LocationsAsync(ImportRequest request, Func<Listing, Task<IReadOnlyList<string>>> expand)
    {
        var locations = new List<string>(request.Sources.Count);
        var named = new HashSet<string>(StringComparer.Ordinal);
        using var listings = Listings(request).GetEnumerator();
        foreach (var source in request.Sources)
        {
            if (!SourceFile.IsPattern(source))
            {
                locations.Add(source);
                named.Add(source);
                continue;
            }

            listings.MoveNext(); // The listing of this very pattern: Listings yields them in the same order.
            AddNew(await expand(listings.Current).ConfigureAwait(false));
        }

        while (listings.MoveNext())
        {
            AddNew(await expand(listings.Current).ConfigureAwait(false));
        }

        return locations;

        void AddNew(IReadOnlyList<string> objects)
        {
            foreach (var location in objects)
            {
                if (named.Add(location))
                {
                    locations.Add(location);
                }
            }
        }
    }

    /// <summary>The request's sources that name files themselves (not patterns): those a batch record lists one by one.</summary>
    public static IEnumerable<string> Direct(ImportRequest request) => request.Sources.Where(s => !SourceFile.IsPattern(s));

    /// <summary>The role a batch reads its objects as: its DFI source's <c>RoleArn</c>, else the host's <see cref="S3Settings.RoleArn"/>; null for none.</summary>
    public static string? RoleOf(SourceOptions options, ImportRequest request) => request.S3?.RoleArn ?? options.S3.RoleArn;

    /// <summary>
    /// The source options of one batch: its role (<see cref="RoleOf"/>, if any) assumed with a session name naming the
    /// batch, so the bucket owner's CloudTrail shows which import read their objects.
    /// </summary>
    public static SourceOptions SourceOptionsFor(SourceOptions options, ImportRequest request, Guid batchId) =>
        SourceOptionsFor(options, RoleOf(options, request), S3Settings.SessionNameFor(batchId));

    /// <summary>
    /// The source options that read as <paramref name="roleArn"/> with the session <paramref name="sessionName"/> (unless
    /// the host set its own <see cref="S3Settings.RoleSessionName"/>); <paramref name="options"/> as they are for no role.
    /// The host's external id, endpoints and credentials stay.
    /// </summary>
    public static SourceOptions SourceOptionsFor(SourceOptions options, string? roleArn, string sessionName) =>
        roleArn is null
            ? options
            : options with { S3 = options.S3 with { RoleArn = roleArn, RoleSessionName = options.S3.RoleSessionName ?? sessionName } };

    /// <summary>Refuses a batch over <see cref="IngestOptions.MaxFilesPerBatch"/> before anything is read.</summary>
    public static void CheckCount(int count, int maxFiles)
    {
        if (count > maxFiles)
        {
            throw new ArgumentException($"The batch names {count} files; the cap is {maxFiles} (IngestOptions.MaxFilesPerBatch). Split it into several batches.");
        }
    }

    /// <summary>
    /// What can be wrong with a request's sources before anything is listed or read: none given, too many, or one
    /// that is no URL or path Ingest reads.
    /// </summary>
    /// <exception cref="ArgumentException">Says which, and what to give instead.</exception>
    public static void CheckSources(ImportRequest request, int maxFiles)
    {
        if (request.Sources.Count == 0 && request.S3 is null)
        {
            throw new ArgumentException("The batch has no files: give at least one URL or path.");
        }

        CheckCount(request.Sources.Count, maxFiles);
        foreach (var source in Direct(request))
        {
            _ = SourceFile.Parse(source);
        }
    }

    /// <summary>
    /// The batch's files, each key once, and a warning for each source dropped as a repeat: the ledger keys a
    /// file by its URL without the query string, so two URLs differing only there are one file.
    /// </summary>
    public static (List<SourceFile> Files, List<string> Warnings) Distinct(IReadOnlyList<string> sources, int maxFiles)
    {
        if (sources.Count == 0)
        {
            throw new ArgumentException("The batch has no files: give at least one URL or path.");
        }

        CheckCount(sources.Count, maxFiles);

        var files = new List<SourceFile>(sources.Count);
        var first = new Dictionary<string, string>(StringComparer.Ordinal);
        var warnings = new List<string>();
        foreach (var source in sources)
        {
            var file = SourceFile.Parse(source);
            if (first.TryAdd(file.Key, file.Location))
            {
                files.Add(file);
            }
            else
            {
                warnings.Add(first[file.Key] == file.Location
                    ? $"The batch lists {file.Key} more than once: it is loaded once"
                    : $"The batch lists {file.Key} more than once, written differently (a file's key leaves out the query string and user info, and a path is made absolute): it is loaded once, from the first of them. If they are different files, load them in separate batches");
            }
        }

        return (files, warnings);
    }
}
