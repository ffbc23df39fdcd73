using System.Globalization;
using System.Text;
using Ingest.Benchmarks.Throughput;

namespace Ingest.Benchmarks.Scaling;

/// <summary>The <c>workers</c> results as markdown: the table, what its columns mean, the machine and the server's settings.</summary>
internal sealed class WorkersReport(
    WorkersOptions options,
    Workload workload,
    IReadOnlyList<ScalingCase> cases,
    IReadOnlyList<(int Workers, double Seconds)> idleStarts,
    IReadOnlyDictionary<string, string> settingsAsStarted,
    IReadOnlyDictionary<string, string> settings,
    IReadOnlyList<(string Name, string Value)> machine,
    bool configuredServer,
    WorkerProcesses processes)
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public string Table()
    {
        var server1 = cases.FirstOrDefault(c => c.Workers == 0 && c.Streams == 1)?.Median?.Time.TotalSeconds;
        var text = new StringBuilder();
        text.AppendLine("| loader | workers | streams each | total streams | time s | rows/s | vs 1 worker | vs server COPY x1 | best s | best rows/s | all exited s | workers CPU s | PostgreSQL CPU s | machine busy | WAL MB | files per worker |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var c in cases)
        {
            var workers = c.Workers > 0 ? c.Workers.ToString(Invariant) : "-";
            var streamsEach = c.Workers > 0 ? c.Streams.ToString(Invariant) : "-";
            var loader = c.Workers > 0 ? c.Loader : $"{c.Loader} (no client work)";
            if (c.Median is not { } sample)
            {
                text.AppendLine(Invariant, $"| {loader} | {workers} | {streamsEach} | {c.TotalStreams} | failed: {c.Error?.ReplaceLineEndings(" ")} | | | | | | | | | | | |");
                continue;
            }

            var seconds = sample.Time.TotalSeconds;
            var one = c.Workers > 0
                ? cases.FirstOrDefault(o => o.Workers == 1 && o.Streams == c.Streams)?.Median?.Time.TotalSeconds
                : null;
            var busy = CpuSnapshot.Available
                ? string.Create(Invariant, $"{sample.Cpu.Busy / (sample.Window.TotalSeconds * Environment.ProcessorCount):0%}")
                : "-";
            text.Append(Invariant, $"| {loader} | {workers} | {streamsEach} | {c.TotalStreams} | {seconds:0.00} | {workload.Rows / seconds:N0} ");
            var best = c.Best!.Time.TotalSeconds;
            text.Append(Invariant, $"| {Ratio(one, seconds)} | {Ratio(server1, seconds)} | {best:0.00} | {workload.Rows / best:N0} | {sample.Window.TotalSeconds:0.00} ");
            text.Append(c.Workers > 0 ? string.Create(Invariant, $"| {sample.Cpu.Workers:0.0} ") : "| - ");
            var server = sample.ServerCpu is { } s ? s.ToString("0.0", Invariant) : "-";
            text.AppendLine(Invariant, $"| {server} | {busy} | {sample.WalBytes / 1e6:0} | {sample.Spread ?? "-"} |");
        }

        return text.ToString();
    }

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine(Invariant, $"# Workers: {workload.Rows:N0} rows in {workload.CsvFiles.Count} files, one submitted batch, 1..{options.Workers.Max()} worker processes on one host");
        text.AppendLine();
        text.AppendLine(Invariant, $"Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC with");
        text.AppendLine(Invariant, $"`dotnet run -c Release --project bench/Ingest.Benchmarks -- {options.CommandLine}`.");
        text.AppendLine();
        text.Append(Table());
        text.AppendLine();
        text.AppendLine(Invariant, $"- **time s**: the median of {options.Repeat} run(s). Workers: from just before `IngestEngine.SubmitAsync` (in the benchmark process) to the batch's `finished` entry, written by whichever worker loaded the last file; it includes starting the worker processes (see below). Server COPY: the COPY commands alone. Every run starts on a freshly created, empty, logged table (dropped, recreated, then `CHECKPOINT`); configurations run interleaved, so the machine's noise spreads over all of them.");
        text.AppendLine(Invariant, $"- **workers**: `dotnet ingest.dll worker --streams S --lease-seconds {options.LeaseSeconds} --exit-when-idle`, K processes started at once right after the submit, each claiming files from `ingest.work_file` (`FOR UPDATE SKIP LOCKED`) and loading each in one transaction with its ledger row. After each run the batch must be `finished` with {workload.Rows:N0} inserted and 0 invalid, the ledger must hold every file and all rows, and `count(*)` must equal {workload.Rows:N0}.");
        text.AppendLine(Invariant, $"- **rows/s**: {workload.Rows:N0} rows ({workload.CsvBytes / 1e6:0.0} MB of CSV; the server's COPY reads {workload.BinBytes / 1e6:0.0} MB of binary COPY files with the same rows, the engine's own encoding) over the time.");
        text.AppendLine("- **vs 1 worker**: one worker's time (same streams each) / this time. **vs server COPY x1**: `COPY table FROM '/path/file.bin' (FORMAT BINARY)` run by the server on one connection, file after file / this time; the server's COPY reads and parses no CSV, so it is what PostgreSQL alone can take on this machine.");
        text.AppendLine("- **all exited s**: from the submit until every worker process had exited (the CPU and WAL columns cover this window).");
        text.AppendLine("- **best s**, **best rows/s**: the fastest of the runs: on a shared machine, the closest to what the configuration can do when nothing else wants the cores.");
        text.AppendLine("- **workers CPU s**: user + system CPU of the worker processes (cutime + cstime of their parent, this process). **PostgreSQL CPU s**: user + system CPU of the postmaster and every process it forked (backends, WAL writer, checkpointer; a backend that exited is counted through the postmaster's reaped-children time), `-` when the server is not a local process. **machine busy**: the whole machine's busy CPU (`/proc/stat`, every process, other users' too) / (window x cores).");
        text.AppendLine("- **WAL MB**: WAL the server wrote during the window (`pg_current_wal_insert_lsn()` after minus before). **files per worker**: files each worker process loaded, most first.");
        text.AppendLine();
        text.AppendLine("## Starting the worker processes");
        text.AppendLine();
        text.AppendLine("K worker processes with nothing to do, started at once, until all had exited (runtime start, JIT, connecting, the schema checks, one look at the queue): every timed worker run pays about this on top of the loading.");
        text.AppendLine();
        text.AppendLine("| workers | started and exited s |");
        text.AppendLine("|---:|---:|");
        foreach (var (workers, seconds) in idleStarts)
        {
            text.AppendLine(Invariant, $"| {workers} | {seconds:0.00} |");
        }

        text.AppendLine();
        text.AppendLine("## Machine");
        text.AppendLine();
        foreach (var (name, value) in machine)
        {
            text.AppendLine(Invariant, $"- {name}: {value}");
        }

        text.AppendLine(Invariant, $"- Workers: `{processes.Dotnet} {processes.IngestDll}` (built {File.GetLastWriteTimeUtc(processes.IngestDll):yyyy-MM-dd HH:mm} UTC)");
        text.AppendLine("- Everything on one host: the benchmark, the worker processes and PostgreSQL share its cores.");
        text.AppendLine();
        text.AppendLine("## Server settings");
        text.AppendLine();
        text.AppendLine(DurabilityNote());
        text.AppendLine();
        text.AppendLine("| setting | as started | during the runs |");
        text.AppendLine("|---|---|---|");
        foreach (var (name, value) in settings)
        {
            text.AppendLine(Invariant, $"| {name} | {settingsAsStarted.GetValueOrDefault(name, "?")} | {value} |");
        }

        text.AppendLine();
        text.AppendLine("## Every run (s, files per worker)");
        text.AppendLine();
        foreach (var c in cases)
        {
            var runs = string.Join(", ", c.Samples.Select(s => s.Time.TotalSeconds.ToString("0.000", Invariant) + (s.Spread is null ? string.Empty : $" ({s.Spread})")));
            text.AppendLine(Invariant, $"- {c.Key}: {(c.Error is null ? runs : "failed: " + c.Error)}");
        }

        return text.ToString();
    }

    private string DurabilityNote() => BenchSetup.DurabilityNote(configuredServer, options.AsIs);

    private static string Ratio(double? baseline, double seconds) =>
        baseline is { } b ? string.Create(Invariant, $"{b / seconds:0.00}x") : "-";
}
