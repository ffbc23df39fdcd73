using Ingest.Core.Tests.Infrastructure;
using Ingest.Sources;
using static Ingest.Core.Tests.Sources.SourceTestKit;

namespace Ingest.Core.Tests.Sources;

public sealed class RetryAfterTests
{
    [Fact]
    public async Task A_retry_after_above_max_backoff_is_waited_as_the_server_asked()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        var content = CsvBytes(10);
        server.AddFile("/a.csv", content, new HttpFault { FailFirst = 1, FailStatus = 503, RetryAfterSeconds = 1 });
        var retries = new List<string>();
        using var opener = Opener(retries); // MaxBackoff 5 ms: the server's 1 s is above it

        Assert.Equal(content, await ReadAllAsync(opener, server.Url("/a.csv")));

        var retry = Assert.Single(retries);
        Assert.EndsWith("after HTTP 503 Service Unavailable in 1.0 s, as the server asked (Retry-After)", retry, StringComparison.Ordinal);
        Assert.Equal(2, server.RequestCount("/a.csv"));
    }

    [Theory]
    [InlineData(429)]
    [InlineData(503)]
    public async Task A_retry_after_above_max_retry_after_ends_the_file_at_once_saying_so(int status)
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/a.csv", CsvBytes(10), new HttpFault { FailFirst = int.MaxValue, FailStatus = status, RetryAfterSeconds = 30 });
        var retries = new List<string>();
        using var opener = Opener(retries, Fast with { MaxRetryAfter = TimeSpan.FromSeconds(10) });

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, server.Url("/a.csv?sig=HUSH")));

        Assert.False(error.IsTransient); // the engine must not try it again at once either
        Assert.Equal(server.Url("/a.csv").ToString(), error.FileKey);
        Assert.Contains($"HTTP {status}", error.Reason, StringComparison.Ordinal);
        Assert.Contains("the server asked to wait 30 s (Retry-After), more than Ingest waits (SourceOptions.MaxRetryAfter, 10 s)", error.Reason, StringComparison.Ordinal);
        Assert.Contains("running the import again later resumes it", error.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("HUSH", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.RequestCount("/a.csv"));
        Assert.Empty(retries);
    }

    [Fact]
    public void Max_retry_after_is_validated_and_defaults_to_two_minutes()
    {
        Assert.Equal(TimeSpan.FromMinutes(2), new SourceOptions().MaxRetryAfter);
        (new SourceOptions() with { MaxRetryAfter = TimeSpan.Zero }).Validate();
        var error = Assert.Throws<ArgumentException>(() => (new SourceOptions() with { MaxRetryAfter = TimeSpan.FromSeconds(-1) }).Validate());
        Assert.Contains("SourceOptions.MaxRetryAfter", error.Message, StringComparison.Ordinal);
    }
}
