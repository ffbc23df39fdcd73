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
        .AddColumn(new ThroughputColumn(ThroughputColumn.Unit.RowsPerSecond), new ThroughputColumn(ThroughputColumn.Unit.MegabytesPerSecond));
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
        ? "Rows per second on one thread (1e9 / Mean, Mean being ns per row)"
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
        return unit == Unit.RowsPerSecond
            ? rowsPerSecond.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)
            : (rowsPerSecond * StageData.CsvBytesPerRow / 1e6).ToString("N1", System.Globalization.CultureInfo.InvariantCulture);
    }

    public override string ToString() => ColumnName;
}
