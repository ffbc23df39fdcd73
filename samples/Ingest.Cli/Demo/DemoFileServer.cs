using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ingest.Cli.Demo;

/// <summary>A loopback HTTP server (Kestrel) that serves the demo's files, as a remote store would.</summary>
internal sealed class DemoFileServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private DemoFileServer(WebApplication app, Uri baseUri)
    {
        _app = app;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    public static async Task<DemoFileServer> StartAsync(IReadOnlyDictionary<string, byte[]> files, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(System.Net.IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapGet("/data/{name}", (string name) =>
            files.TryGetValue(name, out var bytes) ? Results.Bytes(bytes, "text/csv", enableRangeProcessing: true) : Results.NotFound());
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new DemoFileServer(app, new Uri(address));
    }

    public string Url(string name) => new Uri(BaseUri, $"/data/{name}").ToString();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
