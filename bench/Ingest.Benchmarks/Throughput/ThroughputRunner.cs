using System.Diagnostics;
using System.Globalization;

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
        string? binary;
        try
        {
            binary = await CliBinary.FindAsync(options, Log);
        }
        catch (InvalidOperationException ex)
        {
            Log(ex.Message);
            return 1;
        }

        await using var setup = await BenchSetup.CreateAsync(options.Rows, options.Files, options.AsIs, Log);
        var (workload, server, database, before, settings, configured) = (setup.Workload, setup.Server, setup.Database, setup.Before, setup.Settings, setup.Configured);
        using var extra = ExtraWorkloads.Create(options, withCli: binary is not null, Log);
        using var cli = binary is null ? null : CliLoader.Create(binary, database);
        await using var files = await FileServerProcess.StartAsync(workload.Directory);

        var measurements = ThroughputCases.Create(options, database, workload, files, cli, extra, Log);
        await WarmUpAsync(database, workload, files, cli);
        var fixedCost = cli is not null && extra.FixedCostFile is { } fixedCostFile ? await MeasureFixedCostAsync(cli, database, fixedCostFile) : null;
        for (var repeat = 1; repeat <= options.Repeat; repeat++)
        {
            foreach (var measurement in measurements)
            {
                await MeasureAsync(database, measurement, repeat, options.Waits);
            }
        }

        var report = new Report(options, workload, measurements, fixedCost, cli?.Binary, before, settings,
            MachineInfo.Describe(await database.ServerVersionAsync(), server.Description), configured);
        var markdown = report.ToMarkdown();
        Console.WriteLine();
        Console.WriteLine(report.Tables());
        if (options.OutDirectory is { } outDirectory)
        {
            var folder = ResolveOut(outDirectory);
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, $"{DateTime.UtcNow:yyyy-MM-dd}-throughput{(options.Smoke ? "-smoke" : string.Empty)}.md");
            await File.WriteAllTextAsync(path, markdown);
            Log($"Wrote {path}");
        }

        Log($"Done in {total.Elapsed.TotalSeconds:0} s");
        return measurements.Any(m => m.Error is not null) || fixedCost?.Error is not null ? 1 : 0;
    }

    /// <summary>The fixed-cost runs; a failure is reported (and fails the command) without stopping the other loaders.</summary>
    private static async Task<FixedCost> MeasureFixedCostAsync(CliLoader cli, BenchDatabase database, Workload oneThousandRows)
    {
        try
        {
            return await FixedCost.MeasureAsync(cli, database, oneThousandRows, Log);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log($"  fixed cost: FAILED: {ex.Message}");
            return FixedCost.Failed(ex.Message);
        }
    }

    /// <summary>
    /// Untimed engine loads of every file, from disk and over HTTP, twice each, so the timed runs measure the
    /// engine in steady state, as a long-running host (API, queue worker) runs it: connection pools and tables
    /// made, and the code of every per-file step through tiered compilation. One file was not enough: in one
    /// process the JIT still compiled ~1,000 methods per full load until about the sixth load. A first load in a
    /// fresh process is measured apart (bench/results/2026-11-29-cold-start.md) and by the cold CLI rows.
    /// <para>The cold CLI gets one untimed <c>ingest --help</c>, which brings the binary into the page cache, as any
    /// second run of it finds it; every timed CLI run is still a fresh process.</para>
    /// </summary>
    private static async Task WarmUpAsync(BenchDatabase database, Workload workload, FileServerProcess files, CliLoader? cli)
    {
        if (cli is not null)
        {
            Log("Warming up the page cache for the CLI (one untimed ingest --help)");
            try
            {
                await cli.RunAsync(["--help"]);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Its timed rows will fail and say so in the table; the other loaders still run.
                Log($"  {cli.Binary} --help failed: {ex.Message}");
            }
        }

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

    private static async Task MeasureAsync(BenchDatabase database, Measurement measurement, int repeat, bool waits)
    {
        if (measurement.Error is not null)
        {
            return;
        }

        var workload = measurement.Workload;
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
            Log($"  {measurement.Key}: FAILED: {ex.Message}");
            return;
        }

        var sample = measurement.Case.Child is { } child
            ? new Sample(clock.Elapsed, child.Cpu, child.PeakBytes, PeakIsPerRun: true)
            : new Sample(clock.Elapsed, meter.CpuTime, ProcessMeter.PeakBytes, meter.PeakIsPerRun);
        measurement.Samples.Add(sample);
        var client = measurement.Case.Metered
            ? string.Create(CultureInfo.InvariantCulture, $"  client cpu {sample.Cpu.TotalSeconds:0.0} s  peak {sample.PeakBytes / 1048576.0:0} MiB")
            : string.Empty;
        Log(string.Create(CultureInfo.InvariantCulture,
            $"  [{repeat}] {measurement.Key,-48} {sample.Wall.TotalSeconds,7:0.000} s  {workload.Rows / sample.Wall.TotalSeconds,12:N0} rows/s{client}"));
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
