using System.Text;
using BenchmarkDotNet.Attributes;
using Ingest.Benchmarks.Data;
using Ingest.Copy;
using Ingest.Csv;
using Ingest.Schema;
using Sylvan.Data.Csv;

namespace Ingest.Benchmarks.Stages;

/// <summary>
/// The hot path stage by stage on one in-memory file of <see cref="Rows"/> generated rows. Every benchmark
/// declares <c>OperationsPerInvoke = Rows</c>, so BenchmarkDotNet's Mean is ns per row and Allocated is
/// bytes per row (a constant per file shows as a fraction of a byte).
/// </summary>
public class StageBenchmarks
{
    /// <summary>Rows in the in-memory file.</summary>
    public const int Rows = 100_000;

    private static readonly int[] MappedColumns = [0, 1, 2, 3, 4, 5, 6, 7, 8];

    private byte[] _csv = [];
    private SplitRows _split = null!;
    private RowEncoder _encoder = null!;
    private byte[] _tuples = [];
    private CsvReadOptions _csvOptions = null!;

    [GlobalSetup]
    public void Setup()
    {
        _csv = StageData.Csv;
        _split = SplitRows.From(_csv, PlantCsv.Columns);
        _encoder = new RowEncoder(DatasetSchema.Parse(PlantCsv.DatasetDocument), CsvFormat.Parse(PlantCsv.Format));
        _tuples = new byte[256 * 1024];
        _csvOptions = new CsvReadOptions(HeaderLines: 0, MaxRecordChars: 1024 * 1024);
        if (_split.Count != Rows || InvalidRows() != 0)
        {
            throw new InvalidOperationException("Some generated rows do not validate: the benchmark would measure an error path.");
        }
    }

    private int InvalidRows()
    {
        var invalid = 0;
        for (var i = 0; i < _split.Count; i++)
        {
            var row = _split[i];
            if (_encoder.Encode(ref row, _tuples, out _, out _) < 0)
            {
                invalid++;
            }
        }

        return invalid;
    }

    /// <summary>Sylvan reads the bytes (UTF-8 decoding included) and hands out each mapped field as a span.</summary>
    [Benchmark(OperationsPerInvoke = Rows)]
    public long Parse()
    {
        var options = new CsvDataReaderOptions { HasHeaders = false, BufferSize = 64 * 1024 };
        using var text = new StreamReader(new MemoryStream(_csv), Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 64 * 1024);
        using var reader = CsvDataReader.Create(text, options);
        long chars = 0;
        while (reader.Read())
        {
            foreach (var column in MappedColumns)
            {
                chars += reader.GetFieldSpan(column).Length;
            }
        }

        return chars;
    }

    /// <summary><see cref="RowEncoder"/> over pre-split rows: parse each value, check it, write the binary COPY tuple.</summary>
    [Benchmark(OperationsPerInvoke = Rows)]
    public long ValidateEncode()
    {
        var encoder = _encoder;
        var tuples = _tuples.AsSpan();
        var position = 0;
        long bytes = 0;
        for (var i = 0; i < Rows; i++)
        {
            if (tuples.Length - position < encoder.MaxRowBytes)
            {
                bytes += position;
                position = 0;
            }

            var row = _split[i];
            var written = encoder.Encode(ref row, tuples[position..], out _, out _);
            position += written;
        }

        return bytes + position;
    }

    /// <summary>
    /// What one stream does per file, minus the network: <see cref="CsvRecordReader"/> (Pipe pump + Sylvan)
    /// over a MemoryStream, <see cref="RowEncoder"/>, and <see cref="BinaryCopyWriter"/> into Stream.Null.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Rows)]
    public long ParseValidateEncode() => EncodeFile(_csv, _encoder, _csvOptions);

    /// <summary>One file's bytes through reader, encoder and writer (shared with <see cref="LargeFileBenchmarks"/>); returns the bytes encoded.</summary>
    internal static long EncodeFile(byte[] csv, RowEncoder encoder, CsvReadOptions csvOptions)
    {
        using var reader = new CsvRecordReader(new MemoryStream(csv), "bench.csv", csvOptions, bytesRead: null, CancellationToken.None);
        using var writer = new BinaryCopyWriter(Stream.Null, encoder.MaxRowBytes);
        while (reader.Read())
        {
            var row = reader.Row;
            var written = encoder.Encode(ref row, writer.GetRowSpan(), out _, out _);
            if (written >= 0)
            {
                writer.Advance(written);
            }
        }

        writer.Complete();
        reader.Pump.GetAwaiter().GetResult();
        return writer.BytesWritten;
    }
}
