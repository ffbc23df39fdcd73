using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.Runtime.Credentials;
using Amazon.S3;
using Amazon.SecurityToken;

namespace Ingest.Sources.S3;

/// <summary>
/// The one place an S3 client is made: endpoint, addressing style, region and credentials from
/// <see cref="S3Settings"/> and the environment, timeouts from <see cref="SourceOptions"/>. The SDK signs every
/// request; its own retries are off because <see cref="S3Attempts"/> retries with the batch's backoff and reports
/// each retry as http sources do.
/// </summary>
internal static class S3ClientFactory
{
    /// <summary>The region used with a custom endpoint when nothing names one.</summary>
    public const string DefaultRegion = "us-east-1";

    /// <summary>A client for <paramref name="options"/>, with credentials from the chain (or the role it assumes).</summary>
    public static AmazonS3Client Create(SourceOptions options)
    {
        var config = Config(options, Environment.GetEnvironmentVariable);
        var credentials = options.S3.Credentials ?? DefaultAWSCredentialsIdentityResolver.GetCredentials(config);
        if (options.S3.RoleArn is { } roleArn)
        {
            credentials = new S3AssumedRoleCredentials(credentials, StsConfig(options, config), roleArn, options.S3.RoleSessionName ?? "ingest", options.S3.ExternalId);
        }

        return new AmazonS3Client(credentials, config);
    }

    /// <summary>The client's configuration; <paramref name="environment"/> reads environment variables.</summary>
    public static AmazonS3Config Config(SourceOptions options, Func<string, string?> environment)
    {
        var settings = options.S3;
        var endpoint = Endpoint(settings, environment);
        var region = Region(settings, environment);
        var config = new AmazonS3Config
        {
            ForcePathStyle = settings.ForcePathStyle ?? endpoint is not null,
            MaxErrorRetry = 0,
            ConnectTimeout = options.ConnectTimeout,
            // Waits are bounded by our own timers (a response's headers, then each read), never by one for the whole body.
            Timeout = Timeout.InfiniteTimeSpan,
            // Only reads are made: no checksum on requests keeps them plain for S3-compatible stores.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        };
        if (endpoint is not null)
        {
            config.ServiceURL = endpoint.AbsoluteUri;
            config.AuthenticationRegion = region ?? DefaultRegion;
        }
        else if (region is not null)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }

        return config;
    }

    /// <summary>The endpoint: the setting, else <c>AWS_ENDPOINT_URL_S3</c>, else <c>AWS_ENDPOINT_URL</c> (unless <c>AWS_IGNORE_CONFIGURED_ENDPOINT_URLS</c> is true).</summary>
    public static Uri? Endpoint(S3Settings settings, Func<string, string?> environment)
    {
        if (settings.Endpoint is not null)
        {
            return settings.Endpoint;
        }

        if (string.Equals(environment("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var text = NonEmpty(environment("AWS_ENDPOINT_URL_S3")) ?? NonEmpty(environment("AWS_ENDPOINT_URL"));
        if (text is null)
        {
            return null;
        }

        // The messages never repeat the setting: it may hold a secret.
        var endpoint = Uri.TryCreate(text, UriKind.Absolute, out var uri) ? uri : null;
        if (endpoint is null || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
        {
#pragma warning disable CA2208 // The setting is an environment variable, not a parameter: no parameter name belongs in the message.
            throw new ArgumentException("AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_S3) is not an http(s) URL such as http://127.0.0.1:9000.");
        }

        if (endpoint.UserInfo.Length != 0)
        {
            throw new ArgumentException(
                "AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_S3) holds a user name or password (user:password@): give the store's address alone, such as "
                + "http://127.0.0.1:9000, and its credentials through AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or a profile.");
#pragma warning restore CA2208
        }

        return endpoint;
    }

    /// <summary>The region: the setting, else <c>AWS_REGION</c>, else <c>AWS_DEFAULT_REGION</c>, else the profile's; null when none says.</summary>
    public static string? Region(S3Settings settings, Func<string, string?> environment) =>
        NonEmpty(settings.Region) ?? NonEmpty(environment("AWS_REGION")) ?? NonEmpty(environment("AWS_DEFAULT_REGION")) ?? ProfileRegion(environment);

    private static AmazonSecurityTokenServiceConfig StsConfig(SourceOptions options, AmazonS3Config s3)
    {
        var config = new AmazonSecurityTokenServiceConfig { ConnectTimeout = options.ConnectTimeout, Timeout = options.ConnectTimeout + options.StallTimeout };
        var region = s3.RegionEndpoint?.SystemName ?? s3.AuthenticationRegion ?? DefaultRegion;
        if (options.S3.StsEndpoint is { } endpoint)
        {
            config.ServiceURL = endpoint.AbsoluteUri;
            config.AuthenticationRegion = region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }

        return config;
    }

    // The region of the shared profile (AWS_PROFILE, else "default") in ~/.aws/config or credentials, if any.
    private static string? ProfileRegion(Func<string, string?> environment)
    {
        try
        {
            var name = NonEmpty(environment("AWS_PROFILE")) ?? "default";
            return new CredentialProfileStoreChain().TryGetProfile(name, out var profile) ? profile.Region?.SystemName : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or AmazonClientException)
        {
            return null; // an unreadable profile names no region; the credential chain reports it if it matters
        }
    }

    private static string? NonEmpty(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
