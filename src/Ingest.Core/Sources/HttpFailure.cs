using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Ingest.Status;

namespace Ingest.Sources;

/// <summary>
/// Sorts HTTP answers and network faults into "try again" and "the file is bad", and words the reason
/// so it says what to fix. Reasons never hold the URL: errors name the file by its key.
/// </summary>
internal static class HttpFailure
{
    /// <summary>5xx, 408 Request Timeout and 429 Too Many Requests may pass; other 4xx will not.</summary>
    public static bool IsRetryable(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;

    /// <summary>True for a redirect that was not followed: one too many in a row.</summary>
    public static bool IsUnfollowedRedirect(HttpResponseMessage response) =>
        (int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is not null;

    /// <summary>The reason for a status that is not retried.</summary>
    public static string Describe(HttpStatusCode status) => status switch
    {
        HttpStatusCode.NotFound => "HTTP 404 Not Found: check the URL",
        HttpStatusCode.Forbidden => "HTTP 403 Forbidden: the URL's signature may have expired, or access is denied",
        HttpStatusCode.Unauthorized => "HTTP 401 Unauthorized: the server needs credentials",
        HttpStatusCode.Gone => "HTTP 410 Gone: the file was removed",
        _ => $"HTTP {(int)status} {Phrase(status)}",
    };

    /// <summary>The server's Retry-After, as a delay from now, when it sent one.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        return header?.Date is { } date ? date - DateTimeOffset.UtcNow : null;
    }

    /// <summary>True for network faults that may pass on another attempt.</summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        // A certificate that fails validation will fail again.
        HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError } => false,
        HttpRequestException { InnerException: SourceDeniedException } => false,
        HttpRequestException or IOException or SocketException or TimeoutException => true,
        _ => false,
    };

    /// <summary>
    /// A short reason for a network fault, redacted in case a message quotes a URL: the innermost message that says
    /// something (.NET's "The SSL connection could not be established, see inner exception." does not), and for a
    /// certificate that failed validation, what to fix.
    /// </summary>
    public static string Describe(Exception exception)
    {
        var kind = exception switch
        {
            HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError } => "host name not resolved",
            HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } => "connection failed",
            HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError } => "TLS handshake failed",
            HttpRequestException { HttpRequestError: HttpRequestError.ResponseEnded } => "connection lost",
            HttpRequestException => "request failed",
            IOException or SocketException => "connection lost",
            _ => "network error",
        };
        var detail = Detail(exception);
        return $"{kind} ({Redactor.RedactText(detail)}){CertificateHint(detail)}";
    }

    // Down the chain past messages that only point at their inner exception.
    private static string Detail(Exception exception)
    {
        var current = exception;
        while (current.InnerException is { } inner
            && (current.Message.Contains("see inner exception", StringComparison.OrdinalIgnoreCase) || string.IsNullOrWhiteSpace(current.Message)))
        {
            current = inner;
        }

        return current.Message;
    }

    // .NET words a failed validation "The remote certificate is invalid ...: UntrustedRoot" (or PartialChain,
    // NotTimeValid, RemoteCertificateNameMismatch...). On Linux it trusts the system store and also honours
    // SSL_CERT_FILE (a PEM bundle) and SSL_CERT_DIR (a folder of PEM files), as OpenSSL does.
    private static string CertificateHint(string detail)
    {
        if (!detail.Contains("remote certificate", StringComparison.OrdinalIgnoreCase))
        {
            return string.Empty;
        }

        if (detail.Contains("NameMismatch", StringComparison.Ordinal))
        {
            return ": the server's certificate is not for this host name; use the name the certificate was issued for";
        }

        if (detail.Contains("NotTimeValid", StringComparison.Ordinal))
        {
            return ": the server's certificate has expired or is not valid yet; the server must renew it (or check this machine's clock)";
        }

        return ": the server's certificate is not signed by a trusted authority; trust its CA certificate in the system store"
            + " (e.g. update-ca-certificates), or point SSL_CERT_FILE (a PEM bundle) or SSL_CERT_DIR (a folder of PEM files) at it";
    }

    /// <summary>The Content-Encoding of a response when it is gzip; throws for another compression.</summary>
    public static bool IsGzipEncoded(HttpContentHeaders headers, string key)
    {
        var gzip = false;
        foreach (var encoding in headers.ContentEncoding)
        {
            if (encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase) || encoding.Equals("x-gzip", StringComparison.OrdinalIgnoreCase))
            {
                gzip = true;
            }
            else if (!encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
            {
                throw new FileErrorException(key, $"the server sent Content-Encoding '{encoding}', which is not supported (only gzip)");
            }
        }

        return gzip;
    }

    private static string Phrase(HttpStatusCode status)
    {
        var text = status.ToString();
        return int.TryParse(text, out _) ? "(unknown status)" : SplitWords(text);
    }

    private static string SplitWords(string pascal)
    {
        var builder = new System.Text.StringBuilder(pascal.Length + 8);
        foreach (var c in pascal)
        {
            if (char.IsUpper(c) && builder.Length > 0)
            {
                builder.Append(' ');
            }

            builder.Append(c);
        }

        return builder.ToString();
    }
}
