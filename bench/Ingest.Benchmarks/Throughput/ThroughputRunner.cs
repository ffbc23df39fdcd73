using System.Diagnostics;
using System.Globalization;
using Ingest.Engine;

namespace Ingest.Benchmarks.Throughput;

/// <summary>
/// The end-to-end <c>throughput</c> command: generates the files, gets a PostgreSQL, runs every loader
/// into a fresh logged table (repeated, interleaved, so noise spreads over all of them) and reports.
/// </summary>
internal static class ThroughputRunner
{
    public static async Task<int> RunAsync(ThroughputOptions options)
    {
        var total = Stopwatch.StartNew();
        await using var setup = await BenchSetup.CreateAsync(options.Rows, options.Files, options.AsIs, Log);
        var (workload, server, database, before, settings, configured) = (setup.Workload, setup.Server, setup.Database, setup.Before, setup.Settings, setup.Configured);
        await using var files = await FileServerProcess.StartAsync(workload.Directory);

        var cases = Cases(options, database, workload, files);
        await WarmUpAsync(database, workload, files);
        var measurements = cases.ToDictionary(c => c.Key, c => new Measurement(c));
        for (var repeat = 1; repeat <= options.Repeat; repeat++)
        {
            foreach (var loader in cases)
            {
                await MeasureAsync(database, workload, measurements[loader.Key], repeat, options.Waits);
            }
        }

        var report = new Report(options, workload, [.. measurements.Values], before, settings,
            MachineInfo.Describe(await database.ServerVersionAsync(), server.Description), configured);
        var markdown = report.ToMarkdown();
        Console.WriteLine();
        Console.WriteLine(report.Table());
        if (options.OutDirectory is { } outDirectory)
        {
            var folder = ResolveOut(outDirectory);
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, $"{DateTime.UtcNow:yyyy-MM-dd}-throughput{(options.Smoke ? "-smoke" : string.Empty)}.md");
            await File.WriteAllTextAsync(path, markdown);
            Log($"Wrote {path}");
        }

        Log($"Done in {total.Elapsed.TotalSeconds:0} s");
        return measurements.Values.Any(m => m.Error is not null) ? 1 : 0;
    }

    /// <summary>
    /// Untimed engine loads of every file, from disk and over HTTP, twice each, so the timed runs measure the
    /// engine in steady state, as a long-running host (API, queue worker) runs it: connection pools and tables
    /// made, and the code of every per-file step through tiered compilation. One file was not enough: in one
    /// process the JIT still compiled ~1,000 methods per full load until about the sixth load. A first load in a
    /// fresh process is measured apart (bench/results/2026-11-29-cold-start.md).
    /// </summary>
    private static async Task WarmUpAsync(BenchDatabase database, Workload workload, FileServerProcess files)
    {
        Log("Warming up (two untimed engine loads of all files, local and over HTTP)");
        var urls = workload.CsvFiles.Select(files.Url).ToList();
        for (var round = 0; round < 2; round++)
        {
            foreach (var sources in (IReadOnlyList<string>[])[workload.CsvFiles, urls])
            {
                await database.ResetAsync();
                await Loaders.Engine("warm-up", database, sources, 2, workload.Rows).Run();
            }
        }
    }

    private static List<LoaderCase> Cases(ThroughputOptions options, BenchDatabase database, Workload workload, FileServerProcess files)
    {
        var cases = new List<LoaderCase>();
        var urls = workload.CsvFiles.Select(files.Url).ToList();
        CpuYield[] priorities = [CpuYield.Never, CpuYield.Always];
        if (!CpuYielder.Process.TryReadNice(out _))
        {
            priorities = [CpuYield.Never];
            Log("this machine does not show Linux's scheduler autogroup (/proc/self/autogroup): the engine cannot yield the CPU here, so its 'yielding CPU' rows are left out");
        }

        foreach (var (name, sources) in (IEnumerable<(string, IReadOnlyList<string>)>)[(Loaders.EngineLocal, workload.CsvFiles), (Loaders.EngineHttp, urls)])
        {
            foreach (var yieldCpu in priorities)
            {
                foreach (var streams in options.Streams)
                {
                    var label = yieldCpu == CpuYield.Always ? name + Loaders.Yielding : name;
                    cases.Add(Loaders.Engine(label, database, sources, streams, workload.Rows, yieldCpu));
                }
            }
        }

        if (Loaders.PsqlFound())
        {
            cases.Add(Loaders.PsqlCopy(database, workload.CsvFiles, 1));
            cases.Add(Loaders.PsqlCopy(database, workload.CsvFiles, 2));
        }
        else
        {
            Log("psql not found on PATH: its rows are left out");
        }

        cases.Add(Loaders.ServerBinaryCopy(database, workload.BinFiles, 1));
        cases.Add(Loaders.ServerBinaryCopy(database, workload.BinFiles, 2));
        return cases;
    }

    private static async Task MeasureAsync(BenchDatabase database, Workload workload, Measurement measurement, int repeat, bool waits)
    {
        if (measurement.Error is not null)
        {
            return;
        }

        await database.ResetAsync();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        var sampler = waits ? await WaitSampler.StartAsync(database, measurement.Waits) : null;
        var meter = ProcessMeter.Start();
        var clock = Stopwatch.StartNew();
        try
        {
            try
            {
                await measurement.Case.Run();
                clock.Stop();
            }
            finally
            {
                if (sampler is not null)
                {
                    await sampler.DisposeAsync();
                }
            }

            var count = await database.CountAsync();
            if (count != workload.Rows)
            {
                throw new InvalidOperationException($"the table holds {count} rows, expected {workload.Rows}");
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            measurement.Error = ex.Message;
            Log($"  {measurement.Case.Key}: FAILED: {ex.Message}");
            return;
        }

        var sample = new Sample(clock.Elapsed, meter.CpuTime, ProcessMeter.PeakBytes, meter.PeakIsPerRun);
        measurement.Samples.Add(sample);
        var client = measurement.Case.InProcess
            ? string.Create(CultureInfo.InvariantCulture, $"  client cpu {sample.Cpu.TotalSeconds:0.0} s  peak {sample.PeakBytes / 1048576.0:0} MiB")
            : string.Empty;
        Log(string.Create(CultureInfo.InvariantCulture,
            $"  [{repeat}] {measurement.Case.Key,-36} {sample.Wall.TotalSeconds,7:0.000} s  {workload.Rows / sample.Wall.TotalSeconds,12:N0} rows/s{client}"));
    }

    /// <summary>A relative --out is taken from the repository root (the folder with Ingest.sln) when run inside it.</summary>
    private static string ResolveOut(string outDirectory)
    {
        if (Path.IsPathRooted(outDirectory))
        {
            return outDirectory;
        }

        for (var folder = new DirectoryInfo(Environment.CurrentDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Ingest.sln")))
            {
                return Path.Combine(folder.FullName, outDirectory);
            }
        }

        return Path.GetFullPath(outDirectory);
    }

    private static void Log(string message) => Console.Error.WriteLine(message);
}

/// <summary>One run of one loader.</summary>
internal sealed record Sample(TimeSpan Wall, TimeSpan Cpu, long PeakBytes, bool PeakIsPerRun);

/// <summary>All runs of one loader configuration.</summary>
internal sealed class Measurement(LoaderCase loaderCase)
{
    public LoaderCase Case { get; } = loaderCase;

    public List<Sample> Samples { get; } = [];

    public string? Error { get; set; }

    /// <summary>The COPY backends' wait events sampled over all runs (only with --waits).</summary>
    public Dictionary<string, int> Waits { get; } = [];

    /// <summary>The median run by wall time (the lower middle one for an even count).</summary>
    public Sample? Median => Samples.Count == 0 ? null : Samples.OrderBy(s => s.Wall).ElementAt((Samples.Count - 1) / 2);
}
