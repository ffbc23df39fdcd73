using System.Security.Cryptography.X509Certificates;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Sources;
using static Ingest.Core.Tests.Sources.SourceTestKit;

namespace Ingest.Core.Tests.Sources;

public sealed class TlsTests
{
    [Fact]
    public async Task An_untrusted_certificate_is_a_final_file_error_that_says_why_and_what_to_fix()
    {
        using var certificate = LoopbackHttpServer.SelfSignedCertificate();
        await using var server = await LoopbackHttpServer.StartAsync(certificate);
        server.AddFile("/a.csv", CsvBytes(10));
        var retries = new List<string>();
        using var opener = Opener(retries);

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, server.Url("/a.csv?sig=HUSH")));

        Assert.False(error.IsTransient);
        Assert.Equal(server.Url("/a.csv").ToString(), error.FileKey);
        Assert.StartsWith("TLS handshake failed (The remote certificate is invalid because of errors in the certificate chain: UntrustedRoot)", error.Reason, StringComparison.Ordinal);
        Assert.Contains("trust its CA certificate in the system store", error.Reason, StringComparison.Ordinal);
        Assert.Contains("SSL_CERT_FILE", error.Reason, StringComparison.Ordinal);
        Assert.Contains("SSL_CERT_DIR", error.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("see inner exception", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("HUSH", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.RequestCount("/a.csv")); // the handshake failed before any request
        Assert.Empty(retries); // it would fail again
    }

    [Fact]
    public async Task A_redirect_from_https_to_http_is_refused_saying_exactly_that()
    {
        using var certificate = LoopbackHttpServer.SelfSignedCertificate();
        await using var secure = await LoopbackHttpServer.StartAsync(certificate);
        await using var plain = await LoopbackHttpServer.StartAsync();
        plain.AddFile("/a.csv", CsvBytes(10));
        secure.AddRedirect("/a.csv", plain.Url("/a.csv?sig=HUSH").ToString());
        using var opener = new SourceOpener(Fast, TrustingHandler(certificate));

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, secure.Url("/a.csv")));

        Assert.False(error.IsTransient);
        Assert.Contains($"the server redirected from https to http (HTTP 302 to {plain.Url("/a.csv")}), which is refused", error.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("too many redirects", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("HUSH", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, secure.RequestCount("/a.csv"));
        Assert.Equal(0, plain.RequestCount("/a.csv"));
    }

    // A real handler that trusts the test's own certificate, and leaves redirects to the stream as the opener's does.
    private static SocketsHttpHandler TrustingHandler(X509Certificate2 certificate) => new()
    {
        AllowAutoRedirect = false,
        AutomaticDecompression = System.Net.DecompressionMethods.None,
        SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == certificate.GetCertHashString() },
    };
}
