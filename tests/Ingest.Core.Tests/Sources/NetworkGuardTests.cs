using System.Net;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Sources;
using static Ingest.Core.Tests.Sources.SourceTestKit;

namespace Ingest.Core.Tests.Sources;

public sealed class NetworkGuardTests
{
    private static readonly SourceOptions Guarded = Fast with { AllowPrivateNetworks = false };

    [Theory]
    [InlineData("127.0.0.1", "a loopback address")]
    [InlineData("127.255.0.9", "a loopback address")]
    [InlineData("10.1.2.3", "a private address")]
    [InlineData("172.16.0.1", "a private address")]
    [InlineData("172.31.255.255", "a private address")]
    [InlineData("192.168.1.1", "a private address")]
    [InlineData("169.254.169.254", "a link-local address (cloud metadata service)")]
    [InlineData("169.254.1.1", "a link-local address")]
    [InlineData("100.64.0.1", "a shared (carrier-grade NAT) address")]
    [InlineData("100.100.100.200", "a shared (carrier-grade NAT) address")]
    [InlineData("0.0.0.0", "an unspecified ('this network') address")]
    [InlineData("224.0.0.1", "a multicast address")]
    [InlineData("255.255.255.255", "a reserved or broadcast address")]
    [InlineData("::", "an unspecified address")]
    [InlineData("::1", "a loopback address")]
    [InlineData("fc00::1", "a private (unique local) address")]
    [InlineData("fd00:ec2::254", "a private (unique local) address")]
    [InlineData("fe80::1", "a link-local address")]
    [InlineData("ff02::1", "a multicast address")]
    [InlineData("::ffff:127.0.0.1", "a loopback address")]
    [InlineData("::ffff:169.254.169.254", "a link-local address (cloud metadata service)")]
    [InlineData("64:ff9b::a00:1", "a private address")]
    [InlineData("2002:c0a8:101::1", "a private address")]
    public void Non_public_addresses_are_named_by_kind(string address, string kind) =>
        Assert.Equal(kind, NetworkGuard.DeniedKind(IPAddress.Parse(address)));

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("169.255.0.1")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("::ffff:8.8.8.8")]
    public void Public_addresses_pass(string address) => Assert.Null(NetworkGuard.DeniedKind(IPAddress.Parse(address)));

    [Fact]
    public async Task Guard_off_by_default_so_loopback_sources_load()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/a.csv", CsvBytes(10));
        using var opener = Opener([]);

        Assert.Equal(CsvBytes(10), await ReadAllAsync(opener, server.Url("/a.csv")));
    }

    [Fact]
    public async Task Guard_on_denies_a_loopback_url_before_any_request_and_does_not_retry()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/a.csv", CsvBytes(10));
        var retries = new List<string>();
        using var opener = Opener(retries, Guarded);

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, server.Url("/a.csv?sig=SECRET")));

        Assert.False(error.IsTransient);
        Assert.Equal(server.Url("/a.csv").ToString(), error.FileKey);
        Assert.Contains("127.0.0.1 is a loopback address; private networks are not allowed for this host", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.RequestCount("/a.csv"));
        Assert.Empty(retries);
    }

    [Fact]
    public async Task Guard_on_checks_what_a_host_name_resolves_to()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/a.csv", CsvBytes(10));
        using var opener = Opener([], Guarded);

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, $"http://localhost:{server.BaseUri.Port}/a.csv"));

        Assert.Matches(@"localhost resolves to (127\.0\.0\.1|::1), a loopback address; private networks are not allowed", error.Message);
        Assert.Equal(0, server.RequestCount("/a.csv"));
    }

    [Theory]
    [InlineData("127.0.0.0/8")]
    [InlineData("127.0.0.1")]
    [InlineData("::ffff:127.0.0.0/104")]
    public async Task An_allow_listed_cidr_or_address_overrides_the_guard(string allowed)
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/a.csv", CsvBytes(10));
        using var opener = Opener([], Guarded with { AllowedNetworks = [allowed] });

        Assert.Equal(CsvBytes(10), await ReadAllAsync(opener, server.Url("/a.csv")));
    }

    [Fact]
    public async Task An_allow_listed_host_connects_to_whichever_of_its_addresses_answers()
    {
        // The server listens on 127.0.0.1 only; localhost may resolve to ::1 first.
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/a.csv", CsvBytes(10));
        using var opener = Opener([], Guarded with { AllowedNetworks = ["LOCALHOST"] });

        Assert.Equal(CsvBytes(10), await ReadAllAsync(opener, $"http://localhost:{server.BaseUri.Port}/a.csv"));
    }

    [Fact]
    public async Task A_redirect_from_an_allowed_host_to_a_denied_address_is_denied_on_the_hop()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/secret.csv", CsvBytes(10));
        server.AddRedirect("/a.csv", server.Url("/secret.csv").ToString()); // http://127.0.0.1:port/secret.csv
        using var opener = Opener([], Guarded with { AllowedNetworks = ["localhost"] });

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, $"http://localhost:{server.BaseUri.Port}/a.csv"));

        Assert.Contains("127.0.0.1 is a loopback address; private networks are not allowed", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.RequestCount("/a.csv"));
        Assert.Equal(0, server.RequestCount("/secret.csv"));
    }

    [Fact]
    public async Task Local_files_can_be_refused_for_hosts_that_serve_others()
    {
        var path = Path.GetTempFileName();
        try
        {
            using var opener = Opener([], Fast with { AllowLocalFiles = false });
            var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, path));
            Assert.Contains("local files are not allowed for this host", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("10.0.0.0/33")]
    [InlineData("not a host")]
    [InlineData("")]
    [InlineData("http://x/")]
    public void An_allow_list_entry_that_is_not_a_host_address_or_cidr_is_refused(string entry)
    {
        var error = Assert.Throws<ArgumentException>(() => (Fast with { AllowedNetworks = [entry] }).Validate());
        Assert.Contains("SourceOptions.AllowedNetworks", error.Message, StringComparison.Ordinal);
    }
}
