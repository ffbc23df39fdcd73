using Amazon.Runtime;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Sources.S3;
using static Ingest.Core.Tests.Sources.S3.S3TestKit;
using static Ingest.Core.Tests.Sources.SourceTestKit;

namespace Ingest.Core.Tests.Sources.S3;

public sealed class S3AccessTests
{
    [SkippableFact]
    public async Task Refused_credentials_are_a_clear_error_naming_the_bucket_not_the_key()
    {
        var server = await TestS3.GetServerAsync();
        var bucket = await server.CreateBucketAsync("refused");
        await server.PutAsync(bucket, "a.csv", CsvBytes(10));
        var credentials = new BasicAWSCredentials("AKIAREFUSEDKEY000001", "refused-secret-value");
        var retries = new List<string>();
        using var opener = Opener(server.Endpoint, retries, credentials);

        var listing = await Assert.ThrowsAsync<SourceListingException>(() => ExpandAsync(opener, $"s3://{bucket}/*.csv"));
        var reading = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, $"s3://{bucket}/a.csv"));

        foreach (var error in new Exception[] { listing, reading })
        {
            Assert.Contains($"the credentials were refused for bucket '{bucket}' (InvalidAccessKeyId, HTTP 403)", error.Message, StringComparison.Ordinal);
            Assert.Contains("AWS_ACCESS_KEY_ID", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("AKIAREFUSEDKEY000001", error.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain("refused-secret-value", error.ToString(), StringComparison.Ordinal);
        }

        Assert.False(reading.IsTransient);
        Assert.Empty(retries);
    }

    [Fact]
    public async Task An_unreachable_store_is_retried_with_backoff_then_a_transient_error()
    {
        var closed = ClosedEndpoint();
        var retries = new List<string>();
        using var opener = SourceTestKit.Opener(retries, Options(closed) with { MaxAttempts = 3 });

        var listing = await Assert.ThrowsAsync<SourceListingException>(() => ExpandAsync(opener, "s3://some-bucket/*.csv"));
        var reading = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, "s3://some-bucket/a.csv"));

        Assert.True(listing.IsTransient);
        Assert.Contains("gave up after 3 attempts: connection failed", listing.Message, StringComparison.Ordinal);
        Assert.Contains("gave up after 3 attempts: connection failed", reading.Message, StringComparison.Ordinal);
        Assert.Equal(4, retries.Count);
        Assert.StartsWith("Retrying s3://some-bucket/*.csv (attempt 2 of 3) after connection failed", retries[0], StringComparison.Ordinal);
        Assert.StartsWith("Retrying s3://some-bucket/a.csv (attempt 2 of 3) after connection failed", retries[2], StringComparison.Ordinal);
    }

    // A loopback port nothing listens on (one just let go).
    private static Uri ClosedEndpoint()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}/");
    }
}
