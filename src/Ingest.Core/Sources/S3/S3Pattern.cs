namespace Ingest.Sources.S3;

/// <summary>
/// The objects of one bucket whose keys match a glob (<see cref="S3Glob"/>): <c>s3://bucket/prefix/**/*.csv.gz</c>,
/// or the bucket, prefix and glob of a DFI <c>source.s3</c> (<see cref="S3BatchSource"/>). It is listed with
/// <see cref="ListPrefix"/>, the literal text before the first glob character, so only that part of the bucket is read.
/// </summary>
internal sealed class S3Pattern
{
    private readonly S3Glob _glob;

    private S3Pattern(string bucket, S3Glob glob)
    {
        Bucket = bucket;
        _glob = glob;
        ListPrefix = glob.LiteralPrefix;
    }

    /// <summary>The bucket listed.</summary>
    public string Bucket { get; }

    /// <summary>The <c>Prefix</c> of the ListObjectsV2 requests: every match starts with it.</summary>
    public string ListPrefix { get; }

    /// <summary>The key pattern as written, after the bucket.</summary>
    public string KeyPattern => _glob.Pattern;

    /// <summary>True when <paramref name="location"/> is an <c>s3://</c> location whose key holds <c>*</c> or <c>?</c>.</summary>
    public static bool IsPattern(string location) =>
        location is not null && S3ObjectAddress.IsS3(location) && S3Glob.HasGlob(location.AsSpan(S3ObjectAddress.Scheme.Length));

    /// <summary>Reads <c>s3://bucket/key-glob</c>.</summary>
    /// <exception cref="ArgumentException">Not an s3:// location, or no bucket or no key pattern.</exception>
    public static S3Pattern Parse(string location)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(location);
        if (!S3ObjectAddress.IsS3(location))
        {
            throw new ArgumentException("An S3 pattern is an s3:// location, such as s3://bucket/prefix/**/*.csv.gz.", nameof(location));
        }

        var address = S3ObjectAddress.Parse(location, nameof(location));
        return new S3Pattern(address.Bucket, S3Glob.Compile(address.Key));
    }

    /// <summary>
    /// The objects under <paramref name="prefix"/> (taken literally) whose key after it matches <paramref name="glob"/>.
    /// A prefix that does not end with <c>/</c> is a folder: <c>sample-data</c> with <c>**/*.csv</c> matches
    /// <c>sample-data/2024/a.csv</c>. An empty glob matches everything under the prefix.
    /// </summary>
    public static S3Pattern Create(string bucket, string? prefix, string? glob)
    {
        S3BucketName.ThrowIfInvalid(bucket, nameof(bucket));
        prefix ??= string.Empty;
        glob = string.IsNullOrEmpty(glob) ? "**" : glob.TrimStart('/');
        var folder = prefix.Length == 0 || prefix[^1] == '/' ? prefix : prefix + "/";
        return new S3Pattern(bucket, S3Glob.Compile(folder.TrimStart('/'), glob));
    }

    /// <summary>True when <paramref name="key"/> is one of the pattern's objects.</summary>
    public bool IsMatch(string key) => _glob.IsMatch(key);

    /// <summary>The pattern as <c>s3://bucket/key-pattern</c>, as errors and logs name it.</summary>
    public override string ToString() => S3ObjectAddress.Scheme + Bucket + "/" + KeyPattern;
}
