using System.Globalization;
using System.Net;
using Amazon.Runtime;
using Amazon.S3.Model;

namespace Ingest.Sources.S3;

/// <summary>The GetObject requests of <see cref="S3ObjectStream"/> and the checks on their answers.</summary>
internal sealed partial class S3ObjectStream
{
    /// <summary>Requests the body from <see cref="_position"/> until an answer is accepted, the attempts run out or the answer is final.</summary>
    private async Task FetchAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            string reason;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(HeadersTimeout);
                var client = _opener.S3Client();
                var response = await client.GetObjectAsync(Request(), timeout.Token).ConfigureAwait(false);
                Accept(response);
                return;
            }
            catch (Exception ex) when (_position > 0 && S3Failure.IsPreconditionFailed(ex))
            {
                throw Changed("answered 412 Precondition Failed to a request for the rest pinned to its ETag");
            }
            catch (Exception ex) when (S3Failure.IsRetryable(ex, cancellationToken))
            {
                reason = S3Failure.Describe(ex, HeadersTimeout);
            }
            catch (Exception ex) when (S3Failure.FinalReason(ex, _address.Bucket, listing: false) is { } final)
            {
                throw new FileErrorException(Key, final);
            }
            catch (AmazonClientException ex)
            {
                throw new FileErrorException(Key, S3Failure.ClientFailure(ex));
            }

            await _attempts.FailedAsync(reason, _position, cancellationToken).ConfigureAwait(false);
        }
    }

    private GetObjectRequest Request()
    {
        var request = new GetObjectRequest { BucketName = _address.Bucket, Key = _address.Key };
        if (_position > 0)
        {
            request.ByteRange = new ByteRange(string.Create(CultureInfo.InvariantCulture, $"bytes={_position}-"));
            request.EtagToMatch = _etag;
        }

        return request;
    }

    private void Accept(GetObjectResponse response)
    {
        try
        {
            if (_position == 0)
            {
                _etag = response.ETag;
                _length = response.Headers.ContentLength;
                IsGzipEncoded = IsGzip(response.Headers.ContentEncoding);
            }
            else
            {
                CheckResumed(response);
            }

            _body = response.ResponseStream;
            _response = response;
            _watch.Restart();
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    // The rest must come from the object the first bytes came from: a 206 from byte N, of the same ETag and
    // full length. A store that ignores If-Match (s3rver does) answers the new version, which the ETag shows.
    private void CheckResumed(GetObjectResponse response)
    {
        if (!string.IsNullOrEmpty(_etag) && !string.Equals(response.ETag, _etag, StringComparison.Ordinal))
        {
            throw Changed("has another ETag now");
        }

        var range = ContentRange.Parse(response.ContentRange);
        if (response.HttpStatusCode != HttpStatusCode.PartialContent || range is not { } r || r.From != _position || (_length >= 0 && r.Length is { } total && total != _length))
        {
            throw new SourceRestartRequiredException(Key, string.Create(
                CultureInfo.InvariantCulture,
                $"the connection broke at byte {_position} and the store answered HTTP {(int)response.HttpStatusCode} (not the rest from byte {_position}) to a request for it: the file must be read again from its start"));
        }
    }

    private SourceRestartRequiredException Changed(string what) => new(Key, string.Create(
        CultureInfo.InvariantCulture,
        $"the connection broke at byte {_position} and the object changed since it was opened (it {what}): the file must be read again from its start"));

    private static bool IsGzip(string? contentEncoding) =>
        contentEncoding is not null && contentEncoding.Split(',').Any(e => e.Trim().Equals("gzip", StringComparison.OrdinalIgnoreCase));

    /// <summary>A <c>Content-Range: bytes from-to/length</c> header.</summary>
    private readonly record struct ContentRange(long From, long? Length)
    {
        public static ContentRange? Parse(string? header)
        {
            if (header is null || !header.StartsWith("bytes ", StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            var spec = header.AsSpan("bytes ".Length).Trim();
            var dash = spec.IndexOf('-');
            var slash = spec.IndexOf('/');
            if (dash <= 0 || slash < dash || !long.TryParse(spec[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var from))
            {
                return null;
            }

            var total = spec[(slash + 1)..];
            return new ContentRange(from, long.TryParse(total, NumberStyles.None, CultureInfo.InvariantCulture, out var length) ? length : null);
        }
    }
}
