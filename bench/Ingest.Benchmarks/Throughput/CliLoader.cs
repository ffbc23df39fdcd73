using System.Diagnostics;
using System.Globalization;
using Ingest.Benchmarks.Data;

namespace Ingest.Benchmarks.Throughput;

/// <summary>
/// The "cold CLI process" loader: each run starts a fresh native <c>ingest import --dataset T --schema F --format F
/// --streams N --connection CS files...</c>, as a user would from a non-interactive shell (no flag beyond
/// <c>--streams</c>; output to pipes, drained), and waits for it to exit. The dataset document and the format are
/// written once to files of a temp folder, as a user would keep them.
/// </summary>
internal sealed class CliLoader : IDisposable
{
    private readonly string _folder;
    private readonly string _schemaFile;
    private readonly string _formatFile;
    private readonly BenchDatabase _database;

    private CliLoader(string binary, BenchDatabase database, string folder)
    {
        Binary = binary;
        _database = database;
        _folder = folder;
        _schemaFile = Path.Combine(folder, "plants.dataset.json");
        _formatFile = Path.Combine(folder, "plants.format.json");
    }

    /// <summary>The native ingest binary.</summary>
    public string Binary { get; }

    /// <summary>Writes the dataset document and the format to a new temp folder.</summary>
    public static CliLoader Create(string binary, BenchDatabase database)
    {
        var loader = new CliLoader(binary, database, Directory.CreateTempSubdirectory("ingest-bench-cli-").FullName);
        File.WriteAllText(loader._schemaFile, database.Schema.ToDocument());
        File.WriteAllText(loader._formatFile, PlantCsv.Format);
        return loader;
    }

    /// <summary>One cold <c>ingest import</c> of every file of <paramref name="workload"/> with <c>--streams <paramref name="streams"/></c>.</summary>
    public LoaderCase Import(Workload workload, int streams)
    {
        var usage = new ChildUsage();
        var arguments = ImportArguments(workload.CsvFiles, streams);
        return new LoaderCase(Loaders.Cli, streams, InProcess: false, () => RunAsync(arguments, usage)) { Child = usage };
    }

    /// <summary>
    /// <c>import --dataset ... --schema ... --format ... [--streams N] --connection ... files...</c>; without
    /// <paramref name="streams"/> the CLI's default applies.
    /// </summary>
    public IReadOnlyList<string> ImportArguments(IReadOnlyList<string> files, int? streams)
    {
        List<string> arguments = ["import", "--dataset", _database.Schema.Name, "--schema", _schemaFile, "--format", _formatFile];
        if (streams is { } count)
        {
            arguments.AddRange(["--streams", count.ToString(CultureInfo.InvariantCulture)]);
        }

        arguments.AddRange(["--connection", _database.ConnectionString]);
        arguments.AddRange(files);
        return arguments;
    }

    /// <summary>
    /// Starts the binary with <paramref name="arguments"/> and waits for it to exit; throws with the end of its
    /// output when it exits with anything but 0. With <paramref name="usage"/>, records the child's CPU and peak memory.
    /// </summary>
    public async Task RunAsync(IReadOnlyList<string> arguments, ChildUsage? usage = null)
    {
        var start = new ProcessStartInfo(Binary)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var run = usage?.Start();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{Binary} did not start");

        // Drained as they come, so the progress lines never block the child on a full pipe.
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        var exited = process.WaitForExitAsync();
        run?.Track(process, exited);
        await exited;
        if (run is not null)
        {
            await run.StopAsync();
        }

        if (process.ExitCode != 0)
        {
            var text = (await error + await output).Trim();
            throw new InvalidOperationException($"ingest {arguments[0]} exited with {process.ExitCode}: {(text.Length > 2000 ? "..." + text[^2000..] : text)}");
        }

        await Task.WhenAll(output, error);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
