using Ingest.Core.Tests.Infrastructure;
using Ingest.Sources.S3;
using static Ingest.Core.Tests.Sources.S3.S3TestKit;

namespace Ingest.Core.Tests.Sources.S3;

public sealed class S3ListingTests
{
    [SkippableFact]
    public async Task A_glob_over_1500_objects_lists_every_page_in_natural_order()
    {
        var server = await TestS3.GetServerAsync();
        var bucket = await server.CreateBucketAsync("many");
        var numbers = Enumerable.Range(1, 1500).ToList();
        await server.PutManyAsync(bucket, [
            .. numbers.Select(i => $"data/file-{i}.csv"),
            "data/file-1.txt", "data/sub/file-9999.csv", "other/file-1.csv"]);
        using var opener = Opener(server.Endpoint, []);

        var files = await ExpandAsync(opener, $"s3://{bucket}/data/file-*.csv");

        Assert.Equal(numbers.Select(i => $"s3://{bucket}/data/file-{i}.csv"), files);
    }

    [SkippableFact]
    public async Task A_globstar_matches_objects_at_every_depth_and_nothing_beside()
    {
        var server = await TestS3.GetServerAsync();
        var bucket = await server.CreateBucketAsync("deep");
        await server.PutManyAsync(bucket, [
            "sample-data/a.csv", "sample-data/2024/b.csv", "sample-data/2024/01/c.csv", "sample-data/2024/01/c.csv.gz",
            "sample-data/2024/01/readme.txt", "sample-data-old/d.csv", "e.csv"]);
        using var opener = Opener(server.Endpoint, []);

        var pattern = await ExpandAsync(opener, $"s3://{bucket}/sample-data/**/*.csv");
        var dfi = await opener.ExpandAsync(new S3BatchSource { Bucket = bucket, Prefix = "sample-data", Glob = "**/*.csv" });
        var everything = await ExpandAsync(opener, $"s3://{bucket}/**");

        string[] expected = [$"s3://{bucket}/sample-data/2024/01/c.csv", $"s3://{bucket}/sample-data/2024/b.csv", $"s3://{bucket}/sample-data/a.csv"];
        Assert.Equal(expected, pattern);
        Assert.Equal(expected, dfi);
        Assert.Equal(7, everything.Count);
    }

    [SkippableFact]
    public async Task Expanding_a_batch_replaces_each_pattern_in_place_and_keeps_other_locations()
    {
        var server = await TestS3.GetServerAsync();
        var bucket = await server.CreateBucketAsync("mixed");
        await server.PutManyAsync(bucket, ["p/file-10.csv", "p/file-2.csv", "q/x.csv"]);
        using var opener = Opener(server.Endpoint, []);

        var files = await opener.ExpandAsync([
            "https://host/first.csv", $"s3://{bucket}/p/*.csv", $"s3://{bucket}/q/x.csv", $"s3://{bucket}/**/*.csv", "/tmp/last.csv"]);

        Assert.Equal(
            ["https://host/first.csv", $"s3://{bucket}/p/file-2.csv", $"s3://{bucket}/p/file-10.csv", $"s3://{bucket}/q/x.csv", "/tmp/last.csv"],
            files);
    }

    [SkippableFact]
    public async Task A_pattern_matching_nothing_is_an_error_naming_the_pattern()
    {
        var server = await TestS3.GetServerAsync();
        var bucket = await server.CreateBucketAsync("none");
        await server.PutManyAsync(bucket, ["data/a.csv.gz", "data/b.csv.gz"]);
        using var opener = Opener(server.Endpoint, []);

        var error = await Assert.ThrowsAsync<SourceListingException>(() => ExpandAsync(opener, $"s3://{bucket}/data/**/*.csv"));

        Assert.Equal($"s3://{bucket}/data/**/*.csv", error.Pattern);
        Assert.Contains($"s3://{bucket}/data/**/*.csv", error.Message, StringComparison.Ordinal);
        Assert.Contains("matches no object (2 listed under 'data/')", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);
    }

    [SkippableFact]
    public async Task A_missing_bucket_is_an_error_naming_the_bucket_and_what_to_check()
    {
        var server = await TestS3.GetServerAsync();
        using var opener = Opener(server.Endpoint, []);

        var error = await Assert.ThrowsAsync<SourceListingException>(() => ExpandAsync(opener, "s3://no-such-bucket-here/data/*.csv"));

        Assert.Contains("bucket 'no-such-bucket-here' does not exist", error.Message, StringComparison.Ordinal);
        Assert.Contains("AWS_ENDPOINT_URL", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);
    }
}
