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
    /// <c>https://host/a.csv</c>; <c>file:///a.csv?sig=x</c> becomes <c>file:///a.csv</c>). Local paths, and URLs
    /// with nothing to remove, are returned unchanged.
    /// This is also a file's key in the ledger.
    /// </summary>
    public static string RedactUrl(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (url.StartsWith("s3://", StringComparison.OrdinalIgnoreCase) && !url.AsSpan(5, Math.Max(0, (url.IndexOf('/', 5) is var slash and > 0 ? slash : url.Length) - 5)).Contains('@'))
        {
            // An object's location holds no credential (they come from the AWS chain), and '#' and '?' are characters of
            // object keys there, not a fragment and a query: s3://bucket/a#1.csv is that object's key, whole.
            return url;
        }

        if (Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            var query = url.AsSpan().IndexOfAny('?', '#');
            if (uri.IsFile || uri.IsUnc)
            {
                // A file: URL has no user info; a query or fragment means nothing to it, and may be a pasted signature.
                // A bare path (which Uri also takes as a file) keeps its '?' and '#': they are part of its name.
                return query < 0 || !url.StartsWith("file:", StringComparison.OrdinalIgnoreCase) ? url : url[..query];
            }

            if (uri.UserInfo.Length == 0 && query < 0)
            {
                return url;
            }

            if (query >= 0)
            {
                // Cut at the text's own '?' or '#': a scheme without queries (ftp:, gs:, ...) keeps them in its path,
                // escaped, where a pasted signature would survive the builder below.
                var cut = url[..query];
                if (!Uri.TryCreate(cut, UriKind.Absolute, out uri))
                {
                    return StripByHand(cut, url.IndexOf("://", StringComparison.Ordinal) is var at and > 0 ? at + 3 : 0);
                }

                if (uri.UserInfo.Length == 0)
                {
                    return cut;
                }
            }

            var builder = new UriBuilder(uri) { UserName = string.Empty, Password = string.Empty, Query = string.Empty, Fragment = string.Empty };
            return builder.Uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
        }

        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        return scheme > 0 ? StripByHand(url, scheme + 3) : url;
    }

    /// <summary>
    /// Removes the password (and any other secret key) from a connection string. An unquoted value
    /// runs to the next <c>;</c>, as in the connection string itself.
    /// </summary>
    public static string RedactConnectionString(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        return ConnectionStringSecret().Replace(connectionString, "$1=***");
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
        result = TextSecret().Replace(result, "$1=***");
        result = UriPassword().Replace(result, "$1***@");
        return result;
    }

    private static string RedactUrlInText(string url)
    {
        // Keep a trailing sentence punctuation or closing quote outside of the URL.
        var end = url.Length;
        while (end > 0 && url[end - 1] is '.' or ',' or ')' or ']' or '\'' or '"' or ';' or ':')
        {
            end--;
        }

        return string.Concat(RedactUrl(url[..end]), url.AsSpan(end));
    }

    // For text that System.Uri rejects (a password holding an unescaped '/' or '@', a bad port):
    // cut the query and fragment, and treat everything up to the last '@' as user info. Removing too
    // much of a broken URL is better than keeping a secret.
    private static string StripByHand(string url, int authorityStart)
    {
        var core = url.AsSpan();
        var q = core.IndexOfAny('?', '#');
        if (q >= 0)
        {
            core = core[..q];
        }

        var at = core.LastIndexOf('@');
        return at >= authorityStart
            ? string.Concat(core[..authorityStart], core[(at + 1)..])
            : core.ToString();
    }

    // Any scheme: https, s3, gs, but also postgres:// and friends, whose user info is a secret too.
    [GeneratedRegex(@"\b[a-z][a-z0-9+.-]*://[^\s<>""]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex UrlInText();

    [GeneratedRegex(@"\b(password|pwd|passwd|secret|token|api[_-]?key|access[_-]?key|sslpassword)\s*=\s*(?:'[^']*'|""[^""]*""|[^;\s]*)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex TextSecret();

    [GeneratedRegex(@"\b(password|pwd|passwd|secret|token|api[_-]?key|access[_-]?key|sslpassword)\s*=\s*(?:'[^']*'|""[^""]*""|[^;]*)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ConnectionStringSecret();

    // Last line of defence for user:password@ left in a URL-like token the rules above did not parse.
    [GeneratedRegex(@"(\b[a-z][a-z0-9+.-]*://[^:/\s@]+:)\S*@", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex UriPassword();
}
