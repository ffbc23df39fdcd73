using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Ingest.Benchmarks.Data;
using Ingest.Copy;
using Ingest.Schema;
using Ingest.Validation;

namespace Ingest.Benchmarks.Stages;

/// <summary>
/// Where <see cref="StageBenchmarks.ValidateEncode"/>'s time goes: each span parser on one column of the same
/// <see cref="StageBenchmarks.Rows"/> rows. Mean is ns per value (<c>OperationsPerInvoke = Rows</c>). Each
/// category pairs the parser with the BCL call it replaced (the baseline), so one run gives the ratio.
/// </summary>
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class FieldBenchmarks
{
    private const int Rows = StageBenchmarks.Rows;

    private SplitRows _rows = null!;
    private ColumnPlan _cultivar;
    private Dictionary<string, byte[]>.AlternateLookup<ReadOnlySpan<char>> _cultivarDictionary;

    [GlobalSetup]
    public void Setup()
    {
        _rows = SplitRows.From(StageData.Csv, PlantCsv.Columns);
        var schema = DatasetSchema.Parse(PlantCsv.DatasetDocument);
        var cultivar = schema.Fields.Single(f => f.Name == "plantCultivar");
        _cultivar = new ColumnPlan(cultivar, 8);
        _cultivarDictionary = cultivar.EnumValues
            .ToDictionary(v => v, v => System.Text.Encoding.UTF8.GetBytes(v), StringComparer.Ordinal)
            .GetAlternateLookup<ReadOnlySpan<char>>();
    }

    [Benchmark(OperationsPerInvoke = Rows)]
    [BenchmarkCategory("Uuid")]
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
    [BenchmarkCategory("IsoTimestamp")]
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
    [BenchmarkCategory("Double")]
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
    [BenchmarkCategory("Integer")]
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
    [BenchmarkCategory("IPv4")]
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
    [BenchmarkCategory("Enum")]
    public int EnumLookup()
    {
        var ok = 0;
        for (var i = 0; i < Rows; i++)
        {
            ok += _cultivar.EnumValues!.TryGetValue(_rows[i].GetField(8), out _) ? 1 : 0;
        }

        return ok;
    }

    [Benchmark(OperationsPerInvoke = Rows, Baseline = true)]
    [BenchmarkCategory("Double")]
    public int Double_Bcl()
    {
        var ok = 0;
        for (var i = 0; i < Rows; i++)
        {
            ok += double.TryParse(_rows[i].GetField(2), NumberStyles.Float, CultureInfo.InvariantCulture, out _) ? 1 : 0;
        }

        return ok;
    }

    [Benchmark(OperationsPerInvoke = Rows, Baseline = true)]
    [BenchmarkCategory("Integer")]
    public int UnsignedNumber_Bcl()
    {
        var ok = 0;
        for (var i = 0; i < Rows; i++)
        {
            ok += long.TryParse(_rows[i].GetField(6), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _) ? 1 : 0;
        }

        return ok;
    }

    [Benchmark(OperationsPerInvoke = Rows, Baseline = true)]
    [BenchmarkCategory("Enum")]
    public int EnumLookup_Dictionary()
    {
        var ok = 0;
        for (var i = 0; i < Rows; i++)
        {
            ok += _cultivarDictionary.TryGetValue(_rows[i].GetField(8), out _) ? 1 : 0;
        }

        return ok;
    }
}
