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
}
