using System.Text;
using Ingest.Core.Tests.Engine;
using Ingest.Core.Tests.Infrastructure;

namespace Ingest.Core.Tests.BadInput;

/// <summary>Servers that answer with something other than the file, through the engine.</summary>
public sealed class HttpAnswerTests
{
    [SkippableFact]
    public async Task An_html_error_page_served_with_200_is_a_file_error()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/a.csv", "<!DOCTYPE html><html><body>Sign in</body></html>"u8.ToArray(), new HttpFault { ContentType = "text/html; charset=utf-8" });
        var url = server.Url("/a.csv").ToString();

        var result = await f.ImportAsync([url + "?sig=HUSH"]);

        await Outcome.FileErrorAsync(f, result, url, "the server answered with an HTML page, not CSV: check the URL");
        Assert.DoesNotContain("HUSH", result.Log, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData(404, "HTTP 404 Not Found: check the URL")]
    [InlineData(403, "HTTP 403 Forbidden: the URL's signature may have expired, or access is denied")]
    public async Task A_client_error_status_is_a_file_error_without_retries(int status, string reason)
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/a.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(5)), new HttpFault { Status = status });
        var url = server.Url("/a.csv").ToString();

        var result = await f.ImportAsync([url]);

        await Outcome.FileErrorAsync(f, result, url, reason);
        Assert.Equal(1, server.RequestCount("/a.csv"));
    }

    [SkippableFact]
    public async Task Http_500_is_retried_then_a_file_error_saying_how_many_attempts_were_made()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/a.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(5)), new HttpFault { FailFirst = int.MaxValue, FailStatus = 500 });
        var url = server.Url("/a.csv").ToString();

        var result = await f.ImportAsync([url]);

        await Outcome.FileErrorAsync(f, result, url, "gave up after 5 attempts: HTTP 500 Internal Server Error");

        // Five requests, as the message says: a source that gave up is not tried again as a whole file.
        Assert.Equal(5, server.RequestCount("/a.csv"));
        Assert.Contains($"Retrying {url} (attempt 2 of 5) after HTTP 500", result.Log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_redirect_loop_is_a_file_error()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddRedirect("/loop.csv", "/loop.csv");
        var url = server.Url("/loop.csv").ToString();

        var result = await f.ImportAsync([url]);

        await Outcome.FileErrorAsync(f, result, url, "too many redirects");
        Assert.InRange(server.RequestCount("/loop.csv"), 2, 10);
    }

    [SkippableFact]
    public async Task With_the_ssrf_guard_on_a_loopback_url_is_a_file_error_and_never_fetched()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with
        {
            Source = EngineFixture.FastOptions.Source with { AllowPrivateNetworks = false },
        });
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/a.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(5)));
        var url = server.Url("/a.csv").ToString();

        var result = await f.ImportAsync([url]);

        await Outcome.FileErrorAsync(f, result, url, "127.0.0.1 is a loopback address; private networks are not allowed for this host");
        Assert.Equal(0, server.RequestCount("/a.csv"));
    }
}
