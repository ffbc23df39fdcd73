using System.Text;
using Ingest.Copy;
using Ingest.Csv;
using Ingest.Schema;

namespace Ingest.Core.Tests.Copy;

public sealed class HotPathAllocationTests
{
    [Fact]
    public void Parse_validate_and_encode_of_a_million_rows_allocates_at_most_64_KB_after_warm_up()
    {
        var encoder = PlantsEncoder();
        var block = ThousandRows();

        Run(encoder, block, 200); // warm-up: tiered compilation, pools, the reader's buffers
        var before = GC.GetAllocatedBytesForCurrentThread();
        var rows = Run(encoder, block, 1000);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(1_000_000, rows);
        Assert.True(allocated <= 64 * 1024, $"1M rows allocated {allocated} bytes on the parsing thread");
    }

    internal static RowEncoder PlantsEncoder() => new(DatasetSchema.Parse(RowEncoderTests.Plants), CsvFormat.Parse(RowEncoderTests.PlantsFormat));

    /// <summary>1,000 distinct valid rows of every kind of value.</summary>
    internal static byte[] ThousandRows() => Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 1000).Select(i =>
        $"3c1243c4-a532-4487-9662-{i:x12},2024-01-25T15:27:{i % 60:00}.302Z,4.{i},50.{i},,{i},10.0.{i % 256}.1,\"brussel sprouts\",-{i}\n")));

    /// <summary>What a stream does per file minus the network: every row of <paramref name="source"/> parsed, validated and encoded.</summary>
    internal static long EncodeAll(RowEncoder encoder, Stream source)
    {
        using var reader = new CsvRecordReader(source, "rows.csv", new CsvReadOptions(0, 1 << 20), null, CancellationToken.None);
        using var writer = new BinaryCopyWriter(Stream.Null, encoder.MaxRowBytes);
        long rows = 0;
        while (reader.Read())
        {
            var row = reader.Row;
            var written = encoder.Encode(ref row, writer.GetRowSpan(), out _, out _);
            Assert.True(written > 0);
            writer.Advance(written);
            rows++;
        }

        writer.Complete();
        return rows;
    }

    private static long Run(RowEncoder encoder, byte[] block, int repeats)
    {
        using var source = new RepeatingStream(block, repeats);
        return EncodeAll(encoder, source);
    }

    /// <summary>The same block of bytes, <c>repeats</c> times, without allocating.</summary>
    private sealed class RepeatingStream(byte[] block, int repeats) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => (long)block.Length * repeats;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var left = Length - _position;
            if (left <= 0)
            {
                return 0;
            }

            var at = (int)(_position % block.Length);
            var n = (int)Math.Min(Math.Min(buffer.Length, block.Length - at), left);
            block.AsSpan(at, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
