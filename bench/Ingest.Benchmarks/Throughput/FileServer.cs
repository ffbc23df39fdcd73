using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ingest.Benchmarks.Throughput;

/// <summary>Kestrel on 127.0.0.1 serving the generated files from disk, as an object store would (Range supported).</summary>
internal sealed class FileServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FileServer(WebApplication app, Uri baseUri)
    {
        _app = app;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    public static async Task<FileServer> StartAsync(string directory)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(System.Net.IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapGet("/data/{name}", (string name) =>
        {
            var path = Path.Combine(directory, Path.GetFileName(name));
            return File.Exists(path) ? Results.File(path, "text/csv", enableRangeProcessing: true) : Results.NotFound();
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new FileServer(app, new Uri(address));
    }

    public string Url(string path) => new Uri(BaseUri, "/data/" + Path.GetFileName(path)).ToString();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
