using System.Diagnostics;
using Ingest.Benchmarks.Scaling;

namespace Ingest.Benchmarks.Throughput;

/// <summary>
/// Finds the native <c>ingest</c> binary the cold-CLI rows run: <c>--cli PATH</c>, else
/// <c>&lt;repository root&gt;/artifacts/ingest/ingest</c>, published there with
/// <c>dotnet publish samples/Ingest.Cli -c Release -o artifacts/ingest</c> when missing (Native AOT: a few minutes).
/// </summary>
internal static class CliBinary
{
    /// <summary>Where the default binary is published, from the repository root.</summary>
    public const string DefaultFolder = "artifacts/ingest";

    /// <summary>
    /// The binary's full path, or <see langword="null"/> when the CLI rows are to be left out: a smoke run without
    /// <c>--cli</c> and without a published binary (publishing would take the smoke's minute several times over).
    /// </summary>
    /// <exception cref="InvalidOperationException">The <c>--cli</c> binary is missing, or publishing failed.</exception>
    public static async Task<string?> FindAsync(ThroughputOptions options, Action<string> log)
    {
        if (options.CliPath is { } given)
        {
            var path = Path.GetFullPath(given);
            return File.Exists(path) ? Checked(path, log) : throw new InvalidOperationException($"--cli {given}: {path} does not exist.");
        }

        var root = WorkerProcesses.RepositoryRoot();
        var folder = Path.Combine(root, DefaultFolder);
        var binary = Path.Combine(folder, "ingest");
        if (File.Exists(binary))
        {
            return Checked(binary, log);
        }

        if (options.Smoke)
        {
            log($"{binary} is not there and --cli was not given: the smoke run leaves the cold CLI rows out (publishing takes minutes)");
            return null;
        }

        await PublishAsync(root, folder, log);
        return File.Exists(binary) ? binary : throw new InvalidOperationException($"dotnet publish finished but {binary} is not there.");
    }

    private static async Task PublishAsync(string root, string folder, Action<string> log)
    {
        log($"Publishing the native ingest binary to {folder} (dotnet publish samples/Ingest.Cli -c Release, Native AOT): this takes a few minutes, once");
        var clock = Stopwatch.StartNew();
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)
            ? host
            : Loaders.FindOnPath("dotnet") ?? "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            WorkingDirectory = root,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["publish", "samples/Ingest.Cli", "-c", "Release", "-o", folder, "-nologo"])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{dotnet} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            var text = (await output + await error).Trim();
            throw new InvalidOperationException($"dotnet publish samples/Ingest.Cli exited with {process.ExitCode}: {(text.Length > 3000 ? "..." + text[^3000..] : text)}");
        }

        log($"  published in {clock.Elapsed.TotalSeconds:0} s");
    }

    /// <summary>Warns when a source file of the CLI or the libraries is newer than the binary: it would not measure the code in the tree.</summary>
    private static string Checked(string binary, Action<string> log)
    {
        var built = File.GetLastWriteTimeUtc(binary);
        var root = WorkerProcesses.RepositoryRoot();
        var newer = ((string[])["src", "samples/Ingest.Cli"])
            .Select(folder => Path.Combine(root, folder))
            .Where(Directory.Exists)
            .SelectMany(folder => Directory.EnumerateFiles(folder, "*.cs", SearchOption.AllDirectories))
            .Where(file => !file.Contains("/obj/", StringComparison.Ordinal) && File.GetLastWriteTimeUtc(file) > built)
            .Take(3)
            .ToList();
        log($"CLI: {binary} (built {built:yyyy-MM-dd HH:mm} UTC)");
        if (newer.Count > 0)
        {
            log($"  warning: sources are newer than this binary ({string.Join(", ", newer.Select(f => Path.GetRelativePath(root, f)))}...): delete it to publish again, or pass --cli");
        }

        return binary;
    }
}
