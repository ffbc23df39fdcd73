using Ingest.Status;

namespace Ingest.Sources;

/// <summary>
/// One file of a batch: an http(s) URL, a <c>file://</c> URL or a local path. Its <see cref="Key"/>
/// names it everywhere (ledger, log, errors); its <see cref="Location"/> may hold credentials
/// (a presigned signature, user info) and is used only to fetch it.
/// </summary>
public sealed class SourceFile
{
    private SourceFile(string location, string key, Uri? uri, bool isGzip)
    {
        Location = location;
        Key = key;
        Uri = uri;
        IsGzip = isGzip;
    }

    /// <summary>The location as given. It may hold secrets: never log it.</summary>
    public string Location { get; }

    /// <summary>
    /// The name of the file in the ledger, the log and every error: the URL without user info, query
    /// string or fragment, or the full local path.
    /// </summary>
    public string Key { get; }

    /// <summary>True for http and https URLs.</summary>
    public bool IsHttp => Uri is not null;

    /// <summary>True when the path (before any query string) ends with <c>.gz</c>: the file is gzip-compressed.</summary>
    public bool IsGzip { get; }

    /// <summary>The http(s) URL, with its credentials, or null for a local file.</summary>
    internal Uri? Uri { get; }

    /// <summary>The full local path (the same as <see cref="Key"/>) of a local file.</summary>
    internal string LocalPath => Key;

    /// <summary>
    /// Reads an http(s) URL, a <c>file://</c> URL or a local path (a relative path is made full
    /// against the current directory).
    /// </summary>
    /// <exception cref="ArgumentException">The location is empty, not a valid URL, or of another scheme.</exception>
    public static SourceFile Parse(string locationOrPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(locationOrPath);
        var scheme = SchemeOf(locationOrPath);
        if (scheme is null)
        {
            return Local(locationOrPath, Path.GetFullPath(locationOrPath));
        }

        // The raw location never goes into a message: it may hold a signature.
        if (!Uri.TryCreate(locationOrPath, UriKind.Absolute, out var uri))
        {
            throw new ArgumentException($"A {scheme}:// source is not a valid URL: check its spelling.", nameof(locationOrPath));
        }

        if (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        {
            return new SourceFile(locationOrPath, Redactor.RedactUrl(locationOrPath), uri, IsGz(uri.AbsolutePath));
        }

        if (uri.IsFile)
        {
            return Local(locationOrPath, Path.GetFullPath(uri.LocalPath));
        }

        throw new ArgumentException(
            $"The source scheme '{uri.Scheme}' is not supported: use http, https, file:// URLs or local paths.",
            nameof(locationOrPath));
    }

    /// <inheritdoc/>
    public override string ToString() => Key;

    private static SourceFile Local(string location, string fullPath) => new(location, fullPath, null, IsGz(fullPath));

    private static bool IsGz(string path) => path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);

    // "scheme://..." is a URL; anything else (including Windows "C:\x") is a path.
    private static string? SchemeOf(string location)
    {
        var end = location.IndexOf("://", StringComparison.Ordinal);
        if (end <= 0 || !char.IsAsciiLetter(location[0]))
        {
            return null;
        }

        foreach (var c in location.AsSpan(0, end))
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('+' or '-' or '.'))
            {
                return null;
            }
        }

        return location[..end].ToLowerInvariant();
    }
}
