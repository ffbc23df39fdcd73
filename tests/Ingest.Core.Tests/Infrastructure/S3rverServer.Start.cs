using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace Ingest.Core.Tests.Infrastructure;

/// <summary>Finding Node.js and s3rver, and starting them.</summary>
public sealed partial class S3rverServer
{
    /// <summary>
    /// The folder s3rver is installed into (<c>npm install --prefix tests/.s3rver s3rver@3.7.1</c>), from the repository
    /// root: by <c>.ci/run</c>, else by the harness itself on first use when npm is on PATH.
    /// </summary>
    public const string InstallFolder = "tests/.s3rver";

    /// <summary>The environment variable naming another folder holding <c>node_modules/s3rver</c>.</summary>
    public const string InstallFolderVariable = "INGEST_S3RVER_DIR";

    // Starts s3rver on 127.0.0.1 and a free port, prints the port, and exits when stdin closes, deleting its folder:
    // when the test process dies, even killed, its pipe closes and the server and its objects go with it.
    private const string Launcher = """
        'use strict';
        const [, , moduleDir, directory, folder] = process.argv;
        const S3rver = require(require('path').join(moduleDir, 'node_modules', 's3rver'));
        const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, vhostBuckets: false });
        server.run().then(
          address => process.stdout.write(`listening ${address.port}\n`),
          error => { process.stderr.write(`${error.stack || error}\n`); process.exit(1); });
        process.stdin.on('end', () => { require('fs').rmSync(folder, { recursive: true, force: true }); process.exit(0); });
        process.stdin.resume();
        """;

    /// <summary>Starts a server; throws <see cref="S3rverUnavailableException"/> saying what is missing when Node.js or s3rver is not there.</summary>
    public static async Task<S3rverServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var node = FindOnPath("node") ?? throw new S3rverUnavailableException("Node.js ('node') is not on PATH: install Node.js and npm (the harness then installs s3rver itself).");
        var module = await FindOrInstallModuleAsync(cancellationToken);
        var folder = Directory.CreateTempSubdirectory("ingest-s3rver-").FullName;
        var launcher = Path.Combine(folder, "launch.js");
        await File.WriteAllTextAsync(launcher, Launcher, cancellationToken);
        var data = Directory.CreateDirectory(Path.Combine(folder, "data")).FullName;
        var start = new ProcessStartInfo(node)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // s3rver makes its continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider: without it
        // any listing of more than one page fails (ERR_OSSL_EVP_UNSUPPORTED, an InternalError to the client).
        start.ArgumentList.Add("--openssl-legacy-provider");
        start.ArgumentList.Add(launcher);
        start.ArgumentList.Add(module);
        start.ArgumentList.Add(data);
        start.ArgumentList.Add(folder);
        var process = Process.Start(start) ?? throw new S3rverUnavailableException("Node.js did not start.");
        try
        {
            var port = await ReadPortAsync(process, cancellationToken);
            var endpoint = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/"));
            await WaitUntilAnswersAsync(port, cancellationToken);
            return new S3rverServer(process, folder, endpoint);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    private static async Task<int> ReadPortAsync(Process process, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        string? line;
        try
        {
            line = await process.StandardOutput.ReadLineAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new S3rverUnavailableException("s3rver did not say it was listening within 30 s.");
        }

        if (line is null || !line.StartsWith("listening ", StringComparison.Ordinal)
            || !int.TryParse(line.AsSpan("listening ".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            var error = await process.StandardError.ReadToEndAsync(cancellationToken);
            throw new S3rverUnavailableException($"s3rver did not start: {line} {error}".Trim());
        }

        return port;
    }

    // It printed its port once listening; one connection proves the port is the one it listens on.
    private static async Task WaitUntilAnswersAsync(int port, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var socket = new TcpClient();
                await socket.ConnectAsync("127.0.0.1", port, cancellationToken);
                return;
            }
            catch (SocketException) when (attempt < 50)
            {
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    private static string? FindModule()
    {
        if (Environment.GetEnvironmentVariable(InstallFolderVariable) is { Length: > 0 } given)
        {
            return HasModule(given) ? Path.GetFullPath(given) : null;
        }

        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, InstallFolder);
            if (HasModule(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static bool HasModule(string folder) => File.Exists(Path.Combine(folder, "node_modules", "s3rver", "package.json"));

    private static string? FindOnPath(string name)
    {
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}

/// <summary>Node.js or s3rver is not there, or s3rver would not start.</summary>
public sealed class S3rverUnavailableException(string message) : Exception(message);
