using Ingest.Core.Tests.Infrastructure;
using Ingest.Sources;
using static Ingest.Core.Tests.Sources.SourceTestKit;

namespace Ingest.Core.Tests.Sources;

public sealed class HttpSourceTests
{
    [Fact]
    public async Task Plain_http_file_streams_byte_for_byte_in_one_request()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        var content = CsvBytes();
        server.AddFile("/a.csv", content);
        var retries = new List<string>();
        using var opener = Opener(retries);

        Assert.Equal(content, await ReadAllAsync(opener, server.Url("/a.csv")));
        Assert.Equal(1, server.RequestCount("/a.csv"));
        Assert.Empty(retries);
    }

    [Fact]
    public async Task Two_503s_then_ok_are_retried_and_reported()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        var content = CsvBytes(100);
        server.AddFile("/a.csv", content, new HttpFault { FailFirst = 2, FailStatus = 503 });
        var retries = new List<string>();
        using var opener = Opener(retries);

        Assert.Equal(content, await ReadAllAsync(opener, server.Url("/a.csv")));
        Assert.Equal(3, server.RequestCount("/a.csv"));
        Assert.Equal(2, retries.Count);
        Assert.StartsWith($"Retrying {server.Url("/a.csv")} (attempt 2 of 5) after HTTP 503", retries[0], StringComparison.Ordinal);
        Assert.Contains("(attempt 3 of 5)", retries[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Too_many_requests_with_a_short_retry_after_is_retried()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/a.csv", CsvBytes(10), new HttpFault { FailFirst = 1, FailStatus = 429, RetryAfterSeconds = 0 });
        using var opener = Opener([]);

        Assert.Equal(CsvBytes(10).Length, (await ReadAllAsync(opener, server.Url("/a.csv"))).Length);
        Assert.Equal(2, server.RequestCount("/a.csv"));
    }

    [Fact]
    public async Task Server_errors_that_never_pass_give_up_after_max_attempts()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/a.csv", CsvBytes(10), new HttpFault { FailFirst = int.MaxValue, FailStatus = 500 });
        var retries = new List<string>();
        using var opener = Opener(retries, Fast with { MaxAttempts = 4 });

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, server.Url("/a.csv")));
        Assert.False(error.IsTransient); // Final: the engine does not repeat the attempts by retrying the file.
        Assert.Contains("HTTP 500", error.Message, StringComparison.Ordinal);
        Assert.Contains("4 attempts", error.Message, StringComparison.Ordinal);
        Assert.Equal(server.Url("/a.csv").ToString(), error.FileKey);
        Assert.Equal(4, server.RequestCount("/a.csv"));
        Assert.Equal(3, retries.Count);
    }

    [Fact]
    public async Task Not_found_is_a_file_error_at_once()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        using var opener = Opener([]);

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, server.Url("/missing.csv")));
        Assert.False(error.IsTransient);
        Assert.Contains("HTTP 404 Not Found: check the URL", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.RequestCount("/missing.csv"));
    }

    [Fact]
    public async Task Forbidden_says_the_signature_may_have_expired()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/a.csv", [], new HttpFault { Status = 403 });
        using var opener = Opener([]);

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, server.Url("/a.csv?X-Amz-Signature=abc")));
        Assert.Contains("HTTP 403 Forbidden: the URL's signature may have expired", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.RequestCount("/a.csv"));
    }

    [Fact]
    public async Task Html_page_instead_of_csv_is_a_file_error()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/a.csv", "<html><body>Sign in</body></html>"u8.ToArray(), new HttpFault { ContentType = "text/html; charset=utf-8" });
        using var opener = Opener([]);

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, server.Url("/a.csv")));
        Assert.Contains("HTML page, not CSV", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Redirect_is_followed_and_a_redirect_loop_is_a_clear_error()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/real.csv", CsvBytes(10));
        server.AddRedirect("/moved.csv", "/real.csv");
        server.AddRedirect("/loop.csv", "/loop.csv");
        using var opener = Opener([]);

        Assert.Equal(CsvBytes(10), await ReadAllAsync(opener, server.Url("/moved.csv")));
        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, server.Url("/loop.csv")));
        Assert.Contains("too many redirects", error.Message, StringComparison.Ordinal);
        Assert.Equal(1 + SourceOpener.MaxRedirects, server.RequestCount("/loop.csv"));
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://127.0.0.1/a.csv")]
    public async Task A_redirect_to_another_scheme_is_a_final_error_saying_so(string target)
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddRedirect("/away.csv", target);
        using var opener = Opener([]);

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, server.Url("/away.csv")));

        Assert.True(!error.IsTransient, error.Message);
        Assert.True(server.RequestCount("/away.csv") == 1, error.Message);
        Assert.Contains("redirect", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("hostname could not be parsed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Slow_body_within_the_stall_timeout_is_read_without_retries()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        var content = CsvBytes(500);
        server.AddFile("/a.csv", content, new HttpFault { ChunkSize = 4096, ChunkDelay = TimeSpan.FromMilliseconds(5) });
        var retries = new List<string>();
        using var opener = Opener(retries);

        Assert.Equal(content, await ReadAllAsync(opener, server.Url("/a.csv")));
        Assert.Empty(retries);
    }
}
