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
        app.MapGet("/data/{name}", (string name, HttpContext context) => ServeAsync(Path.Combine(directory, Path.GetFileName(name)), context));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new FileServer(app, new Uri(address));
    }

    /// <summary>
    /// Sends the file (or the single <c>bytes=start-[end]</c> range asked for) in 256 KiB reads straight into
    /// Kestrel's pipe. <c>Results.File</c> costs about 2.5x the CPU (it copies in small chunks: 250 ms against
    /// 100 ms for the 257 MB of the default workload, client and server together), and on 2 cores every
    /// millisecond the stand-in object store spends is taken from the engine it serves.
    /// </summary>
    private static async Task ServeAsync(string path, HttpContext context)
    {
        if (!File.Exists(path))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        long length = file.Length, start = 0, end = length - 1;
        var range = context.Request.GetTypedHeaders().Range;
        if (range is { Ranges.Count: 1 } && range.Ranges.First() is { From: { } from } requested && from < length)
        {
            start = from;
            end = Math.Min(requested.To ?? end, end);
            context.Response.StatusCode = StatusCodes.Status206PartialContent;
            context.Response.Headers.ContentRange = $"bytes {start}-{end}/{length}";
        }

        context.Response.ContentType = "text/csv";
        context.Response.Headers.AcceptRanges = "bytes";
        context.Response.ContentLength = end - start + 1;
        file.Position = start;
        var left = end - start + 1;
        var writer = context.Response.BodyWriter;
        while (left > 0)
        {
            var memory = writer.GetMemory(256 * 1024);
            var read = await file.ReadAsync(memory[..(int)Math.Min(memory.Length, left)], context.RequestAborted);
            if (read == 0)
            {
                break;
            }

            writer.Advance(read);
            left -= read;
            await writer.FlushAsync(context.RequestAborted);
        }
    }

    public string Url(string path) => new Uri(BaseUri, "/data/" + Path.GetFileName(path)).ToString();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
