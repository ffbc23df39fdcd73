using Amazon.Runtime;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;

namespace Ingest.Sources.S3;

/// <summary>
/// The temporary credentials of an IAM role, assumed through STS with the chain's credentials and renewed before
/// they expire. The SDK's own <c>AssumeRoleAWSCredentials</c> picks its STS endpoint and region by itself; this
/// one uses the batch's (<see cref="S3Settings.StsEndpoint"/>, the S3 region), and names the session.
/// </summary>
internal sealed class S3AssumedRoleCredentials(
    AWSCredentials source, AmazonSecurityTokenServiceConfig config, string roleArn, string sessionName, string? externalId) : RefreshingAWSCredentials
{
    private static readonly TimeSpan Duration = TimeSpan.FromHours(1);

    /// <summary>The role assumed.</summary>
    public string RoleArn { get; } = roleArn;

    /// <summary>The STS session name.</summary>
    public string SessionName { get; } = sessionName;

    protected override CredentialsRefreshState GenerateNewCredentials() =>
        GenerateNewCredentialsAsync().GetAwaiter().GetResult();

    protected override async Task<CredentialsRefreshState> GenerateNewCredentialsAsync()
    {
        using var sts = new AmazonSecurityTokenServiceClient(source, config);
        var request = new AssumeRoleRequest
        {
            RoleArn = RoleArn,
            RoleSessionName = SessionName,
            DurationSeconds = (int)Duration.TotalSeconds,
        };
        if (externalId is not null)
        {
            request.ExternalId = externalId;
        }

        var response = await sts.AssumeRoleAsync(request).ConfigureAwait(false);
        var credentials = response.Credentials;
        var expiration = credentials.Expiration ?? DateTime.UtcNow.Add(Duration);
        return new CredentialsRefreshState(
            new ImmutableCredentials(credentials.AccessKeyId, credentials.SecretAccessKey, credentials.SessionToken),
            expiration.ToUniversalTime());
    }

    /// <inheritdoc/>
    public override string ToString() => $"role {RoleArn} (session {SessionName})";
}
