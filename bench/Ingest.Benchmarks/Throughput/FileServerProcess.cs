using System.Diagnostics;

namespace Ingest.Benchmarks.Throughput;

/// <summary>
/// The loopback <see cref="FileServer"/> in a process of its own (<c>serve-files</c>), started through
/// <c>setsid</c> when it is on the PATH, so it is a session and a scheduling group (Linux autogroup) of its
/// own: it stands in for an object store on another machine, so it must neither share the engine's CPU
/// time nor take on the engine's lowered priority in the "yielding CPU" rows.
/// </summary>
internal sealed class FileServerProcess : IAsyncDisposable
{
    private readonly Process _process;

    private FileServerProcess(Process process, Uri baseUri)
    {
        _process = process;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    /// <summary>Whether it runs in a session of its own (<c>setsid</c> found).</summary>
    public bool OwnSession { get; private init; }

    public static async Task<FileServerProcess> StartAsync(string directory)
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("no process path to start the file server with");
        var setsid = Loaders.FindOnPath("setsid");
        var start = new ProcessStartInfo(setsid ?? host)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (setsid is not null)
        {
            start.ArgumentList.Add("--wait");
            start.ArgumentList.Add(host);
        }

        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(typeof(FileServerProcess).Assembly.Location);
        }

        start.ArgumentList.Add("serve-files");
        start.ArgumentList.Add(directory);
        var process = Process.Start(start) ?? throw new InvalidOperationException("the file server did not start");
        string? line;
        try
        {
            line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException("the file server did not say its address within 30 s");
        }

        if (!Uri.TryCreate(line, UriKind.Absolute, out var baseUri))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"the file server said '{line}' instead of its address");
        }

        return new FileServerProcess(process, baseUri) { OwnSession = setsid is not null };
    }

    /// <summary>Serves <paramref name="directory"/> until its standard input closes; prints its base address first.</summary>
    public static async Task<int> ServeAsync(string directory)
    {
        await using var server = await FileServer.StartAsync(directory);
        Console.WriteLine(server.BaseUri);
        Console.Out.Flush();
        await Console.In.ReadToEndAsync();
        return 0;
    }

    public string Url(string path) => new Uri(BaseUri, "/data/" + Path.GetFileName(path)).ToString();

    public async ValueTask DisposeAsync()
    {
        _process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }
}
