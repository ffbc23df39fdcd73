using System.Text.RegularExpressions;

namespace Ingest.Status;

/// <summary>
/// Removes credentials from text before it is logged or stored: URL query strings and fragments
/// (presigned signatures), URL user info, and connection-string passwords.
/// </summary>
public static partial class Redactor
{
    /// <summary>
    /// The URL without user info, query string or fragment (<c>https://u:p@host/a.csv?sig=x</c> becomes
    /// <c>https://host/a.csv</c>). Local paths are returned unchanged. This is also a file's key in the ledger.
    /// </summary>
    public static string RedactUrl(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.IsFile || uri.IsUnc)
        {
            return url;
        }

        var builder = new UriBuilder(uri) { UserName = string.Empty, Password = string.Empty, Query = string.Empty, Fragment = string.Empty };
        var text = builder.Uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
        return text;
    }

    /// <summary>Removes the password (and any other secret key) from a connection string.</summary>
    public static string RedactConnectionString(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        return ConnectionSecret().Replace(connectionString, "$1=***");
    }

    /// <summary>
    /// Redacts every URL and connection-string secret found inside free text, such as an exception
    /// message. Idempotent: redacted text passes through unchanged.
    /// </summary>
    public static string RedactText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0)
        {
            return text;
        }

        var result = UrlInText().Replace(text, static m => RedactUrlInText(m.Value));
        result = ConnectionSecret().Replace(result, "$1=***");
        result = UriPassword().Replace(result, "$1***@");
        return result;
    }

    private static string RedactUrlInText(string url)
    {
        // Keep a trailing sentence punctuation outside of the URL.
        var end = url.Length;
        while (end > 0 && url[end - 1] is '.' or ',' or ')' or '\'' or '"' or ';')
        {
            end--;
        }

        var core = url[..end];
        var redacted = RedactUrl(core);
        if (ReferenceEquals(redacted, core) || redacted == core)
        {
            // Not parseable as a URI: strip user info and the query by hand.
            var q = core.IndexOfAny(['?', '#']);
            if (q >= 0)
            {
                core = core[..q];
            }

            var scheme = core.IndexOf("://", StringComparison.Ordinal);
            var at = core.IndexOf('@', StringComparison.Ordinal);
            var slash = scheme >= 0 ? core.IndexOf('/', scheme + 3) : -1;
            if (scheme >= 0 && at > scheme && (slash < 0 || at < slash))
            {
                core = string.Concat(core.AsSpan(0, scheme + 3), core.AsSpan(at + 1));
            }

            redacted = core;
        }

        return string.Concat(redacted, url.AsSpan(end));
    }

    [GeneratedRegex(@"\b(?:https?|ftp|s3|gs)://[^\s<>""']+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex UrlInText();

    [GeneratedRegex(@"\b(password|pwd|passwd|secret|token|api[_-]?key|access[_-]?key|sslpassword)\s*=\s*(?:'[^']*'|""[^""]*""|[^;\s]*)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ConnectionSecret();

    // postgres://user:secret@host URIs (libpq style), which the URL rule above does not cover.
    [GeneratedRegex(@"(\b[a-z][a-z0-9+.-]*://[^:/\s@]+:)[^@\s/]+@", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex UriPassword();
}
