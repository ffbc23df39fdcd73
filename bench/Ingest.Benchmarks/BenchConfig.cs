using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Ingest.Benchmarks.Stages;

namespace Ingest.Benchmarks;

/// <summary>
/// The micro benchmarks' config (after SE.Redis's <c>CustomConfig</c>): MemoryDiagnoser (the default exporters include GitHub markdown) and
/// rows/s and MB/s columns. Benchmarks use <c>OperationsPerInvoke = rows</c>, so Mean is ns/row and
/// Allocated is B/row; the two columns are derived from Mean.
/// </summary>
internal static class BenchConfig
{
    /// <summary>BenchmarkDotNet's defaults (loggers, jobs from the command line, ...) plus ours.</summary>
    public static IConfig Create() => ManualConfig.Create(DefaultConfig.Instance)
        .AddDiagnoser(MemoryDiagnoser.Default)

        // On a shared 2-core machine the Mean carries other processes' time; Min and Median show less of it.
        .AddColumn(StatisticColumn.Min, StatisticColumn.Median)
        .AddColumn(
            new ThroughputColumn(ThroughputColumn.Unit.RowsPerSecond),
            new ThroughputColumn(ThroughputColumn.Unit.MegabytesPerSecond),
            new AllocatedPerFileColumn());
}

/// <summary>rows/s (1e9 / ns per row) or MB/s (rows/s x CSV bytes per row / 1e6) from a benchmark's Mean.</summary>
internal sealed class ThroughputColumn(ThroughputColumn.Unit unit) : IColumn
{
    public enum Unit
    {
        RowsPerSecond,
        MegabytesPerSecond,
    }

    public string Id => nameof(ThroughputColumn) + unit;

    public string ColumnName => unit == Unit.RowsPerSecond ? "rows/s" : "MB/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => (int)unit;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => unit == Unit.RowsPerSecond
        ? "Rows (field benchmarks: values) per second on one thread: 1e9 / Mean, Mean being ns per row"
        : "CSV megabytes (1e6 bytes) per second: rows/s x the input's average CSV bytes per row";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var nanosecondsPerRow = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (nanosecondsPerRow is not > 0)
        {
            return "-";
        }

        var rowsPerSecond = 1e9 / nanosecondsPerRow.Value;
        if (unit == Unit.RowsPerSecond)
        {
            return rowsPerSecond.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
        }

        // A field benchmark parses one value per operation: CSV bytes per row mean nothing there.
        return benchmarkCase.Descriptor.Type == typeof(FieldBenchmarks)
            ? "-"
            : (rowsPerSecond * StageData.CsvBytesPerRow / 1e6).ToString("N1", System.Globalization.CultureInfo.InvariantCulture);
    }

    public override string ToString() => ColumnName;
}

/// <summary>
/// Managed bytes allocated per invocation, i.e. per file (Allocated x OperationsPerInvoke): a cost that stays
/// the same whatever the file's size is a constant per file, not per row.
/// </summary>
internal sealed class AllocatedPerFileColumn : IColumn
{
    public string Id => nameof(AllocatedPerFileColumn);

    public string ColumnName => "KB/file";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Metric;

    public int PriorityInCategory => 100;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Managed KB (1024 B) allocated per invocation, i.e. per file of OperationsPerInvoke rows (Allocated x rows)";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        if (report is null || report.ResultStatistics is null)
        {
            return "-";
        }

        // Not GetBytesAllocatedPerOperation: it rounds to whole bytes per row, which hides a per-file constant.
        var stats = report.GcStats;
        var total = stats.GetTotalAllocatedBytes(excludeAllocationQuantumSideEffects: true);
        return total is { } bytes && stats.TotalOperations > 0
            ? (bytes / (double)stats.TotalOperations * benchmarkCase.Descriptor.OperationsPerInvoke / 1024).ToString("N1", System.Globalization.CultureInfo.InvariantCulture)
            : "-";
    }

    public override string ToString() => ColumnName;
}
