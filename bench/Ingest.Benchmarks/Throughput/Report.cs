using System.Globalization;
using System.Text;

namespace Ingest.Benchmarks.Throughput;

/// <summary>
/// The throughput results as markdown: the main table, the fixed cost of a fresh process, one file and small files
/// (Report.Sections.cs), what their columns mean, the machine and the server's settings.
/// </summary>
internal sealed partial class Report(
    ThroughputOptions options,
    Workload workload,
    IReadOnlyList<Measurement> measurements,
    FixedCost? fixedCost,
    string? cliBinary,
    IReadOnlyDictionary<string, string> settingsAsStarted,
    IReadOnlyDictionary<string, string> settings,
    IReadOnlyList<(string Name, string Value)> machine,
    bool configuredServer)
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Every table of the run, for the console.</summary>
    public string Tables()
    {
        var text = new StringBuilder(Table());
        if (fixedCost is not null)
        {
            text.AppendLine().AppendLine("Fixed cost of a fresh process:").AppendLine().Append(FixedCostTable());
        }

        if (Of(WorkloadShape.OneFile).Any())
        {
            text.AppendLine().AppendLine("All rows in one file:").AppendLine().Append(OneFileTable());
        }

        if (Of(WorkloadShape.SmallFiles).Any())
        {
            text.AppendLine().AppendLine(Invariant, $"{options.SmallFiles} small files:").AppendLine().Append(SmallFilesTable());
        }

        return text.ToString();
    }

    /// <summary>The main table: every loader on the main workload (<c>--rows</c> in <c>--files</c> files).</summary>
    public string Table()
    {
        var psql1 = Baseline(Loaders.Psql, 1);
        var psql2 = Baseline(Loaders.Psql, 2);
        var server1 = Baseline(Loaders.ServerCopy, 1);
        var text = new StringBuilder();
        text.AppendLine("| loader | streams | time s | rows/s | MB/s | vs `psql \\copy` x1 | vs two `psql \\copy` | vs server binary COPY x1 | client CPU s | peak WS MiB |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var measurement in Of(WorkloadShape.Files))
        {
            var name = measurement.Case.Loader.Replace("\\copy", "`\\copy`", StringComparison.Ordinal);
            if (measurement.Median is not { } sample)
            {
                text.AppendLine(Invariant, $"| {name} | {measurement.Case.Streams} | failed: {measurement.Error?.ReplaceLineEndings(" ")} | | | | | | | |");
                continue;
            }

            var seconds = sample.Wall.TotalSeconds;
            text.Append(Invariant, $"| {name} | {measurement.Case.Streams} | {seconds:0.00} | {workload.Rows / seconds:N0} | {workload.CsvBytes / 1e6 / seconds:0.0} ");
            text.Append(Invariant, $"| {Ratio(psql1, seconds)} | {Ratio(psql2, seconds)} | {Ratio(server1, seconds)} ");
            text.AppendLine(Client(measurement, sample));
        }

        return text.ToString();
    }

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine(Invariant, $"# Throughput: {workload.Rows:N0} rows in {workload.CsvFiles.Count} files into a logged table");
        text.AppendLine();
        text.AppendLine(Invariant, $"Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC with");
        text.AppendLine(Invariant, $"`{options.CommandLine()}`.");
        text.AppendLine();
        text.Append(Table());
        text.AppendLine();
        text.AppendLine(Invariant, $"- **time s**: wall time of one load, the median of {options.Repeat} run(s); each run starts on a freshly created, empty, logged table (dropped, recreated, then `CHECKPOINT`). Loaders run interleaved, so the machine's noise spreads over all of them.");
        text.AppendLine(Invariant, $"- **rows/s**, **MB/s**: {workload.Rows:N0} rows and {workload.CsvBytes / 1e6:0.0} MB (10^6 bytes) of CSV over that time, for every loader (the server's binary COPY reads {workload.BinBytes / 1e6:0.0} MB of binary COPY files holding the same rows).");
        text.AppendLine("- **vs ...**: the baseline's time divided by this loader's time; above 1 is faster than the baseline. `psql \\copy` x1 is one psql process (the binary itself, see Machine) loading the files one after another; two `psql \\copy` is two psql processes at once with the files dealt out between them; server binary COPY x1 is `COPY table FROM '/path/file.bin' (FORMAT BINARY)` run by the server on one connection, file after file (no client work at all; the .bin files are the engine's own encoding of the same CSV).");
        text.AppendLine(Invariant, $"- **ingest import, cold process**: what a user runs. Each run starts a fresh native (Native AOT) `ingest import --dataset <table> --schema <dataset document file> --format <format file> --streams n --connection <connection string> <files>` from this process, as from a non-interactive shell (no other flag: the CLI's default `--yield-cpu auto` yields the CPU to the local server, lowering this benchmark's session while it loads and giving it back at its exit; its output goes to pipes, drained), timed from the spawn to its exit: the process's start, connecting, the batch's bookkeeping and every file. {CliNote()}");
        text.AppendLine("- **engine**: `IngestEngine.ImportAsync` with `Streams = n`: each file in its own transaction with its ledger row, timeline kept by the PostgreSQL recorder in the same database. Local files are paths; loopback HTTP is Kestrel serving the same files from a process of its own, started through `setsid` so it is also a scheduling group of its own, as an object store on another machine would be. Before the timed runs the engine loads all files twice from disk and twice over HTTP, untimed, so the timed runs see it in steady state, as a long-running host runs it (a first load in a fresh process: bench/results/2026-11-29-cold-start.md).");
        text.AppendLine("- **yielding CPU**: the engine with `YieldCpuToLocalServer = Always`: while it loads, the benchmark process's session runs at Linux autogroup nice 19, so the server's COPY backends get the cores before the client (the default, `Auto`, does the same for a local server; the other engine rows run at normal priority, as `Never`, to show what yielding buys). The file server, psql and the server's COPY run at normal priority.");
        text.AppendLine("- **client CPU s**: CPU time (user + system, all threads) of the benchmark process during the run: the engine (the file server's process is not counted). For the cold CLI: the `ingest` process's own CPU (the benchmark's reaped-children time, `cutime` + `cstime`, before and after; 10 ms resolution). Not measured for psql and the server's COPY.");
        text.AppendLine("- **peak WS MiB**: the benchmark process's peak resident set (VmHWM) during the run, reset before each run through `/proc/self/clear_refs`; it includes the runtime and whatever the GC had not yet returned, so it is an upper bound of the engine's own peak. For the cold CLI: the `ingest` process's VmHWM, read from `/proc/<pid>/status` every 10 ms while it runs, so a lower bound short by what it grew in its last 10 ms.");
        AppendSections(text);
        text.AppendLine();
        text.AppendLine("## Machine");
        text.AppendLine();
        foreach (var (name, value) in machine)
        {
            text.AppendLine(Invariant, $"- {name}: {value}");
        }

        if (cliBinary is not null)
        {
            text.AppendLine(Invariant, $"- ingest binary (cold CLI rows): `{cliBinary}`, Native AOT, built {File.GetLastWriteTimeUtc(cliBinary):yyyy-MM-dd HH:mm} UTC");
        }

        text.AppendLine();
        text.AppendLine("## Server settings");
        text.AppendLine();
        text.AppendLine(Invariant, $"All loaders ran against the same server, one after another. {DurabilityNote()}");
        text.AppendLine();
        text.AppendLine("| setting | as started | during the runs |");
        text.AppendLine("|---|---|---|");
        foreach (var (name, value) in settings)
        {
            text.AppendLine(Invariant, $"| {name} | {settingsAsStarted.GetValueOrDefault(name, "?")} | {value} |");
        }

        if (options.Waits)
        {
            text.AppendLine();
            text.AppendLine("## Where the server's COPY backends were (--waits)");
            text.AppendLine();
            text.AppendLine("`pg_stat_activity.wait_event` of every active COPY backend, sampled about every 5 ms over all runs of a loader; CPU means no wait event (running). `Client:ClientRead` is a backend waiting for the loader's data; a Lock, LWLock or IO wait is the server itself. The sampler runs in the benchmark process, so its queries count in the engine rows' client CPU above (on 2026-11-29 that column read the same with and without --waits, at its 0.1 s resolution).");
            text.AppendLine();
            foreach (var measurement in measurements)
            {
                text.AppendLine(Invariant, $"- {measurement.Key}: {WaitSampler.Summary(measurement.Waits)}");
            }
        }

        text.AppendLine();
        text.AppendLine("## Every run (s)");
        text.AppendLine();
        foreach (var measurement in measurements)
        {
            var runs = string.Join(", ", measurement.Samples.Select(s => s.Wall.TotalSeconds.ToString("0.000", Invariant)));
            text.AppendLine(Invariant, $"- {measurement.Key}: {(measurement.Error is null ? runs : "failed: " + measurement.Error)}");
        }

        if (fixedCost is { Error: null })
        {
            text.AppendLine(Invariant, $"- fixed cost, `ingest --help` (ms): {Milliseconds(fixedCost.Help)}");
            text.AppendLine(Invariant, $"- fixed cost, 1,000-row import (ms): {Milliseconds(fixedCost.Import)}");
        }

        return text.ToString();
    }

    private string DurabilityNote() => BenchSetup.DurabilityNote(configuredServer, options.AsIs);

    private double? Baseline(string loader, int streams, WorkloadShape shape = WorkloadShape.Files) =>
        measurements.FirstOrDefault(m => m.Shape == shape && m.Case.Loader == loader && m.Case.Streams == streams)?.Median?.Wall.TotalSeconds;

    private IEnumerable<Measurement> Of(WorkloadShape shape) => measurements.Where(m => m.Shape == shape);

    /// <summary>The client CPU and peak columns: this process's for the engine, the child's for the cold CLI, '-' for the others.</summary>
    private static string Client(Measurement measurement, Sample sample) =>
        measurement.Case.Metered
            ? string.Create(Invariant, $"| {sample.Cpu.TotalSeconds:0.0} | {sample.PeakBytes / 1048576.0:0} |")
            : "| - | - |";

    private static string Milliseconds(IEnumerable<TimeSpan> runs) => string.Join(", ", runs.Select(r => r.TotalMilliseconds.ToString("0", Invariant)));

    private static string Ratio(double? baseline, double seconds) =>
        baseline is { } b ? string.Create(Invariant, $"{b / seconds:0.00}x") : "-";
}
