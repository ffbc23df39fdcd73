using Amazon.Runtime;
using Amazon.S3.Model;

namespace Ingest.Sources.S3;

/// <summary>
/// Expands <c>s3://</c> patterns into the objects they match: ListObjectsV2 from the pattern's literal prefix,
/// over every page, keeping keys the glob matches (folder markers, keys ending with <c>/</c>, are no files), in
/// natural order (<c>file-2</c> before <c>file-10</c>). A pattern that matches nothing is an error.
/// </summary>
internal static class S3Listing
{
    /// <summary>The <c>s3://bucket/key</c> locations of the objects <paramref name="pattern"/> (<c>s3://bucket/prefix/**/*.csv.gz</c>) matches.</summary>
    /// <exception cref="ArgumentException">The pattern is not an s3:// location with a bucket and a key pattern.</exception>
    /// <exception cref="SourceListingException">Nothing matched, the bucket is missing, access was refused, or the store was out of reach.</exception>
    public static Task<IReadOnlyList<string>> ExpandAsync(SourceOpener opener, string pattern, CancellationToken cancellationToken = default) =>
        ExpandAsync(opener, S3Pattern.Parse(pattern), cancellationToken);

    /// <summary>The <c>s3://bucket/key</c> locations of the objects of a DFI <c>source.s3</c>.</summary>
    /// <exception cref="SourceListingException">Nothing matched, the bucket is missing, access was refused, or the store was out of reach.</exception>
    public static Task<IReadOnlyList<string>> ExpandAsync(SourceOpener opener, S3BatchSource source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        source.Validate();
        return ExpandAsync(opener, source.ToS3Pattern(), cancellationToken);
    }

    /// <summary>The locations of the objects <paramref name="pattern"/> matches, in natural order.</summary>
    public static async Task<IReadOnlyList<string>> ExpandAsync(SourceOpener opener, S3Pattern pattern, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(opener);
        ArgumentNullException.ThrowIfNull(pattern);
        var shown = pattern.ToString();
        var keys = new List<string>();
        var listed = 0L;
        var attempts = new S3Attempts(opener, shown, reason => new SourceListingException(shown, reason) { IsTransient = true });
        var request = new ListObjectsV2Request
        {
            BucketName = pattern.Bucket,
            Prefix = pattern.ListPrefix.Length == 0 ? null : pattern.ListPrefix,
        };
        while (true)
        {
            var page = await ListPageAsync(opener, pattern, request, attempts, cancellationToken).ConfigureAwait(false);
            foreach (var entry in page.S3Objects ?? [])
            {
                listed++;
                if (!entry.Key.EndsWith('/') && pattern.IsMatch(entry.Key))
                {
                    keys.Add(entry.Key);
                }
            }

            if (page.IsTruncated != true)
            {
                break;
            }

            if (string.IsNullOrEmpty(page.NextContinuationToken))
            {
                throw new SourceListingException(shown, $"bucket '{pattern.Bucket}' sent a truncated listing without a continuation token: the store does not page ListObjectsV2 correctly");
            }

            request.ContinuationToken = page.NextContinuationToken;
        }

        if (keys.Count == 0)
        {
            var under = pattern.ListPrefix.Length == 0 ? "in the bucket" : $"under '{pattern.ListPrefix}'";
            throw new SourceListingException(shown, $"the pattern matches no object ({listed} listed {under}): check the bucket, the prefix and the glob");
        }

        keys.Sort(NaturalComparer.Instance);
        var locations = new string[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            if (S3Glob.HasGlob(keys[i]))
            {
                // An s3:// location with * or ? reads as a pattern again, so this object could not be named as a file.
                throw new SourceListingException(shown, $"the object key '{keys[i]}' holds * or ?, which an s3:// location reads as a pattern: rename the object or narrow the glob");
            }

            locations[i] = new S3ObjectAddress(pattern.Bucket, keys[i]).ToString();
        }

        return locations;
    }

    private static async Task<ListObjectsV2Response> ListPageAsync(
        SourceOpener opener, S3Pattern pattern, ListObjectsV2Request request, S3Attempts attempts, CancellationToken cancellationToken)
    {
        var headersTimeout = opener.Options.ConnectTimeout + opener.Options.StallTimeout;
        while (true)
        {
            string reason;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(headersTimeout);
                var client = opener.S3Client();
                var page = await client.ListObjectsV2Async(request, timeout.Token).ConfigureAwait(false);
                attempts.Progress();
                return page;
            }
            catch (Exception ex) when (S3Failure.IsRetryable(ex, cancellationToken))
            {
                reason = S3Failure.Describe(ex, headersTimeout);
            }
            catch (Exception ex) when (S3Failure.FinalReason(ex, pattern.Bucket, listing: true) is { } final)
            {
                throw new SourceListingException(pattern.ToString(), final);
            }
            catch (AmazonClientException ex)
            {
                throw new SourceListingException(pattern.ToString(), S3Failure.ClientFailure(ex));
            }

            await attempts.FailedAsync(reason, 0, cancellationToken).ConfigureAwait(false);
        }
    }
}
