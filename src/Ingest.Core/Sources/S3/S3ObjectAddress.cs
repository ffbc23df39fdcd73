namespace Ingest.Sources.S3;

/// <summary>
/// A bucket and an object key (or a key pattern), read from <c>s3://bucket/key</c>. The key is taken as written:
/// it is not percent-decoded, as the AWS CLI reads it. An <c>s3://</c> location never carries credentials.
/// </summary>
internal readonly record struct S3ObjectAddress(string Bucket, string Key)
{
    public const string Scheme = "s3://";

    /// <summary>True when <paramref name="location"/> starts with <c>s3://</c> (any case).</summary>
    public static bool IsS3(string location) => location.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase);

    /// <summary>Splits <c>s3://bucket/key</c>; the key may be a pattern. Messages never repeat the location.</summary>
    /// <exception cref="ArgumentException">No bucket, no key, user info, or a bucket name S3 would refuse.</exception>
    public static S3ObjectAddress Parse(string location, string paramName)
    {
        var rest = location.AsSpan(Scheme.Length);
        var slash = rest.IndexOf('/');
        var bucket = slash < 0 ? rest : rest[..slash];
        if (bucket.Contains('@'))
        {
            throw new ArgumentException(
                "An s3:// location carries no credentials: they come from the AWS credential chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or a role).",
                paramName);
        }

        S3BucketName.ThrowIfInvalid(bucket.ToString(), paramName);
        if (slash < 0 || slash == rest.Length - 1)
        {
            throw new ArgumentException(
                $"The s3:// location of bucket '{bucket}' names no object: give s3://bucket/key, or a pattern such as s3://bucket/prefix/**/*.csv.gz.",
                paramName);
        }

        return new S3ObjectAddress(bucket.ToString(), rest[(slash + 1)..].ToString());
    }

    /// <summary>The location as <c>s3://bucket/key</c>: a file's key in the ledger, the log and every error.</summary>
    public override string ToString() => Scheme + Bucket + "/" + Key;
}
