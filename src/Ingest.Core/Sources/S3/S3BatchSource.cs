using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ingest.Sources.S3;

/// <summary>
/// The DFI batch source of kind <c>s3</c> (dfipy's <c>BatchS3Files</c>): every object of <see cref="Bucket"/> under
/// <see cref="Prefix"/> whose key after the prefix matches <see cref="Glob"/> is a file of the batch, listed once
/// when the batch starts. <code>{"bucket": "s3://bucket-name", "prefix": "sample-data", "glob": "**/*.csv",
///  "credentials": {"RoleArn": "arn:aws:iam::123456789012:role/importer"}}</code>
/// Nothing in it is secret: the batch record keeps it whole.
/// </summary>
public sealed record S3BatchSource
{
    /// <summary>The bucket's name (an <c>s3://</c> prefix is dropped when read).</summary>
    public required string Bucket { get; init; }

    /// <summary>The folder listed, taken literally; a prefix without a trailing <c>/</c> is a folder too. Default empty: the whole bucket.</summary>
    public string Prefix { get; init; } = string.Empty;

    /// <summary>The shell glob (<c>*</c>, <c>?</c>, <c>**</c>) keys after <see cref="Prefix"/> must match. Default <c>**</c>: every object.</summary>
    public string Glob { get; init; } = "**";

    /// <summary>The IAM role the importer assumes (through STS) to list and read the objects. Default null: the host's own credentials.</summary>
    public string? RoleArn { get; init; }

    /// <summary>Reads the object under <c>source.s3</c>; property names are matched without regard to case, others are ignored.</summary>
    /// <exception cref="ArgumentException">No bucket, a bucket name S3 refuses, a value of the wrong type, or a RoleArn that is not a role's ARN.</exception>
    public static S3BatchSource Parse(JsonElement s3)
    {
        if (s3.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException("source.s3 must be an object: {\"bucket\": \"s3://bucket-name\", \"prefix\": \"...\", \"glob\": \"**/*.csv\"}.", nameof(s3));
        }

        string? bucket = null, prefix = null, glob = null, roleArn = null;
        foreach (var property in s3.EnumerateObject())
        {
            switch (property.Name.ToUpperInvariant())
            {
                case "BUCKET": bucket = Text(property); break;
                case "PREFIX": prefix = Text(property); break;
                case "GLOB": glob = Text(property); break;
                case "CREDENTIALS": roleArn = RoleArnOf(property.Value); break;
            }
        }

        if (string.IsNullOrWhiteSpace(bucket))
        {
            throw new ArgumentException("source.s3.bucket is missing: give the bucket as \"s3://bucket-name\" or \"bucket-name\".", nameof(s3));
        }

        var source = new S3BatchSource
        {
            Bucket = S3ObjectAddress.IsS3(bucket) ? bucket[S3ObjectAddress.Scheme.Length..].TrimEnd('/') : bucket,
            Prefix = prefix ?? string.Empty,
            Glob = string.IsNullOrEmpty(glob) ? "**" : glob,
            RoleArn = string.IsNullOrEmpty(roleArn) ? null : roleArn,
        };
        source.Validate();
        return source;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming what is wrong: a bucket name S3 refuses, or a RoleArn that is not a role's ARN.</summary>
    public void Validate()
    {
        S3BucketName.ThrowIfInvalid(Bucket, nameof(Bucket));
        ArgumentNullException.ThrowIfNull(Prefix, nameof(Prefix));
        ArgumentNullException.ThrowIfNull(Glob, nameof(Glob));
        if (RoleArn is not null && !S3RoleArn.IsValid(RoleArn))
        {
            throw new ArgumentException(
                "source.s3.credentials.RoleArn is not the ARN of an IAM role: it reads arn:aws:iam::<account id>:role/<role name>.",
                nameof(RoleArn));
        }
    }

    /// <summary>
    /// The listing pattern as an <c>s3://</c> location (<c>s3://bucket-name/sample-data/**/*.csv</c>), which
    /// <c>S3Listing</c> expands like any other. (A <c>*</c> or <c>?</c> in the prefix becomes a glob character there;
    /// <see cref="ToS3Pattern"/> keeps it literal.)
    /// </summary>
    public string ToPattern() => ToS3Pattern().ToString();

    /// <summary>The source as the JSON object DFI takes (<c>bucket</c> as <c>s3://name</c>), for the batch record.</summary>
    public JsonElement ToJson() => Status.JsonNodes.ToElement(ToNode());

    /// <summary>The source as a JSON node (what <see cref="ToJson"/> gives).</summary>
    internal JsonObject ToNode()
    {
        var json = new JsonObject
        {
            ["bucket"] = S3ObjectAddress.Scheme + Bucket,
            ["prefix"] = Prefix,
            ["glob"] = Glob,
        };
        if (RoleArn is not null)
        {
            json["credentials"] = new JsonObject { ["RoleArn"] = RoleArn };
        }

        return json;
    }

    /// <summary>The pattern listed: the prefix literal, the glob after it.</summary>
    internal S3Pattern ToS3Pattern() => S3Pattern.Create(Bucket, Prefix, Glob);

    private static string? Text(JsonProperty property) => property.Value.ValueKind switch
    {
        JsonValueKind.String => property.Value.GetString(),
        JsonValueKind.Null => null,
        _ => throw new ArgumentException($"source.s3.{property.Name} must be a string.", nameof(property)),
    };

    private static string? RoleArnOf(JsonElement credentials)
    {
        if (credentials.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (credentials.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException("source.s3.credentials must be an object: {\"RoleArn\": \"arn:aws:iam::123456789012:role/importer\"}.", nameof(credentials));
        }

        foreach (var property in credentials.EnumerateObject())
        {
            if (property.Name.Equals("RoleArn", StringComparison.OrdinalIgnoreCase))
            {
                return Text(property);
            }
        }

        return null;
    }
}
