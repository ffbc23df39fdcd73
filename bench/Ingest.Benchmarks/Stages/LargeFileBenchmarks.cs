using BenchmarkDotNet.Attributes;
using Ingest.Benchmarks.Data;
using Ingest.Copy;
using Ingest.Csv;
using Ingest.Schema;

namespace Ingest.Benchmarks.Stages;

/// <summary>
/// <see cref="StageBenchmarks.ParseValidateEncode"/> on a file ten times larger: if allocation is a constant
/// per file, Allocated (B/row) drops tenfold while KB/file stays the same.
/// </summary>
public class LargeFileBenchmarks
{
    private const int Rows = 1_000_000;

    private byte[] _csv = [];
    private RowEncoder _encoder = null!;

    [GlobalSetup]
    public void Setup()
    {
        _csv = PlantCsv.InMemory(Rows);
        _encoder = new RowEncoder(DatasetSchema.Parse(PlantCsv.DatasetDocument), CsvFormat.Parse(PlantCsv.Format));
    }

    [Benchmark(OperationsPerInvoke = Rows)]
    public long ParseValidateEncode_1M() => StageBenchmarks.EncodeFile(_csv, _encoder, new CsvReadOptions(0, 1024 * 1024));
}
