using System.Text;
using Amazon.Runtime;

namespace Ingest.Sources.S3;

/// <summary>
/// How <c>s3://</c> objects are reached: the store's endpoint, the region and the role to assume. Credentials
/// come from the AWS SDK's default chain (environment, shared profile, container or instance role), never from
/// here, so these settings hold nothing secret. Immutable; use <c>with</c> to vary (per batch, for a role).
/// </summary>
public sealed record S3Settings
{
    /// <summary>
    /// The endpoint of an S3-compatible store (MinIO, Ceph, a local s3rver), e.g. <c>http://127.0.0.1:9000</c>.
    /// Default null: the environment's <c>AWS_ENDPOINT_URL_S3</c>, else <c>AWS_ENDPOINT_URL</c>, else AWS's own
    /// endpoint for the region.
    /// </summary>
    public Uri? Endpoint { get; init; }

    /// <summary>
    /// Path-style addressing (<c>http://host/bucket/key</c>) rather than virtual-host style
    /// (<c>http://bucket.host/key</c>). Default null: on when an endpoint is set (here or in the environment),
    /// as S3-compatible stores expect; off for AWS.
    /// </summary>
    public bool? ForcePathStyle { get; init; }

    /// <summary>
    /// The region (<c>eu-west-1</c>). Default null: <c>AWS_REGION</c>, else <c>AWS_DEFAULT_REGION</c>, else the
    /// profile's region; <c>us-east-1</c> when none is set and an endpoint is given.
    /// </summary>
    public string? Region { get; init; }

    /// <summary>
    /// An IAM role to assume through STS before listing and reading (a DFI <c>source.s3.credentials.RoleArn</c>).
    /// Default null: the chain's credentials are used as they are.
    /// </summary>
    public string? RoleArn { get; init; }

    /// <summary>
    /// The STS session name of the role's session, seen in the bucket owner's CloudTrail; use
    /// <see cref="SessionNameFor"/> to name the batch. Default null: <c>ingest</c>.
    /// </summary>
    public string? RoleSessionName { get; init; }

    /// <summary>The external id the role's trust policy asks for (<c>sts:ExternalId</c>). Default null: none sent.</summary>
    public string? ExternalId { get; init; }

    /// <summary>
    /// The STS endpoint used to assume <see cref="RoleArn"/>. Default null: the SDK's own choice
    /// (<c>AWS_ENDPOINT_URL_STS</c>, else <c>AWS_ENDPOINT_URL</c>, else STS in the region).
    /// </summary>
    public Uri? StsEndpoint { get; init; }

    /// <summary>Credentials to use instead of the default chain: for tests and hosts that hold their own. Never printed.</summary>
    internal AWSCredentials? Credentials { get; init; }

    /// <summary>The session name for a batch: <c>ingest-&lt;batch id&gt;</c> (STS allows <c>[\w+=,.@-]</c>, at most 64 characters).</summary>
    public static string SessionNameFor(Guid batchId) => S3RoleArn.SessionName("ingest-" + batchId.ToString("D"));

    /// <summary>
    /// The session name of a dry run that has no batch id: <c>ingest-dry-run-&lt;random id&gt;</c>, so the bucket owner's
    /// CloudTrail tells a check that wrote nothing from a batch (and never shows a batch id of zeros).
    /// </summary>
    internal static string DryRunSessionName() => S3RoleArn.SessionName("ingest-dry-run-" + Guid.NewGuid().ToString("D"));

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        CheckEndpoint(Endpoint, nameof(Endpoint));
        CheckEndpoint(StsEndpoint, nameof(StsEndpoint));
        Check(Region is null || (Region.Length > 0 && Region.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')), nameof(Region), "must be a region name such as eu-west-1");
        Check(RoleArn is null || S3RoleArn.IsValid(RoleArn), nameof(RoleArn), "must be an IAM role's ARN: arn:aws:iam::<account id>:role/<role name>");
        Check(RoleSessionName is null || S3RoleArn.SessionName(RoleSessionName) == RoleSessionName, nameof(RoleSessionName), "must be 2 to 64 letters, digits or +=,.@_- (see SessionNameFor)");
        Check(ExternalId is null || ExternalId.Length is >= 2 and <= 1224, nameof(ExternalId), "must be 2 to 1,224 characters");
    }

    /// <summary>The settings without the external id's value or any credentials.</summary>
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("Endpoint = ").Append(Endpoint)
            .Append(", ForcePathStyle = ").Append(ForcePathStyle)
            .Append(", Region = ").Append(Region)
            .Append(", RoleArn = ").Append(RoleArn)
            .Append(", RoleSessionName = ").Append(RoleSessionName)
            .Append(", ExternalId = ").Append(ExternalId is null ? string.Empty : "(set)")
            .Append(", StsEndpoint = ").Append(StsEndpoint)
            .Append(", Credentials = ").Append(Credentials is null ? "(default chain)" : "(given)");
        return true;
    }

    private static void CheckEndpoint(Uri? endpoint, string name) => Check(
        endpoint is null || (endpoint.IsAbsoluteUri && (endpoint.Scheme == Uri.UriSchemeHttp || endpoint.Scheme == Uri.UriSchemeHttps)
            && endpoint.UserInfo.Length == 0 && endpoint.Query.Length == 0),
        name,
        "must be an absolute http(s) URL without user info or query, such as http://127.0.0.1:9000");

    private static void Check(bool ok, string name, string rule)
    {
        if (!ok)
        {
            throw new ArgumentException($"SourceOptions.S3.{name} {rule}.", name);
        }
    }
}
