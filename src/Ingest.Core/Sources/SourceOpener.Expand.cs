using Ingest.Sources.S3;

namespace Ingest.Sources;

/// <summary>The expansion of <c>s3://</c> patterns into files, with this opener's client, options and Retrying reports.</summary>
internal sealed partial class SourceOpener
{
    /// <summary>
    /// The batch's locations with every <c>s3://</c> pattern (<see cref="SourceFile.IsPattern"/>) replaced, in place,
    /// by the objects it matches in natural order; other locations pass through as given. An object that an
    /// earlier location already named is not repeated.
    /// </summary>
    /// <exception cref="SourceListingException">A pattern matches nothing, or its bucket cannot be listed.</exception>
    public async Task<IReadOnlyList<string>> ExpandAsync(IEnumerable<string> locations, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(locations);
        var expanded = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var location in locations)
        {
            if (!SourceFile.IsPattern(location))
            {
                expanded.Add(location);
                seen.Add(location);
                continue;
            }

            foreach (var match in await S3Listing.ExpandAsync(this, location, cancellationToken).ConfigureAwait(false))
            {
                if (seen.Add(match))
                {
                    expanded.Add(match);
                }
            }
        }

        return expanded;
    }

    /// <summary>The <c>s3://bucket/key</c> locations of a DFI <c>source.s3</c>'s objects, in natural order.</summary>
    /// <exception cref="SourceListingException">The source matches nothing, or its bucket cannot be listed.</exception>
    public Task<IReadOnlyList<string>> ExpandAsync(S3BatchSource source, CancellationToken cancellationToken = default) =>
        S3Listing.ExpandAsync(this, source, cancellationToken);
}
