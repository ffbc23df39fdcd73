using System.Net;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Sources;
using static Ingest.Core.Tests.Sources.SourceTestKit;

namespace Ingest.Core.Tests.Sources;

public sealed class ResumeTests
{
    [Fact]
    public async Task Cut_mid_body_resumes_with_a_range_request_when_the_server_supports_it()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        var content = CsvBytes();
        server.AddFile("/a.csv", content, new HttpFault { DropAfterBytes = 100_000 });
        var retries = new List<string>();
        using var opener = Opener(retries);

        Assert.Equal(content, await ReadAllAsync(opener, server.Url("/a.csv")));
        var requests = server.Requests("/a.csv");
        Assert.Equal(2, requests.Count);
        Assert.Equal((int)HttpStatusCode.PartialContent, requests[1].Status);
        Assert.StartsWith("bytes=", requests[1].Range, StringComparison.Ordinal);
        Assert.NotNull(requests[1].IfRange);
        var retry = Assert.Single(retries);
        Assert.Contains(" from byte ", retry, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cut_mid_body_without_range_support_requires_a_restart()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/a.csv", CsvBytes(), new HttpFault { DropAfterBytes = 100_000, SupportsRange = false });
        using var opener = Opener([]);

        var error = await Assert.ThrowsAsync<SourceRestartRequiredException>(() => ReadAllAsync(opener, server.Url("/a.csv")));
        Assert.True(error.IsTransient);
        Assert.Equal((int)HttpStatusCode.OK, server.Requests("/a.csv")[^1].Status);
    }

    [Fact]
    public async Task A_range_answer_of_another_version_of_the_file_requires_a_restart()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/a.csv", CsvBytes(), new HttpFault { DropAfterBytes = 100_000, RangeOfAnotherVersionETag = "\"v2\"" });
        using var opener = Opener([]);

        var error = await Assert.ThrowsAsync<SourceRestartRequiredException>(() => ReadAllAsync(opener, server.Url("/a.csv")));

        Assert.Contains("answered HTTP 206 to a request for the rest: the file must be read again from its start", error.Message, StringComparison.Ordinal);
        Assert.Equal((int)HttpStatusCode.PartialContent, server.Requests("/a.csv")[^1].Status);
    }

    [Fact]
    public async Task Cut_mid_body_without_validators_requires_a_restart_without_asking_again()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/a.csv", CsvBytes(), new HttpFault { DropAfterBytes = 100_000, SendValidators = false });
        using var opener = Opener([]);

        var error = await Assert.ThrowsAsync<SourceRestartRequiredException>(() => ReadAllAsync(opener, server.Url("/a.csv")));
        Assert.Contains("read again from its start", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.RequestCount("/a.csv"));
    }

    [Fact]
    public async Task Stalled_read_is_retried_from_where_it_stopped()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        var content = CsvBytes();
        server.AddFile("/a.csv", content, new HttpFault { StallAfterBytes = 50_000 });
        var retries = new List<string>();
        using var opener = Opener(retries, Fast with { StallTimeout = TimeSpan.FromMilliseconds(300) });

        Assert.Equal(content, await ReadAllAsync(opener, server.Url("/a.csv")));
        Assert.Contains("stalled", Assert.Single(retries), StringComparison.Ordinal);
        Assert.Equal((int)HttpStatusCode.PartialContent, server.Requests("/a.csv")[1].Status);
    }

    [Fact]
    public async Task Gzip_encoded_body_cut_mid_body_resumes_on_the_raw_bytes()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        var content = CsvBytes();
        server.AddFile("/a.csv", content, new HttpFault { GzipEncoded = true, DropAfterBytes = 40_000 });
        using var opener = Opener([]);

        Assert.Equal(content, await ReadAllAsync(opener, server.Url("/a.csv")));
        Assert.Equal((int)HttpStatusCode.PartialContent, server.Requests("/a.csv")[1].Status);
    }

    [Fact]
    public async Task Connection_cut_on_every_response_gives_up_after_max_attempts_without_progress()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/a.csv", CsvBytes(), new HttpFault { DropAfterBytes = 0, DropFirst = int.MaxValue });
        using var opener = Opener([], Fast with { MaxAttempts = 3 });

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, server.Url("/a.csv")));
        Assert.False(error.IsTransient);
        Assert.Equal(3, server.RequestCount("/a.csv"));
    }
}
