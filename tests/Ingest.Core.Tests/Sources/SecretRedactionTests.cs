using System.Text;
using Ingest.Core.Tests.Infrastructure;
using static Ingest.Core.Tests.Sources.SourceTestKit;

namespace Ingest.Core.Tests.Sources;

public sealed class SecretRedactionTests
{
    private const string Secret = "SECRET";

    private static string Presigned(LoopbackHttpServer server, string path) =>
        $"http://user:{Secret}@127.0.0.1:{server.BaseUri.Port}{path}?X-Amz-Signature={Secret}&X-Amz-Credential={Secret}";

    [Fact]
    public async Task Retries_and_exhaustion_never_show_the_signature_or_user_info()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/a.csv", CsvBytes(10), new HttpFault { FailFirst = int.MaxValue });
        var retries = new List<string>();
        using var opener = Opener(retries, Fast with { MaxAttempts = 3 });

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, Presigned(server, "/a.csv")));

        Assert.Equal($"http://127.0.0.1:{server.BaseUri.Port}/a.csv", error.FileKey);
        Assert.DoesNotContain(Secret, error.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, retries.Count);
        Assert.All(retries, message => Assert.DoesNotContain(Secret, message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Final_errors_and_restarts_never_show_the_signature_or_user_info()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/cut.csv", CsvBytes(), new HttpFault { DropAfterBytes = 50_000, SupportsRange = false });
        server.AddFile("/page.csv", "<html></html>"u8.ToArray(), new HttpFault { ContentType = "text/html" });
        server.AddFile("/broken.csv.gz", LoopbackHttpServer.Gzip(CsvBytes())[..1000]);
        var retries = new List<string>();
        using var opener = Opener(retries);

        foreach (var path in new[] { "/cut.csv", "/page.csv", "/broken.csv.gz", "/missing.csv" })
        {
            var error = await Assert.ThrowsAnyAsync<FileErrorException>(() => ReadAllAsync(opener, Presigned(server, path)));
            Assert.DoesNotContain(Secret, error.ToString(), StringComparison.Ordinal);
        }

        Assert.All(retries, message => Assert.DoesNotContain(Secret, message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task User_info_is_sent_as_basic_credentials_not_in_the_request_line()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/a.csv", CsvBytes(10));
        using var opener = Opener([]);

        await ReadAllAsync(opener, Presigned(server, "/a.csv"));

        var request = Assert.Single(server.Requests("/a.csv"));
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"user:{Secret}")), request.Authorization);
        Assert.Contains($"X-Amz-Signature={Secret}", request.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Credentials_follow_a_redirect_within_their_origin_and_never_to_another()
    {
        await using var first = await LoopbackHttpServer.StartAsync();
        await using var other = await LoopbackHttpServer.StartAsync();
        other.AddFile("/b.csv", CsvBytes(10));
        first.AddFile("/a.csv", CsvBytes(10));
        first.AddRedirect("/moved.csv", "/a.csv");
        first.AddRedirect("/away.csv", other.Url("/b.csv").ToString());
        using var opener = Opener([]);

        Assert.Equal(CsvBytes(10), await ReadAllAsync(opener, Presigned(first, "/moved.csv")));
        Assert.Equal(CsvBytes(10), await ReadAllAsync(opener, Presigned(first, "/away.csv")));

        var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"user:{Secret}"));
        Assert.Equal(basic, Assert.Single(first.Requests("/a.csv")).Authorization);
        Assert.Equal(basic, Assert.Single(first.Requests("/away.csv")).Authorization);
        Assert.Null(Assert.Single(other.Requests("/b.csv")).Authorization);
    }
}
