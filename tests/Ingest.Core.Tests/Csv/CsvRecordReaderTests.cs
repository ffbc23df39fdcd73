using System.Text;
using Ingest.Csv;
using Ingest.Sources;

namespace Ingest.Core.Tests.Csv;

/// <summary>
/// The file error a malformed quote gives, read both ways a file is read: pumped from a stream, and inline
/// from an uncompressed local file.
/// </summary>
public sealed class CsvRecordReaderTests : IDisposable
{
    private const string Unterminated = "unterminated quoted field: a quote opened here is never closed";

    private const string NoncharacterLine = "the record starts with U+FFFF, a Unicode noncharacter: the file is probably not UTF-8 text";

    private static readonly string ManyRows = string.Concat(Enumerable.Repeat("1,\"a,b\"\n", 1000));

    private readonly string _folder = Directory.CreateTempSubdirectory("ingest-csv-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("ok,1\na,\"x,y\" \n", 2, 1, "a space")] // the reported file
    [InlineData("ok,1\na,\"x,y\" ", 2, 1, "a space")] // at the end of the file, without a line end
    [InlineData("ok,1\na,\"x,y\"\t,b\r\nc\n", 2, 1, "a tab")]
    [InlineData("\"x\"+\nok,1\n", 1, 0, "'+'")] // the first field of the first record
    [InlineData("ok,1\na,\"two\nlines, \"\"q\"\"\"  \nb\n", 2, 1, "a space")] // a quoted line end and escaped quotes before the close
    [InlineData("ok,1\na,\"\" \n", 2, 1, "a space")] // an empty quoted value
    [InlineData("ok,1\na,\"x,y\"z\n", 2, 1, "'z'")] // the characters Sylvan itself checks after a quote: the same words
    public async Task Characters_after_a_closing_quote_are_malformed_csv_naming_line_and_column_not_an_unterminated_quote(
        string csv, long line, int column, string found)
    {
        var error = await ReadToErrorAsync(csv);

        Assert.Equal(AfterQuote(column, found), error.Reason);
        Assert.Equal(line, error.Line);
    }

    [Fact]
    public async Task Characters_after_a_closing_quote_are_told_apart_after_the_buffer_moved_and_grew()
    {
        // 128-char buffers: the text before the record has been moved out of the buffer many times, and the
        // failed record (longer than the buffer) made Sylvan grow it.
        var longValue = new string('x', 1000);

        var closed = await ReadToErrorAsync(ManyRows + $"2,\"{longValue}\" \n3,4\n", bufferChars: 128);
        var open = await ReadToErrorAsync(ManyRows + $"2,\"{longValue} \n3,4\n", bufferChars: 128);
        var firstField = await ReadToErrorAsync(ManyRows + $"\"{longValue}\"! ,2\n3,4\n", bufferChars: 128);

        Assert.Equal((1001L, AfterQuote(1, "a space")), (closed.Line!.Value, closed.Reason));
        Assert.Equal((1001L, Unterminated), (open.Line!.Value, open.Reason));
        Assert.Equal((1001L, AfterQuote(0, "'!'")), (firstField.Line!.Value, firstField.Reason));
    }

    [Theory]
    [InlineData("ok,1\na,\"x,y \nb,c\n", 2)] // runs to the end of the file
    [InlineData("ok,1\na,\"x\"\" \n", 2)] // the last quote is an escaped one
    [InlineData("ok,1\na,\"", 2)] // a lone quote at the very end
    [InlineData("\"\"\" ", 1)] // an escaped quote right after the opening one
    [InlineData("ok,1\na,\"x\n\"\"\"\" ,b\n", 2)] // quoted line end, two escaped quotes, then text: still inside
    public async Task A_quote_never_closed_before_the_end_of_the_file_is_still_unterminated(string csv, long line)
    {
        var error = await ReadToErrorAsync(csv);

        Assert.Equal(Unterminated, error.Reason);
        Assert.Equal(line, error.Line);
    }

    [Theory]
    [InlineData("\uFFFFb,2\nc,3\n", 0, 1)] // the first line, read while the reader is created
    [InlineData("a,1\n\uFFFFb,2\nc,3\n", 0, 2)]
    [InlineData("a,1\r\n\uFFFFb,2\r\nc,3\r\n", 0, 2)]
    [InlineData("a,1\n\uFFFFb,2", 0, 2)] // the last line, without a line end: Sylvan calls no handler for it
    [InlineData("\uFFFF", 0, 1)] // the whole file
    [InlineData("h\n\uFFFF", 2, 2)] // a last header line
    [InlineData("a,1\n\uFFFF\nc,3\n", 0, 2)] // nothing else on the line
    [InlineData("a,1\n\uFFFF\"b\nq\",2\nc,3\n", 0, 2)] // a quote after it
    [InlineData("a,\"x\ny\"\n\n\uFFFFb,2\n", 0, 4)] // after a quoted line end and a blank line
    [InlineData("h\n\uFFFFh2\na,1\n", 2, 2)] // a header line
    public async Task A_line_starting_with_U_FFFF_is_a_file_error_naming_its_line_not_a_row_that_vanishes(
        string csv, int headerLines, long line)
    {
        var error = await ReadToErrorAsync(csv, headerLines: headerLines);

        Assert.Equal(NoncharacterLine, error.Reason);
        Assert.Equal(line, error.Line);
    }

    [Fact]
    public async Task A_line_starting_with_U_FFFF_is_a_file_error_after_the_buffer_moved()
    {
        var error = await ReadToErrorAsync(ManyRows + "\uFFFF" + new string('x', 300) + ",2\n3,4\n", bufferChars: 128);

        Assert.Equal((1001L, NoncharacterLine), (error.Line!.Value, error.Reason));
    }

    [Fact]
    public async Task U_FFFF_inside_a_record_is_data()
    {
        var records = await ReadRecordsAsync("a\uFFFF,1\n \uFFFF,2\nb,\uFFFF\n\"\uFFFF\",3\n");

        Assert.Equal(
            [(1L, "a\uFFFF|1"), (2L, " \uFFFF|2"), (3L, "b|\uFFFF"), (4L, "\uFFFF|3")],
            records);
    }

    [Theory]
    [InlineData(1024, "\n")]
    [InlineData(1500, "\n")] // not a power of two: the pooled buffer is 2048 chars
    [InlineData(5000, "\r\n")]
    [InlineData(70_000, "\n")] // above the 64K first buffer: Sylvan grows it
    [InlineData(70_000, "\r\n")]
    [InlineData(5000, "")] // the file's last record, without a line end
    [InlineData(1 << 20, "\n")] // the default cap
    public async Task The_record_size_cap_is_exact_a_record_of_the_caps_length_passes_and_one_char_more_is_a_file_error(int cap, string lineEnd)
    {
        // A two-line quoted value: the cap counts a record's characters, quotes and inner line ends included,
        // and not the line end that closes it.
        static string Record(int length) => "a,\"b\nc\"," + new string('x', length - 8);
        var after = lineEnd.Length == 0 ? string.Empty : "3,4\n";

        var atCap = await ReadRecordsAsync($"1,2\n{Record(cap)}{lineEnd}{after}", maxRecordChars: cap);
        var overCap = await ReadToErrorAsync($"1,2\n{Record(cap + 1)}{lineEnd}{after}", maxRecordChars: cap);

        Assert.Equal(lineEnd.Length == 0 ? [1L, 2L] : [1L, 2L, 4L], atCap.Select(record => record.Line));
        Assert.Equal(["a", "b\nc", new string('x', cap - 8)], atCap[1].Fields.Split('|'));
        Assert.Equal(2, overCap.Line);
        Assert.Equal($"a record is longer than the record size cap of {cap} characters (raise the cap if the file is right)", overCap.Reason);
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    public async Task A_quoted_CR_in_the_first_record_is_data_and_every_later_row_is_read_on_its_own_line(string lineEnd)
    {
        // Sylvan took its line ends from the first CR or LF it saw, quoted or not: this file lost rows 2..100.
        var csv = $"1,\"a\rb\"{lineEnd}" + string.Concat(Enumerable.Range(2, 99).Select(i => $"{i},x{lineEnd}"));

        var records = await ReadRecordsAsync(csv);

        Assert.Equal(100, records.Count);
        Assert.Equal((1L, "1|a\rb"), records[0]);
        Assert.Equal((100L, "100|x"), records[^1]);
        Assert.Equal(Enumerable.Range(1, 100).Select(i => (long)i), records.Select(r => r.Line));
    }

    [Fact]
    public async Task A_quoted_CR_in_a_first_record_longer_than_the_first_read_is_data_too()
    {
        var csv = $"1,\"a\r{new string('b', 500)}\"\n2,x\n3,y\n";

        var records = await ReadRecordsAsync(csv, bufferChars: 128);

        Assert.Equal([1L, 2L, 3L], records.Select(r => r.Line));
        Assert.Equal("3|y", records[^1].Fields);
    }

    [Fact]
    public async Task An_old_mac_file_whose_lines_end_in_a_lone_CR_is_still_read_line_by_line()
    {
        var records = await ReadRecordsAsync("1,a\r2,\"b\"\r3,c\r");

        Assert.Equal(["1|a", "2|b", "3|c"], records.Select(r => r.Fields));
    }

    [Fact]
    public async Task Header_lines_are_lines_a_header_with_a_quoted_line_break_counts_two()
    {
        var records = await ReadRecordsAsync("name,\"note\nmore\",x\n1,a\n2,b\n", headerLines: 2);

        Assert.Equal([(3L, "1|a"), (4L, "2|b")], records);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFE, (byte)'1', 0, (byte)',', 0, (byte)'2', 0, (byte)'\n', 0 })]
    [InlineData(new byte[] { 0xFE, 0xFF, 0, (byte)'1', 0, (byte)',', 0, (byte)'2', 0, (byte)'\n' })]
    public void A_UTF_16_file_is_one_file_error_saying_to_convert_it(byte[] bytes)
    {
        var error = Assert.Throws<FileErrorException>(() =>
        {
            using var reader = new CsvRecordReader(new MemoryStream(bytes), "t.csv", new CsvReadOptions(0, 1 << 20), null, CancellationToken.None);
            ReadAll(reader);
        });

        Assert.Equal("the file is UTF-16 text (it starts with a UTF-16 byte order mark): convert it to UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)", error.Reason);
        Assert.Equal(1, error.Line);
    }

    private static string AfterQuote(int column, string found) =>
        $"malformed CSV: characters after a closing quote in column {column} ({found}): a quoted value must end at a comma or the end of the line";

    /// <summary>Reads every record both ways; both must stop with the same file error, which is returned.</summary>
    private async Task<FileErrorException> ReadToErrorAsync(string csv, int bufferChars = 64 * 1024, int headerLines = 0, int maxRecordChars = 1 << 20)
    {
        var bytes = Encoding.UTF8.GetBytes(csv);
        var options = new CsvReadOptions(headerLines, maxRecordChars, bufferChars);

        // The error may come from the constructor, which reads the first record.
        var fromStream = Assert.Throws<FileErrorException>(() =>
        {
            using var pumped = new CsvRecordReader(new MemoryStream(bytes), "t.csv", options, null, CancellationToken.None);
            ReadAll(pumped);
        });

        var path = Path.Combine(_folder, "t.csv");
        await File.WriteAllBytesAsync(path, bytes);
        using var opener = new SourceOpener(new SourceOptions());
        await using var local = await opener.OpenAsync(SourceFile.Parse(path));
        var fromFile = Assert.Throws<FileErrorException>(() =>
        {
            using var inline = new CsvRecordReader(local, "t.csv", options, null, CancellationToken.None);
            ReadAll(inline);
        });

        Assert.Equal((fromStream.Line, fromStream.Reason), (fromFile.Line, fromFile.Reason));
        Assert.Equal($"t.csv line {fromStream.Line}: {fromStream.Reason}", fromStream.Message);
        return fromStream;
    }

    /// <summary>Reads every record both ways; both must give the same records (line, fields joined by '|').</summary>
    private async Task<List<(long Line, string Fields)>> ReadRecordsAsync(string csv, int maxRecordChars = 1 << 20, int headerLines = 0, int bufferChars = 64 * 1024)
    {
        var bytes = Encoding.UTF8.GetBytes(csv);
        var options = new CsvReadOptions(headerLines, maxRecordChars, bufferChars);

        using var pumped = new CsvRecordReader(new MemoryStream(bytes), "t.csv", options, null, CancellationToken.None);
        var fromStream = Records(pumped);

        var path = Path.Combine(_folder, "t.csv");
        await File.WriteAllBytesAsync(path, bytes);
        using var opener = new SourceOpener(new SourceOptions());
        await using var local = await opener.OpenAsync(SourceFile.Parse(path));
        using var inline = new CsvRecordReader(local, "t.csv", options, null, CancellationToken.None);
        Assert.Equal(fromStream, Records(inline));
        return fromStream;

        static List<(long, string)> Records(CsvRecordReader reader)
        {
            var records = new List<(long, string)>();
            while (reader.Read())
            {
                var row = reader.Row;
                var fields = new string[row.FieldCount];
                for (var i = 0; i < fields.Length; i++)
                {
                    fields[i] = row.GetField(i).ToString();
                }

                records.Add((reader.Line, string.Join('|', fields)));
            }

            return records;
        }
    }

    private static void ReadAll(CsvRecordReader reader)
    {
        while (reader.Read())
        {
        }
    }
}
