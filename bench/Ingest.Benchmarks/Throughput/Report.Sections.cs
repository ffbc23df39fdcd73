using System.Text;

namespace Ingest.Benchmarks.Throughput;

/// <summary>The report's sections beside the main table: the fixed cost of a fresh process, all rows in one file, small files.</summary>
internal sealed partial class Report
{
    /// <summary><c>ingest --help</c> and the 1,000-row import: median, fastest and slowest of the fresh processes, and their ratio.</summary>
    public string FixedCostTable()
    {
        if (fixedCost is null)
        {
            return string.Empty;
        }

        if (fixedCost.Error is { } error)
        {
            return $"failed: {error.ReplaceLineEndings(" ")}{Environment.NewLine}";
        }

        var text = new StringBuilder();
        text.AppendLine("| fresh `ingest` process | median ms | fastest ms | slowest ms |");
        text.AppendLine("|---|---:|---:|---:|");
        text.AppendLine(Invariant, $"| `ingest --help` | {fixedCost.HelpMedian.TotalMilliseconds:0} | {fixedCost.Help.Min().TotalMilliseconds:0} | {fixedCost.Help.Max().TotalMilliseconds:0} |");
        text.AppendLine(Invariant, $"| `ingest import`, one file of {ThroughputOptions.FixedCostRows:N0} rows | {fixedCost.ImportMedian.TotalMilliseconds:0} | {fixedCost.Import.Min().TotalMilliseconds:0} | {fixedCost.Import.Max().TotalMilliseconds:0} |");
        if (fixedCost.PsqlCopy.Count > 0)
        {
            text.AppendLine(Invariant, $"| `psql --version` | {fixedCost.PsqlVersionMedian.TotalMilliseconds:0} | {fixedCost.PsqlVersion.Min().TotalMilliseconds:0} | {fixedCost.PsqlVersion.Max().TotalMilliseconds:0} |");
            text.AppendLine(Invariant, $"| `psql -c '\\copy ...'`, the same file | {fixedCost.PsqlCopyMedian.TotalMilliseconds:0} | {fixedCost.PsqlCopy.Min().TotalMilliseconds:0} | {fixedCost.PsqlCopy.Max().TotalMilliseconds:0} |");
        }

        text.AppendLine();
        var ratio = fixedCost.ImportMedian / fixedCost.HelpMedian;
        text.AppendLine(Invariant, $"import / --help: {ratio:0.00}x (medians); the import takes {(fixedCost.ImportMedian - fixedCost.HelpMedian).TotalMilliseconds:0} ms more than a bare start and exit.");
        if (fixedCost.PsqlCopy.Count > 0)
        {
            var psqlRatio = fixedCost.PsqlCopyMedian / fixedCost.PsqlVersionMedian;
            text.AppendLine(Invariant, $"psql's `\\copy` / its `--version`: {psqlRatio:0.00}x; it takes {(fixedCost.PsqlCopyMedian - fixedCost.PsqlVersionMedian).TotalMilliseconds:0} ms more than psql's bare start and exit (one session and one COPY, no bookkeeping). `ingest import` / psql's `\\copy`: {fixedCost.ImportMedian / fixedCost.PsqlCopyMedian:0.00}x.");
        }

        return text.ToString();
    }

    /// <summary>All rows in one file, at 1 stream and the most streams, beside the same rows split in files.</summary>
    public string OneFileTable()
    {
        var text = new StringBuilder();
        text.AppendLine(Invariant, $"| loader | streams | time s | rows/s | MB/s | vs 1 stream | vs the rows in {options.Files} files | client CPU s | peak WS MiB |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var measurement in Of(WorkloadShape.OneFile))
        {
            if (Row(text, measurement, columnsAfterMbs: 4) is not { } seconds)
            {
                continue;
            }

            var oneStream = Baseline(measurement.Case.Loader, 1, WorkloadShape.OneFile);
            var split = Baseline(measurement.Case.Loader, measurement.Case.Streams);
            text.Append(Invariant, $"| {Ratio(oneStream, seconds)} | {Ratio(split, seconds)} ");
            text.AppendLine(Client(measurement, measurement.Median!));
        }

        return text.ToString();
    }

    /// <summary>The small-files batch: rows/s end to end and the overhead each file adds.</summary>
    public string SmallFilesTable()
    {
        var text = new StringBuilder();
        text.AppendLine("| loader | streams | time s | rows/s | MB/s | per-file overhead ms | client CPU s | peak WS MiB |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var measurement in Of(WorkloadShape.SmallFiles))
        {
            if (Row(text, measurement, columnsAfterMbs: 3) is not { } seconds)
            {
                continue;
            }

            text.Append(Invariant, $"| {PerFileOverhead(measurement, seconds)} ");
            text.AppendLine(Client(measurement, measurement.Median!));
        }

        return text.ToString();
    }

    /// <summary>The sections of the markdown report, each with what it measures.</summary>
    private void AppendSections(StringBuilder text)
    {
        if (fixedCost is not null)
        {
            text.AppendLine();
            text.AppendLine("## Fixed cost of a fresh process");
            text.AppendLine();
            text.AppendLine(Invariant, $"What a fresh native `ingest` costs around its rows, spawn to exit: `ingest --help` (the process's start and exit alone) and `ingest import` of one file of {ThroughputOptions.FixedCostRows:N0} rows with the CLI's default streams (start, connecting, the schema checks, the batch's records, one file), each on a fresh empty table whose rows are counted after it. Beside them, for scale, psql (the binary itself, not Debian's Perl wrapper; see Machine): `psql --version` and one `\\copy` of the same file into a fresh empty table, which is one session and one COPY with no checks and no records. {FixedCost.Runs} processes of each, alternated (--help, import, psql --version, psql \\copy, --help, ...), after the warm-up; medians.");
            text.AppendLine();
            text.Append(FixedCostTable());
        }

        if (Of(WorkloadShape.OneFile).Any())
        {
            var oneFile = Of(WorkloadShape.OneFile).First().Workload;
            text.AppendLine();
            text.AppendLine("## All rows in one file");
            text.AppendLine();
            text.AppendLine(Invariant, $"The same number of rows, {oneFile.Rows:N0} ({oneFile.CsvBytes / 1e6:0.0} MB of CSV, the same generator), in one file, loaded by the cold CLI and by the engine (local files, normal priority) with 1 stream and with {options.Streams.Max()}, interleaved with the main table's runs: does a big file use the streams it is given? **vs 1 stream**: the same loader's time on this file with 1 stream / this time. **vs the rows in {options.Files} files**: the same loader's time in the main table at the same streams / this time (below 1: one file is slower than the rows split in files; `-` when the main table has no such row).");
            text.AppendLine();
            text.Append(OneFileTable());
        }

        if (Of(WorkloadShape.SmallFiles).Any())
        {
            var small = Of(WorkloadShape.SmallFiles).First().Workload;
            text.AppendLine();
            text.AppendLine("## Small files");
            text.AppendLine();
            text.AppendLine(Invariant, $"One batch of {small.CsvFiles.Count:N0} files of {ThroughputOptions.SmallFileRows:N0} rows ({small.Rows:N0} rows, {small.CsvBytes / 1e6:0.0} MB), loaded by the cold CLI (one process for the batch) and by the engine (local files, normal priority), interleaved with the main table's runs; each file is its own transaction with its ledger row. **rows/s** end to end. **per-file overhead ms**: (this time − {small.Rows:N0} rows / the rows/s of the same loader at the same streams in the main table) / {small.CsvFiles.Count:N0} files: what each file costs beyond its rows (`-` when the main table has no such row). The main table's time includes the loader's own fixed cost (for the cold CLI, the process's start), so this subtracts that share of it too; on a tiny main workload, where the fixed cost is most of the time, it can come out below 0.");
            text.AppendLine();
            text.Append(SmallFilesTable());
        }
    }

    /// <summary>
    /// Appends "| loader | streams | time s | rows/s | MB/s " of the measurement's median and returns its seconds,
    /// or appends a failed row (with <paramref name="columnsAfterMbs"/> empty cells) and returns <see langword="null"/>.
    /// </summary>
    private static double? Row(StringBuilder text, Measurement measurement, int columnsAfterMbs)
    {
        var loaded = measurement.Workload;
        if (measurement.Median is not { } sample)
        {
            // Loader, streams and the error; rows/s, MB/s and the columns after them left empty.
            text.Append(Invariant, $"| {measurement.Case.Loader} | {measurement.Case.Streams} | failed: {measurement.Error?.ReplaceLineEndings(" ")} |");
            text.AppendLine(string.Concat(Enumerable.Repeat(" |", 2 + columnsAfterMbs)));
            return null;
        }

        var seconds = sample.Wall.TotalSeconds;
        text.Append(Invariant, $"| {measurement.Case.Loader} | {measurement.Case.Streams} | {seconds:0.00} | {loaded.Rows / seconds:N0} | {loaded.CsvBytes / 1e6 / seconds:0.0} ");
        return seconds;
    }

    private string PerFileOverhead(Measurement measurement, double seconds)
    {
        if (Baseline(measurement.Case.Loader, measurement.Case.Streams) is not { } mainSeconds)
        {
            return "-";
        }

        var rowsPerSecond = workload.Rows / mainSeconds;
        var overhead = (seconds - (measurement.Workload.Rows / rowsPerSecond)) / measurement.Workload.CsvFiles.Count;
        return (overhead * 1000).ToString("0.00", Invariant);
    }

    /// <summary>Whether the cold CLI rows ran, and from which binary.</summary>
    private string CliNote() =>
        cliBinary is null
            ? "Left out of this run: a smoke run without --cli, and no binary published under artifacts/ingest."
            : $"The binary: `{Path.GetRelativePath(Scaling.WorkerProcesses.RepositoryRoot(), cliBinary)}` (see Machine), published from the source tree as it was then. Its client CPU and peak columns are the `ingest` process's own.";
}
