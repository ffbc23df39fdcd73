using Ingest.Core.Tests.Infrastructure;
using Ingest.Sources;
using static Ingest.Core.Tests.Sources.S3.S3TestKit;
using static Ingest.Core.Tests.Sources.SourceTestKit;

namespace Ingest.Core.Tests.Sources.S3;

public sealed class S3ReadTests
{
    [SkippableFact]
    public async Task Plain_gz_and_zst_objects_are_read_decoded()
    {
        var server = await TestS3.GetServerAsync();
        var bucket = await server.CreateBucketAsync("codecs");
        var content = CsvBytes();
        await server.PutAsync(bucket, "data/a.csv", content);
        await server.PutAsync(bucket, "data/a.csv.gz", LoopbackHttpServer.Gzip(content));
        await server.PutAsync(bucket, "data/a.csv.zst", ZstdSourceTests.Zstd(content));
        var retries = new List<string>();
        using var opener = Opener(server.Endpoint, retries);

        foreach (var location in await ExpandAsync(opener, $"s3://{bucket}/data/a.csv*"))
        {
            Assert.Equal(content, await ReadAllAsync(opener, location));
        }

        Assert.Empty(retries);
    }

    [SkippableFact]
    public async Task An_object_is_streamed_not_downloaded_whole_before_its_first_byte_is_read()
    {
        var server = await TestS3.GetServerAsync();
        var bucket = await server.CreateBucketAsync("stream");
        var content = new byte[64 * 1024 * 1024];
        new Random(7).NextBytes(content);
        await server.PutAsync(bucket, "big.csv", content);
        await using var proxy = DroppingProxy.Start(server.Endpoint);
        using var opener = Opener(proxy.Endpoint, []);

        await using var stream = await opener.OpenAsync(SourceFile.Parse($"s3://{bucket}/big.csv"));
        var first = new byte[1];
        Assert.Equal(1, await stream.ReadAsync(first));

        // Socket buffers let a few megabytes through ahead of the reader; a whole download would be all 64 MiB.
        Assert.Equal(content[0], first[0]);
        Assert.InRange(proxy.ForwardedBytes, 1, content.Length / 2);
    }

    [SkippableFact]
    public async Task A_body_cut_mid_object_resumes_from_the_last_byte_with_a_range_pinned_to_the_etag()
    {
        var server = await TestS3.GetServerAsync();
        var bucket = await server.CreateBucketAsync("resume");
        var content = CsvBytes();
        var etag = await server.PutAsync(bucket, "data/a.csv.gz", LoopbackHttpServer.Gzip(content));
        await using var proxy = DroppingProxy.Start(server.Endpoint);
        proxy.DropOnceAfter(200_000);
        var retries = new List<string>();
        using var opener = Opener(proxy.Endpoint, retries);

        Assert.Equal(content, await ReadAllAsync(opener, $"s3://{bucket}/data/a.csv.gz"));

        Assert.Equal(1, proxy.Dropped);
        var gets = proxy.Requests.Where(r => r.RequestLine.StartsWith("GET ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, gets.Count);
        Assert.Null(gets[0].Header("Range"));
        Assert.Matches("^bytes=[1-9][0-9]*-$", gets[1].Header("Range"));
        Assert.Equal(etag, gets[1].Header("If-Match"));
        var retry = Assert.Single(retries);
        Assert.StartsWith($"Retrying s3://{bucket}/data/a.csv.gz from byte ", retry, StringComparison.Ordinal);
        Assert.Contains("(attempt 2 of 5)", retry, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_stalled_body_is_retried_from_where_it_stopped()
    {
        var server = await TestS3.GetServerAsync();
        var bucket = await server.CreateBucketAsync("stall");
        var content = CsvBytes();
        await server.PutAsync(bucket, "a.csv", content);
        await using var proxy = DroppingProxy.Start(server.Endpoint);
        proxy.StallOnceAfter(100_000);
        var retries = new List<string>();
        using var opener = SourceTestKit.Opener(retries, Options(proxy.Endpoint) with { StallTimeout = TimeSpan.FromMilliseconds(300) });

        Assert.Equal(content, await ReadAllAsync(opener, $"s3://{bucket}/a.csv"));

        Assert.Contains("(stalled read)", Assert.Single(retries), StringComparison.Ordinal);
        Assert.NotNull(proxy.Requests.Last(r => r.RequestLine.StartsWith("GET ", StringComparison.Ordinal)).Header("Range"));
    }

    [SkippableFact]
    public async Task A_body_that_trickles_is_a_stalled_read_and_a_little_after_each_reconnect_is_not_progress()
    {
        var server = await TestS3.GetServerAsync();
        var bucket = await server.CreateBucketAsync("trickle");
        await server.PutAsync(bucket, "a.csv", CsvBytes(100)); // about 7 KB, under the 16 KiB of real progress
        await using var proxy = DroppingProxy.Start(server.Endpoint);
        proxy.TrickleAfter(1_000, TimeSpan.FromMilliseconds(10)); // the headers and some body, then 100 bytes/s
        var retries = new List<string>();
        using var opener = SourceTestKit.Opener(retries, Options(proxy.Endpoint) with { StallTimeout = TimeSpan.FromSeconds(1), MaxAttempts = 4 });

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, $"s3://{bucket}/a.csv"));

        Assert.Contains("gave up after 4 attempts", error.Reason, StringComparison.Ordinal);
        Assert.Equal(3, retries.Count);
        Assert.Contains(retries, r => System.Text.RegularExpressions.Regex.IsMatch(r, @"after only \d+ bytes? in 1 s \(stalled read\)"));
        Assert.Equal(4, proxy.Requests.Count(r => r.RequestLine.StartsWith("GET ", StringComparison.Ordinal)));
    }

    [SkippableFact]
    public async Task An_object_replaced_between_attempts_requires_a_restart_of_the_file()
    {
        var server = await TestS3.GetServerAsync();
        var bucket = await server.CreateBucketAsync("replaced");
        await server.PutAsync(bucket, "data/a.csv", CsvBytes());
        await using var proxy = DroppingProxy.Start(server.Endpoint);
        proxy.DropOnceAfter(200_000, beforeDrop: () => server.PutAsync(bucket, "data/a.csv", CsvBytes(30_000)));
        using var opener = Opener(proxy.Endpoint, []);

        var error = await Assert.ThrowsAsync<SourceRestartRequiredException>(() => ReadAllAsync(opener, $"s3://{bucket}/data/a.csv"));

        Assert.True(error.IsTransient);
        Assert.Equal($"s3://{bucket}/data/a.csv", error.FileKey);
        Assert.Contains("the object changed since it was opened", error.Message, StringComparison.Ordinal);
        Assert.Contains("read again from its start", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_missing_object_is_a_final_file_error_object_not_found()
    {
        var server = await TestS3.GetServerAsync();
        var bucket = await server.CreateBucketAsync("missing");
        var retries = new List<string>();
        using var opener = Opener(server.Endpoint, retries);

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, $"s3://{bucket}/data/none.csv"));

        Assert.Equal($"s3://{bucket}/data/none.csv: object not found", error.Message);
        Assert.False(error.IsTransient);
        Assert.Empty(retries);
    }

    [SkippableFact]
    public async Task An_object_in_a_missing_bucket_is_a_file_error_naming_the_bucket()
    {
        var server = await TestS3.GetServerAsync();
        using var opener = Opener(server.Endpoint, []);

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, "s3://no-such-bucket-here/a.csv"));

        Assert.Contains("bucket 'no-such-bucket-here' does not exist", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_truncated_zst_object_is_a_broken_zstd_stream()
    {
        var server = await TestS3.GetServerAsync();
        var bucket = await server.CreateBucketAsync("cut");
        var zstd = ZstdSourceTests.Zstd(CsvBytes());
        await server.PutAsync(bucket, "a.csv.zst", zstd[..(zstd.Length / 2)]);
        using var opener = Opener(server.Endpoint, []);

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, $"s3://{bucket}/a.csv.zst"));

        Assert.Contains("broken zstd stream", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);
    }
}
