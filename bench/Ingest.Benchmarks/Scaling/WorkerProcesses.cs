using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ingest.Benchmarks.Throughput;

namespace Ingest.Benchmarks.Scaling;

/// <summary>
/// Real <c>ingest worker</c> processes: <c>dotnet ingest.dll worker --streams S --lease-seconds L --exit-when-idle</c>,
/// with the connection string in <c>INGEST_CONNECTION</c> (kept off the command line, where any local user can read it).
/// </summary>
internal sealed class WorkerProcesses(string dotnet, string ingestDll, string connectionString)
{
    public string Dotnet { get; } = dotnet;

    public string IngestDll { get; } = ingestDll;

    /// <summary>Finds <c>dotnet</c> and the built console host; throws with what to do when the host is not built.</summary>
    public static WorkerProcesses Find(string ingestDll, string connectionString)
    {
        var dll = Path.IsPathRooted(ingestDll) ? ingestDll : Path.Combine(RepositoryRoot(), ingestDll);
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException(
                $"{dll} is missing: build the console host first (dotnet build samples/Ingest.Cli -c Release), or pass --ingest PATH.");
        }

        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)
            ? host
            : Loaders.FindOnPath("dotnet") ?? "dotnet";
        return new WorkerProcesses(dotnet, Path.GetFullPath(dll), connectionString);
    }

    /// <summary>Starts <paramref name="count"/> workers at once and waits until every one has exited; throws when one failed.</summary>
    public async Task RunAsync(int count, int streams, int leaseSeconds, CancellationToken cancellationToken)
    {
        var running = Enumerable.Range(0, count).Select(_ => Start(streams, leaseSeconds)).ToList();
        try
        {
            var outcomes = await Task.WhenAll(running.Select(r => WaitAsync(r, cancellationToken)));
            var failed = outcomes.Where(o => o.ExitCode != 0).ToList();
            if (failed.Count > 0)
            {
                throw new InvalidOperationException(string.Join("; ", failed.Select(f =>
                    string.Create(CultureInfo.InvariantCulture, $"worker exited with {f.ExitCode}: {Tail(f.Error)}"))));
            }
        }
        finally
        {
            foreach (var (process, _, _) in running)
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }

                process.Dispose();
            }
        }
    }

    private (Process Process, Task<string> Output, Task<string> Error) Start(int streams, int leaseSeconds)
    {
        var start = new ProcessStartInfo(Dotnet)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])[IngestDll, "worker", "--streams", Invariant(streams), "--lease-seconds", Invariant(leaseSeconds), "--exit-when-idle"])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["INGEST_CONNECTION"] = connectionString;
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{Dotnet} did not start");

        // Drained as they come, so a chatty worker never blocks on a full pipe.
        return (process, process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
    }

    private static async Task<(int ExitCode, string Error)> WaitAsync((Process Process, Task<string> Output, Task<string> Error) running, CancellationToken cancellationToken)
    {
        await running.Process.WaitForExitAsync(cancellationToken);
        await running.Output;
        return (running.Process.ExitCode, await running.Error);
    }

    private static string Tail(string text)
    {
        var trimmed = text.Trim();
        return trimmed.Length <= 2000 ? trimmed : new StringBuilder("...").Append(trimmed.AsSpan(trimmed.Length - 2000)).ToString();
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The folder holding Ingest.sln, searched upwards from the working directory (else the working directory).</summary>
    public static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(Environment.CurrentDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Ingest.sln")))
            {
                return folder.FullName;
            }
        }

        return Environment.CurrentDirectory;
    }
}
