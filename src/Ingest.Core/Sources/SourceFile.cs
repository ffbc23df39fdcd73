using Ingest.Sources.S3;
using Ingest.Status;

namespace Ingest.Sources;

/// <summary>
/// One file of a batch: an http(s) URL, an <c>s3://bucket/key</c> object, a <c>file://</c> URL or a local path.
/// Its <see cref="Key"/> names it everywhere (ledger, log, errors); its <see cref="Location"/> may hold credentials
/// (a presigned signature, user info) and is used only to fetch it.
/// </summary>
public sealed class SourceFile
{
    private SourceFile(string location, string key, Uri? uri, SourceCompression compression, S3ObjectAddress? s3 = null)
    {
        Location = location;
        Key = key;
        Uri = uri;
        Compression = compression;
        S3 = s3;
    }

    /// <summary>The location as given. It may hold secrets: never log it.</summary>
    public string Location { get; }

    /// <summary>
    /// The name of the file in the ledger, the log and every error: the URL without user info, query
    /// string or fragment, <c>s3://bucket/key</c> for an object, or the full local path.
    /// </summary>
    public string Key { get; }

    /// <summary>True for http and https URLs (not <c>s3://</c> objects).</summary>
    public bool IsHttp => Uri is not null;

    /// <summary>True for an <c>s3://bucket/key</c> object, read through the AWS SDK.</summary>
    public bool IsS3 => S3 is not null;

    /// <summary>True when the path (before any query string) ends with <c>.gz</c>: the file is gzip-compressed.</summary>
    public bool IsGzip => Compression == SourceCompression.Gzip;

    /// <summary>True when the path (before any query string) ends with <c>.zst</c>: the file is zstd-compressed.</summary>
    public bool IsZstd => Compression == SourceCompression.Zstd;

    /// <summary>The http(s) URL, with its credentials, or null for a local file or an object.</summary>
    internal Uri? Uri { get; }

    /// <summary>The bucket and key of an <c>s3://</c> object, else null.</summary>
    internal S3ObjectAddress? S3 { get; }

    /// <summary>How the file's bytes are compressed, by its name.</summary>
    internal SourceCompression Compression { get; }

    /// <summary>The full local path (the same as <see cref="Key"/>) of a local file.</summary>
    internal string LocalPath => Key;

    /// <summary>
    /// Reads an http(s) URL, an <c>s3://bucket/key</c> object, a local <c>file://</c> URL (<c>file:///path</c> or
    /// <c>file://localhost/path</c>) or a local path (a relative path is made full against the current directory).
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The location is empty, not a valid URL, of another scheme, a <c>file://</c> URL naming a host other
    /// than <c>localhost</c>, or an <c>s3://</c> pattern (<see cref="IsPattern"/>), which must be listed first.
    /// </exception>
    public static SourceFile Parse(string locationOrPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(locationOrPath);
        var scheme = SchemeOf(locationOrPath);
        if (scheme == "s3")
        {
            return ParseS3(locationOrPath);
        }

        if (scheme is null)
        {
            // Full from here on: a worker in another folder, or a resume from one, must find the same file.
            var fullPath = Path.GetFullPath(locationOrPath);
            return Local(fullPath, fullPath);
        }

        // The raw location never goes into a message: it may hold a signature.
        if (!Uri.TryCreate(locationOrPath, UriKind.Absolute, out var uri))
        {
            throw new ArgumentException($"A {scheme}:// source is not a valid URL: check its spelling.", nameof(locationOrPath));
        }

        if (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        {
            return new SourceFile(locationOrPath, Redactor.RedactUrl(locationOrPath), uri, CompressionOf(uri.AbsolutePath));
        }

        if (uri.IsFile)
        {
            // A file URL names a local file only with no host or "localhost" (RFC 8089). Uri.LocalPath turns
            // any host into a UNC path (\\localhost\tmp\f.csv), which on Linux is a relative path that
            // Path.GetFullPath joined onto the current directory. The percent-decoded path part is the file
            // in both forms, so file:///tmp/f.csv and file://localhost/tmp/f.csv get the same key.
            if (uri.Host.Length != 0 && !uri.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            {
                // Without the query and fragment (a file URL has no user info): all it could hide.
                var shown = uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
                throw new ArgumentException(
                    $"The file URL '{shown}' names the host '{uri.Host}': only local file URLs (file:///path or file://localhost/path) are supported.",
                    nameof(locationOrPath));
            }

            return Local(locationOrPath, Path.GetFullPath(Uri.UnescapeDataString(uri.AbsolutePath)));
        }

        throw new ArgumentException(
            $"The source scheme '{uri.Scheme}' is not supported: use http, https, file:// URLs, s3://bucket/key objects or local paths.",
            nameof(locationOrPath));
    }

    /// <summary>
    /// True when <paramref name="location"/> is an <c>s3://</c> pattern: its key holds <c>*</c>, <c>?</c> or
    /// <c>**</c> (<c>s3://bucket/prefix/**/*.csv.gz</c>). A pattern is no file: it is expanded by listing the
    /// bucket (<c>SourceOpener.ExpandAsync</c>) into one location per object before files are made.
    /// </summary>
    public static bool IsPattern(string location) => S3Pattern.IsPattern(location);

    /// <summary>
    /// The location as a batch records it: a local path made full (against the current directory), every
    /// URL as given.
    /// </summary>
    public static string Recorded(string locationOrPath) =>
        SchemeOf(locationOrPath) is null && !string.IsNullOrWhiteSpace(locationOrPath) ? Path.GetFullPath(locationOrPath) : locationOrPath;

    /// <inheritdoc/>
    public override string ToString() => Key;

    private static SourceFile Local(string location, string fullPath) => new(location, fullPath, null, CompressionOf(fullPath));

    private static SourceFile ParseS3(string locationOrPath)
    {
        if (S3Pattern.IsPattern(locationOrPath))
        {
            throw new ArgumentException(
                "An s3:// location with *, ? or ** is a pattern, not a file: patterns must be expanded (listed) first.",
                nameof(locationOrPath));
        }

        var address = S3ObjectAddress.Parse(locationOrPath, nameof(locationOrPath));
        if (address.Key.EndsWith('/'))
        {
            throw new ArgumentException(
                $"The s3:// location '{address}' is a folder, not an object: give a pattern such as {address}**/*.csv to load the objects in it.",
                nameof(locationOrPath));
        }

        var key = address.ToString();
        return new SourceFile(key, key, null, CompressionOf(address.Key), address);
    }

    private static SourceCompression CompressionOf(string path) =>
        path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? SourceCompression.Gzip
        : path.EndsWith(".zst", StringComparison.OrdinalIgnoreCase) ? SourceCompression.Zstd
        : SourceCompression.None;

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
