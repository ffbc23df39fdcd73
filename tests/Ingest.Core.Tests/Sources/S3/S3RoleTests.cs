using Amazon.Runtime;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Sources;
using Ingest.Sources.S3;
using static Ingest.Core.Tests.Sources.SourceTestKit;

namespace Ingest.Core.Tests.Sources.S3;

public sealed class S3RoleTests
{
    private const string RoleArn = "arn:aws:iam::123456789012:role/importer";

    // The host's own key, which s3rver refuses: a listing that works used the role's credentials.
    private static readonly BasicAWSCredentials HostCredentials = new("AKIAHOSTKEY000000001", "host-secret-value");

    private static SourceOptions Options(S3rverServer server, FakeSts sts, Guid batchId) => Fast with
    {
        S3 = new S3Settings
        {
            Endpoint = server.Endpoint,
            StsEndpoint = sts.Endpoint,
            Credentials = HostCredentials,
            RoleArn = RoleArn,
            RoleSessionName = S3Settings.SessionNameFor(batchId),
            ExternalId = "dfi-external-id-1",
        },
    };

    [SkippableFact]
    public async Task A_role_is_assumed_through_sts_once_per_batch_with_a_session_naming_the_batch()
    {
        var server = await TestS3.GetServerAsync();
        var bucket = await server.CreateBucketAsync("role");
        await server.PutAsync(bucket, "data/a.csv", CsvBytes(10));
        await using var sts = await FakeSts.StartAsync();
        var batchId = Guid.NewGuid();
        using var opener = new SourceOpener(Options(server, sts, batchId));

        var files = await opener.ExpandAsync(new S3BatchSource { Bucket = bucket, Prefix = "data", Glob = "*.csv", RoleArn = RoleArn });
        var content = await ReadAllAsync(opener, Assert.Single(files));

        Assert.Equal(CsvBytes(10), content);
        var request = Assert.Single(sts.Requests);
        Assert.Equal("AssumeRole", request["Action"]);
        Assert.Equal(RoleArn, request["RoleArn"]);
        Assert.Equal($"ingest-{batchId:D}", request["RoleSessionName"]);
        Assert.Equal("dfi-external-id-1", request["ExternalId"]);
    }

    [SkippableFact]
    public async Task A_role_that_cannot_be_assumed_is_a_clear_error_pointing_at_its_trust_policy()
    {
        var server = await TestS3.GetServerAsync();
        var bucket = await server.CreateBucketAsync("norole");
        await using var sts = await FakeSts.StartAsync();
        sts.Refuse = true;
        using var opener = new SourceOpener(Options(server, sts, Guid.NewGuid()));

        var listing = await Assert.ThrowsAsync<SourceListingException>(() => opener.ExpandAsync([$"s3://{bucket}/*.csv"]));
        var reading = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, $"s3://{bucket}/a.csv"));

        foreach (var error in new Exception[] { listing, reading })
        {
            Assert.Contains("the role could not be assumed (AccessDenied, HTTP 403): check that its trust policy", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("host-secret-value", error.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain("AKIAHOSTKEY000000001", error.ToString(), StringComparison.Ordinal);
        }
    }
}
