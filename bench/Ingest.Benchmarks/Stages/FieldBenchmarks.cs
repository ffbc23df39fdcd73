using BenchmarkDotNet.Attributes;
using Ingest.Benchmarks.Data;
using Ingest.Copy;
using Ingest.Schema;
using Ingest.Validation;

namespace Ingest.Benchmarks.Stages;

/// <summary>
/// Where <see cref="StageBenchmarks.ValidateEncode"/>'s time goes: each span parser on one column of the same
/// <see cref="StageBenchmarks.Rows"/> rows. Mean is ns per value (<c>OperationsPerInvoke = Rows</c>).
/// </summary>
public class FieldBenchmarks
{
    private const int Rows = StageBenchmarks.Rows;

    private SplitRows _rows = null!;
    private ColumnPlan _cultivar;

    [GlobalSetup]
    public void Setup()
    {
        _rows = SplitRows.From(StageData.Csv, PlantCsv.Columns);
        var schema = DatasetSchema.Parse(PlantCsv.DatasetDocument);
        _cultivar = new ColumnPlan(schema.Fields.Single(f => f.Name == "plantCultivar"), 8);
    }

    [Benchmark(OperationsPerInvoke = Rows)]
    public int Uuid()
    {
        var ok = 0;
        for (var i = 0; i < Rows; i++)
        {
            ok += ValueParsers.TryParseUuid(_rows[i].GetField(0), out _) ? 1 : 0;
        }

        return ok;
    }

    [Benchmark(OperationsPerInvoke = Rows)]
    public int IsoTimestamp()
    {
        var ok = 0;
        for (var i = 0; i < Rows; i++)
        {
            ok += ValueParsers.TryParseTimestamp(_rows[i].GetField(1), out _) ? 1 : 0;
        }

        return ok;
    }

    [Benchmark(OperationsPerInvoke = Rows)]
    public int Double()
    {
        var ok = 0;
        for (var i = 0; i < Rows; i++)
        {
            ok += ValueParsers.TryParseDouble(_rows[i].GetField(2), out _) ? 1 : 0;
        }

        return ok;
    }

    [Benchmark(OperationsPerInvoke = Rows)]
    public int UnsignedNumber()
    {
        var ok = 0;
        for (var i = 0; i < Rows; i++)
        {
            ok += ValueParsers.TryParseInteger(_rows[i].GetField(6), out _) ? 1 : 0;
        }

        return ok;
    }

    [Benchmark(OperationsPerInvoke = Rows)]
    public int IPv4()
    {
        var ok = 0;
        for (var i = 0; i < Rows; i++)
        {
            ok += ValueParsers.TryParseIPv4(_rows[i].GetField(7), out _) ? 1 : 0;
        }

        return ok;
    }

    [Benchmark(OperationsPerInvoke = Rows)]
    public int EnumLookup()
    {
        var ok = 0;
        for (var i = 0; i < Rows; i++)
        {
            ok += _cultivar.EnumValues.TryGetValue(_rows[i].GetField(8), out _) ? 1 : 0;
        }

        return ok;
    }
}
