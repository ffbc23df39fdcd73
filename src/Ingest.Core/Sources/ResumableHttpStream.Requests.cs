using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Ingest.Status;

namespace Ingest.Sources;

/// <summary>The requests of <see cref="ResumableHttpStream"/> and the checks on their answers.</summary>
internal sealed partial class ResumableHttpStream
{
    // Redirects are followed here, not by the handler: .NET's follows one from http to any scheme (a Location of
    // ftp://host/ sent an HTTP request to port 21; file:/// threw UriFormatException). Only http(s) is followed,
    // never from https to http, at most SourceOpener.MaxRedirects in a row; the URL's credentials go to its own
    // origin only. A resumed read follows them again from the first URL (a presigned redirect may have changed).
    private async Task<HttpResponseMessage> SendAsync(CancellationToken cancellationToken)
    {
        // Bounds the wait for the response headers, redirects included; the body's reads have their own stall timer.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ConnectTimeout + _options.StallTimeout);
        var origin = _file.Uri!;
        var target = RequestUri(origin, out var credentials);
        for (var redirects = 0; ; redirects++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, target);
            if (credentials is not null && IsSameOrigin(target, origin))
            {
                request.Headers.Authorization = credentials;
            }

            if (_position > 0)
            {
                request.Headers.Range = new RangeHeaderValue(_position, null);
                request.Headers.IfRange = _etag is not null ? new RangeConditionHeaderValue(_etag) : new RangeConditionHeaderValue(_lastModified!.Value);
            }

            var response = await _opener.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (!HttpFailure.IsUnfollowedRedirect(response) || redirects == SourceOpener.MaxRedirects)
            {
                return response; // An answer, or a redirect too many: ThrowIfFinalFailure says so.
            }

            var next = response.Headers.Location!;
            next = next.IsAbsoluteUri ? next : new Uri(target, next);
            if (next.Scheme != Uri.UriSchemeHttp && next.Scheme != Uri.UriSchemeHttps)
            {
                response.Dispose();
                throw new FileErrorException(Key, $"the server redirected to a {next.Scheme}: URL; only http and https redirects are followed");
            }

            if (target.Scheme == Uri.UriSchemeHttps && next.Scheme == Uri.UriSchemeHttp)
            {
                var status = (int)response.StatusCode;
                response.Dispose();
                throw new FileErrorException(Key, string.Create(
                    CultureInfo.InvariantCulture,
                    $"the server redirected from https to http (HTTP {status} to {Redactor.RedactUrl(next.OriginalString)}), which is refused: a file asked for over https is not read unencrypted; use an https URL that is not redirected to http"));
            }

            response.Dispose();
            target = RequestUri(next, out _); // User info in a Location is dropped, never sent.
        }
    }

    private static bool IsSameOrigin(Uri a, Uri b) =>
        a.Scheme == b.Scheme && a.Port == b.Port && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase);

    // User info in the URL becomes Basic credentials, as curl does; the request URL itself carries none.
    private static Uri RequestUri(Uri uri, out AuthenticationHeaderValue? credentials)
    {
        credentials = null;
        if (uri.UserInfo.Length == 0)
        {
            return uri;
        }

        var userInfo = Uri.UnescapeDataString(uri.UserInfo);
        credentials = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(userInfo)));
        return new UriBuilder(uri) { UserName = string.Empty, Password = string.Empty }.Uri;
    }

    private async Task AcceptAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            if (_position == 0)
            {
                AcceptFirst(response);
            }
            else
            {
                AcceptResumed(response);
            }

            _body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            _response = response;
            _watch.Restart();
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    private void AcceptFirst(HttpResponseMessage response)
    {
        ThrowIfFinalFailure(response);
        if (response.StatusCode == HttpStatusCode.PartialContent)
        {
            throw new FileErrorException(Key, "HTTP 206 Partial Content to a request for the whole file") { IsTransient = true };
        }

        var content = response.Content.Headers;
        if (string.Equals(content.ContentType?.MediaType, "text/html", StringComparison.OrdinalIgnoreCase)
            && !_file.Uri!.AbsolutePath.EndsWith(".htm", StringComparison.OrdinalIgnoreCase)
            && !_file.Uri.AbsolutePath.EndsWith(".html", StringComparison.OrdinalIgnoreCase))
        {
            throw new FileErrorException(Key, "the server answered with an HTML page, not CSV: check the URL");
        }

        IsGzipEncoded = HttpFailure.IsGzipEncoded(content, Key);
        _length = content.ContentLength;
        _etag = response.Headers.ETag is { IsWeak: false } etag ? etag : null;
        _lastModified = content.LastModified;
    }

    private void AcceptResumed(HttpResponseMessage response)
    {
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable || response.IsSuccessStatusCode)
        {
            var range = response.Content.Headers.ContentRange;
            if (response.StatusCode == HttpStatusCode.PartialContent && range is { HasRange: true } && range.Unit == "bytes" && range.From == _position
                && IsSameVersion(response, range))
            {
                return;
            }

            // A 200 is the whole (maybe changed) file; a 206 elsewhere, or of another version of the file (a
            // server that ignored If-Range), is not the rest we asked for.
            throw new SourceRestartRequiredException(Key, string.Create(
                CultureInfo.InvariantCulture,
                $"the connection broke at byte {_position} and the server answered HTTP {(int)response.StatusCode} to a request for the rest: the file must be read again from its start"));
        }

        ThrowIfFinalFailure(response);
    }

    // The rest must come from the file the first bytes came from: same strong ETag, same Last-Modified and
    // same full length, wherever both answers give them.
    private bool IsSameVersion(HttpResponseMessage response, System.Net.Http.Headers.ContentRangeHeaderValue range) =>
        (_etag is null || response.Headers.ETag is not { } etag || etag.Equals(_etag))
        && (_lastModified is null || response.Content.Headers.LastModified is not { } modified || modified == _lastModified)
        && (_length is null || range.Length is null || range.Length == _length);

    private void ThrowIfFinalFailure(HttpResponseMessage response)
    {
        if (HttpFailure.IsUnfollowedRedirect(response))
        {
            throw new FileErrorException(Key, string.Create(
                CultureInfo.InvariantCulture,
                $"too many redirects: HTTP {(int)response.StatusCode} was not followed (more than {SourceOpener.MaxRedirects} redirects in a row)"));
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new FileErrorException(Key, HttpFailure.Describe(response.StatusCode));
        }
    }
}
