using Amazon.Runtime;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Sources.S3;
using static Ingest.Core.Tests.Sources.S3.S3TestKit;
using static Ingest.Core.Tests.Sources.SourceTestKit;

namespace Ingest.Core.Tests.Sources.S3;

public sealed class S3SecretLeakTests
{
    // s3rver takes the key S3RVER with any secret and token; the other key it refuses, echoing it in its answer.
    private const string Secret = "LEAKCHECK-SECRET-0001";
    private const string Token = "LEAKCHECK-TOKEN-0001";
    private const string RefusedKey = "AKIALEAKCHECK0000002";
    private const string RefusedSecret = "LEAKCHECK-SECRET-0002";
    private const string RefusedToken = "LEAKCHECK-TOKEN-0002";

    private static readonly string[] Forbidden =
    [
        Secret, Token, RefusedKey, RefusedSecret, RefusedToken,
        "X-Amz-Signature", "Signature=", "Credential=", "X-Amz-Security-Token", "AWS4-HMAC-SHA256",
    ];

    [SkippableFact]
    public async Task No_message_of_any_fault_holds_a_key_secret_token_or_signature()
    {
        var server = await TestS3.GetServerAsync();
        var bucket = await server.CreateBucketAsync("leak");
        await server.PutAsync(bucket, "a.csv", CsvBytes());
        var zstd = ZstdSourceTests.Zstd(CsvBytes());
        await server.PutAsync(bucket, "cut.csv.zst", zstd[..(zstd.Length / 2)]);
        var credentials = new SessionAWSCredentials(S3rverServer.AccessKey, Secret, Token);
        var refused = new SessionAWSCredentials(RefusedKey, RefusedSecret, RefusedToken);
        var messages = new List<string>();
        await using var proxy = DroppingProxy.Start(server.Endpoint);

        // A resumed read: its Retrying message.
        using (var opener = Opener(proxy.Endpoint, messages, credentials))
        {
            proxy.DropOnceAfter(100_000);
            await ReadAllAsync(opener, $"s3://{bucket}/a.csv");
            proxy.DropOnceAfter(100_000, beforeDrop: () => server.PutAsync(bucket, "a.csv", CsvBytes(30_000)));
            messages.Add(await FailureAsync(() => ReadAllAsync(opener, $"s3://{bucket}/a.csv")));
        }

        using (var opener = Opener(server.Endpoint, messages, credentials))
        {
            messages.Add(await FailureAsync(() => ReadAllAsync(opener, $"s3://{bucket}/missing.csv")));
            messages.Add(await FailureAsync(() => ReadAllAsync(opener, $"s3://{bucket}/cut.csv.zst")));
            messages.Add(await FailureAsync(() => ReadAllAsync(opener, "s3://no-such-bucket-here/a.csv")));
            messages.Add(await FailureAsync(() => ExpandAsync(opener, "s3://no-such-bucket-here/*.csv")));
            messages.Add(await FailureAsync(() => ExpandAsync(opener, $"s3://{bucket}/*.none")));
        }

        using (var opener = Opener(server.Endpoint, messages, refused))
        {
            messages.Add(await FailureAsync(() => ReadAllAsync(opener, $"s3://{bucket}/a.csv")));
            messages.Add(await FailureAsync(() => ExpandAsync(opener, $"s3://{bucket}/*.csv")));
        }

        var closed = DroppingProxy.Start(server.Endpoint);
        var unreachable = closed.Endpoint;
        await closed.DisposeAsync();
        using (var opener = SourceTestKit.Opener(messages, Options(unreachable, credentials) with { MaxAttempts = 2 }))
        {
            messages.Add(await FailureAsync(() => ReadAllAsync(opener, $"s3://{bucket}/a.csv")));
            messages.Add(await FailureAsync(() => ExpandAsync(opener, $"s3://{bucket}/*.csv")));
        }

        messages.Add(Options(server.Endpoint, credentials).ToString());
        messages.Add(new S3AssumedRoleCredentials(credentials, new Amazon.SecurityToken.AmazonSecurityTokenServiceConfig(), "arn:aws:iam::123456789012:role/r", "ingest", null).ToString());

        Assert.True(messages.Count >= 15, string.Join('\n', messages));
        Assert.Contains(messages, m => m.StartsWith("Retrying ", StringComparison.Ordinal));
        foreach (var message in messages)
        {
            foreach (var forbidden in Forbidden)
            {
                Assert.DoesNotContain(forbidden, message, StringComparison.OrdinalIgnoreCase);
            }
        }
    }

    // The whole of the error, inner exceptions and stack included, as a log or a crash report would show it.
    private static async Task<string> FailureAsync(Func<Task> action)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(action);
        Assert.True(error is FileErrorException or SourceListingException, error.ToString());
        return error.ToString();
    }
}
