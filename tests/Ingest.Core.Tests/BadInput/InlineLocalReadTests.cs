using System.Text;
using Ingest.Copy;
using Ingest.Core.Tests.Copy;
using Ingest.Csv;
using Ingest.Sources;

namespace Ingest.Core.Tests.BadInput;

/// <summary>
/// An uncompressed local file is read by the parsing thread itself (no pump task); these pin that it gives
/// exactly what the pumped path gives, on the awkward inputs, and stays free of per-row allocation.
/// </summary>
public sealed class InlineLocalReadTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ingest-inline-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task A_local_file_is_read_on_the_parsing_thread_and_gives_the_same_records_as_the_pumped_path()
    {
        // A BOM, CRLF and LF, quoted commas, quotes and newlines, and multi-byte characters (2-, 3- and 4-byte)
        // at every offset, so many of them straddle the 64 KiB block boundaries.
        var text = new StringBuilder("\uFEFF");
        var expected = new List<string>();
        for (var i = 0; i < 30_000; i++)
        {
            text.Append(i).Append(",é").Append(new string('x', i % 7)).Append(",\"a,\"\"b\"\"\nc\",€😀")
                .Append(i % 3 == 0 ? "\r\n" : "\n");
            expected.Add($"{i},é{new string('x', i % 7)},a,\"b\"\nc,€😀"); // the fields as written, independent of any reader
        }

        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        var path = Path.Combine(_folder, "awkward.csv");
        await File.WriteAllBytesAsync(path, bytes);
        var options = new CsvReadOptions(0, 1 << 20);
        using var opener = new SourceOpener(new SourceOptions());

        var threads = new HashSet<int>();
        long delivered = 0;
        await using var local = await opener.OpenAsync(SourceFile.Parse(path));
        using var inline = new CsvRecordReader(local, path, options, read =>
        {
            threads.Add(Environment.CurrentManagedThreadId);
            delivered += read;
        }, CancellationToken.None);
        var inlineRecords = ReadAll(inline);

        using var pumped = new CsvRecordReader(new MemoryStream(bytes), "memory.csv", options, null, CancellationToken.None);
        var pumpedRecords = ReadAll(pumped);

        Assert.Equal(expected, inlineRecords);
        Assert.Equal(expected, pumpedRecords);
        Assert.Equal(bytes.Length, delivered);
        Assert.True(inline.Pump.IsCompletedSuccessfully, "a local file needs no pump task");
        Assert.Equal([Environment.CurrentManagedThreadId], threads);
    }

    [Fact]
    public async Task A_local_file_read_inline_allocates_at_most_64_KB_per_million_rows_after_warm_up()
    {
        var encoder = HotPathAllocationTests.PlantsEncoder();
        var block = HotPathAllocationTests.ThousandRows();
        var path = Path.Combine(_folder, "million.csv");
        await using (var file = File.Create(path))
        {
            for (var i = 0; i < 1000; i++)
            {
                file.Write(block);
            }
        }

        using var opener = new SourceOpener(new SourceOptions());
        await RunAsync(opener, path, encoder); // warm-up: tiered compilation, pools, the reader's buffers
        var (rows, allocated) = await RunAsync(opener, path, encoder);

        Assert.Equal(1_000_000, rows);
        Assert.True(allocated <= 64 * 1024, $"1M rows allocated {allocated} bytes on the parsing thread");
    }

    private static List<string> ReadAll(CsvRecordReader reader)
    {
        var records = new List<string>();
        while (reader.Read())
        {
            var row = reader.Row;
            records.Add(string.Join(",", Enumerable.Range(0, row.FieldCount).Select(i => row.GetField(i).ToString())));
        }

        return records;
    }

    /// <summary>Loads the file through parse, validate and encode; counts the bytes allocated on this thread meanwhile.</summary>
    private static async Task<(long Rows, long Allocated)> RunAsync(SourceOpener opener, string path, RowEncoder encoder)
    {
        await using var source = await opener.OpenAsync(SourceFile.Parse(path));
        var before = GC.GetAllocatedBytesForCurrentThread();
        var rows = HotPathAllocationTests.EncodeAll(encoder, source);
        return (rows, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
