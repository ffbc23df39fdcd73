using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ingest.Core.Tests.Infrastructure;

/// <summary>
/// A real HTTP server (Kestrel) on 127.0.0.1 and a free port that serves in-memory files by path,
/// each with its own <see cref="HttpFault"/>s, and records every request it answers.
/// <code>
/// await using var server = await LoopbackHttpServer.StartAsync();
/// server.AddFile("/a.csv", bytes, new HttpFault { FailFirst = 2 });
/// Uri url = server.Url("/a.csv");
/// </code>
/// </summary>
public sealed partial class LoopbackHttpServer : IAsyncDisposable
{
    private static readonly DateTimeOffset LastModified = new(2024, 1, 25, 15, 27, 52, TimeSpan.Zero);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentQueue<HttpServedRequest>> _served = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly WebApplication _app;

    private LoopbackHttpServer(WebApplication app, Uri baseUri)
    {
        _app = app;
        BaseUri = baseUri;
    }

    /// <summary>The server's root, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseUri { get; }

    /// <summary>Starts a server on a free loopback port; over https with <paramref name="certificate"/> when given.</summary>
    public static async Task<LoopbackHttpServer> StartAsync(X509Certificate2? certificate = null, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        if (certificate is not null)
        {
            builder.WebHost.UseKestrelHttpsConfiguration();
        }

        builder.WebHost.ConfigureKestrel(options => options.Listen(IPAddress.Loopback, 0, listen =>
        {
            if (certificate is not null)
            {
                listen.UseHttps(certificate);
            }
        }));
        var app = builder.Build();
        LoopbackHttpServer? server = null;
        app.Run(context => server!.ServeAsync(context));
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server = new LoopbackHttpServer(app, new Uri(address.EndsWith('/') ? address : address + "/"));
        return server;
    }

    /// <summary>The absolute URL of <paramref name="pathAndQuery"/> (e.g. <c>/a.csv?sig=x</c>) on this server.</summary>
    public Uri Url(string pathAndQuery) => new(BaseUri, pathAndQuery);

    /// <summary>Serves <paramref name="content"/> at <paramref name="path"/> (replacing what was there).</summary>
    public void AddFile(string path, byte[] content, HttpFault? fault = null)
    {
        fault ??= new HttpFault();
        var body = fault.GzipEncoded ? Gzip(content) : content;
        var etag = "\"" + Convert.ToHexString(SHA256.HashData(body), 0, 8) + "\"";
        _entries[path] = new Entry(body, fault, etag, null);
    }

    /// <summary>Answers <paramref name="path"/> with <c>302 Found</c> to <paramref name="location"/> (a path or URL); a path to itself is a loop.</summary>
    public void AddRedirect(string path, string location) => _entries[path] = new Entry([], new HttpFault(), null, location);

    /// <summary>How many requests for <paramref name="path"/> (any query) the server answered.</summary>
    public int RequestCount(string path) => Requests(path).Count;

    /// <summary>The requests for <paramref name="path"/> the server answered, in order.</summary>
    public IReadOnlyList<HttpServedRequest> Requests(string path) => _served.TryGetValue(path, out var served) ? served.ToArray() : [];

    /// <summary>Stops the server, releasing requests held by a stall.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
        _stopping.Dispose();
    }

    /// <summary>
    /// A self-signed certificate for 127.0.0.1 (and localhost), made here: no authority a client trusts signed it.
    /// </summary>
    public static X509Certificate2 SelfSignedCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=Ingest test server", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

        // Through PKCS#12, so the key is one the TLS stack can use on every platform.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), password: null);
    }

    /// <summary>Gzip-compresses <paramref name="content"/>; for tests that serve <c>.gz</c> files.</summary>
    public static byte[] Gzip(byte[] content)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(content);
        }

        return buffer.ToArray();
    }

    private sealed class Entry(byte[] body, HttpFault fault, string? etag, string? redirect)
    {
        private int _requests;
        private int _bodies;

        public byte[] Body { get; } = body;

        public HttpFault Fault { get; } = fault;

        public string? ETag { get; } = etag;

        public string? Redirect { get; } = redirect;

        /// <summary>The 0-based index of this request among all requests for the path.</summary>
        public int NextRequest() => Interlocked.Increment(ref _requests) - 1;

        /// <summary>The 0-based index of this response among those that send a body.</summary>
        public int NextBody() => Interlocked.Increment(ref _bodies) - 1;
    }
}
