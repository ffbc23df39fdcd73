using Ingest.Benchmarks.Data;

namespace Ingest.Benchmarks.Stages;

/// <summary>The micro benchmarks' input, made once per process (the host's columns and the benchmark process make the same bytes).</summary>
internal static class StageData
{
    private static readonly Lazy<byte[]> LazyCsv = new(() => PlantCsv.InMemory(StageBenchmarks.Rows));

    public static byte[] Csv => LazyCsv.Value;

    /// <summary>Average CSV bytes per row: what turns rows/s into MB/s.</summary>
    public static double CsvBytesPerRow => (double)Csv.Length / StageBenchmarks.Rows;
}
