using Amazon.Runtime;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Sources;
using Ingest.Sources.S3;

namespace Ingest.Core.Tests.Sources.S3;

/// <summary>Shared helpers of the S3 source tests: options pointing at a server, openers recording retries.</summary>
internal static class S3TestKit
{
    /// <summary>Fast options with the S3 endpoint <paramref name="endpoint"/> and the given (else s3rver's) credentials.</summary>
    public static SourceOptions Options(Uri endpoint, AWSCredentials? credentials = null) => SourceTestKit.Fast with
    {
        S3 = new S3Settings
        {
            Endpoint = endpoint,
            Credentials = credentials ?? new BasicAWSCredentials(S3rverServer.AccessKey, S3rverServer.SecretKey),
        },
    };

    /// <summary>An opener of <paramref name="endpoint"/> that records every Retrying message.</summary>
    public static SourceOpener Opener(Uri endpoint, List<string> retries, AWSCredentials? credentials = null) =>
        SourceTestKit.Opener(retries, Options(endpoint, credentials));

    /// <summary>The locations <paramref name="pattern"/> expands to.</summary>
    public static Task<IReadOnlyList<string>> ExpandAsync(SourceOpener opener, string pattern) => opener.ExpandAsync([pattern]);
}
