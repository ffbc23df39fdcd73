using System.Text;
using Ingest.Core.Tests.Engine;
using Ingest.Schema;
using Ingest.Validation;

namespace Ingest.Core.Tests.BadInput;

/// <summary>Malformed or unusual CSV through the engine: the outcome a user sees for each.</summary>
public sealed class CsvShapeTests
{
    private const string Id = "3c1243c4-a532-4487-9662-5655a23dec3a";

    [SkippableFact]
    public async Task Unterminated_quote_is_a_file_error_naming_the_line_where_the_quote_opens()
    {
        await using var f = await EngineFixture.CreateAsync();
        var file = f.WriteFile("quote.csv", EngineFixture.Rows(3) + $"{Id},0,1,2,,5,,\"cabbage,\n" + EngineFixture.Rows(3, 10));

        var result = await f.ImportAsync([file]);

        await Outcome.FileErrorAsync(f, result, file, "unterminated quoted field: a quote opened here is never closed", line: 4);
    }

    [SkippableFact]
    public async Task Ragged_rows_short_ones_are_row_errors_naming_the_missing_column_and_long_ones_load()
    {
        await using var f = await EngineFixture.CreateAsync();
        var file = f.WriteFile("ragged.csv", string.Concat(
            EngineFixture.Row(1),
            $"{Id},0,1,2,,5\n",                            // 2: six fields, cultivar (7) and delta (8) missing
            $"{Id}\n",                                     // 3: one field
            $"{Id},0,1,2,,5,,cabbage,-1,extra,more\n",     // 4: extra fields are unmapped: loads
            EngineFixture.Row(2)));

        var result = await f.ImportAsync([file]);

        await Outcome.FinishedAsync(f, result, inserted: 3, invalid: 2);
        Assert.Equal([(2, "plantIPv4", RowErrorKind.MissingColumn), (3, "timestamp", RowErrorKind.MissingColumn)], Outcome.Errors(result));
        Assert.Equal($"{file} line 2, field plantIPv4: column 6 is missing (the row has 6 fields)", result.RowErrors.Single(e => e.Line == 2).ToString());
        Assert.Equal($"{file} line 3, field timestamp: column 1 is missing (the row has 1 field)", result.RowErrors.Single(e => e.Line == 3).ToString());
    }

    [SkippableFact]
    public async Task Empty_files_blank_lines_and_a_lone_bom_finish_with_zero_rows()
    {
        await using var f = await EngineFixture.CreateAsync();
        var empty = f.WriteFile("empty.csv", string.Empty);
        var blank = f.WriteFile("blank.csv", "\n\r\n\n");
        var bom = f.WriteBytes("bom.csv", [0xEF, 0xBB, 0xBF]);

        var result = await f.ImportAsync([empty, blank, bom]);

        await Outcome.FinishedAsync(f, result, inserted: 0, invalid: 0);
        Assert.Equal(3, result.FilesLoaded);
        Assert.Equal(3, await f.ScalarAsync("SELECT count(*) FROM ingest.import_file WHERE rows_inserted = 0"));
    }

    [SkippableFact]
    public async Task A_utf8_bom_is_skipped_so_the_first_value_parses()
    {
        await using var f = await EngineFixture.CreateAsync();
        var file = f.WriteBytes("bom.csv", [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes($"{Id},0,1,2,,5,,cabbage,\n" + EngineFixture.Rows(2))]);

        var result = await f.ImportAsync([file]);

        await Outcome.FinishedAsync(f, result, inserted: 3, invalid: 0);
        Assert.Equal(1, await f.ScalarAsync($"SELECT count(*) FROM plants WHERE entity_id = '{Id}'"));
    }

    [SkippableFact]
    public async Task Mixed_crlf_and_lf_load_every_row_without_stray_carriage_returns_and_lines_count_right()
    {
        await using var f = await EngineFixture.CreateAsync();

        // The enum is the last column, so a CR left on a value would make it NotInEnum.
        var format = CsvFormat.Parse("""{"csv": {"entityId": 0, "timestamp": 1, "longitude": 2, "latitude": 3, "plantHeight": 4, "plantCultivar": 6}}""");
        var file = f.WriteFile("mixed.csv", string.Concat(
            $"{Id},1,1,1,1,x,cabbage\r\n",
            $"{Id},2,1,1,2,x,broccoli\n",
            $"{Id},3,1,1,3,\"two\r\nlines\",cabbage\r\n",  // lines 3-4: a quoted CRLF in an unmapped column
            $"{Id},4,1,1,4,\"two\nlines\",broccoli\n",    // lines 5-6
            $"{Id},5,1,1,5,x,kale\r\n",                   // line 7: the one bad row
            $"{Id},6,1,1,6,x,\"brussel sprouts\""));       // line 8, no final newline

        var result = await f.ImportAsync([file], format: format);

        await Outcome.FinishedAsync(f, result, inserted: 5, invalid: 1);
        Assert.Equal([(7, "plantCultivar", RowErrorKind.NotInEnum)], Outcome.Errors(result));
        Assert.Equal(
            ["1|cabbage", "2|broccoli", "3|cabbage", "4|broccoli", "6|brussel sprouts"],
            await f.RowsAsync("""SELECT "plantHeight", "plantCultivar" FROM plants ORDER BY "plantHeight" """));
    }

    [SkippableFact]
    public async Task A_100_MB_single_line_hits_the_record_cap_as_a_file_error_without_being_read_whole()
    {
        Skip.If(OperatingSystem.IsWindows(), "needs a named pipe (mkfifo)");
        await using var f = await EngineFixture.CreateAsync();

        // A FIFO holds 64 KiB, so what the writer got rid of is what the engine read: nothing buffers the
        // line whole, not the test, not a socket. (Over loopback HTTP the kernel's socket buffers, up to
        // tens of MB, would blur the count.)
        var fifo = Path.Combine(f.Folder, "long.csv");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo]))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        const long Size = 100L * 1024 * 1024;
        long written = 0;
        var writer = Task.Run(() =>
        {
            var chunk = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("0123456789abcdef", 4096)));
            try
            {
                using var stream = new FileStream(fifo, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1);
                while (written < Size)
                {
                    stream.Write(chunk);
                    Interlocked.Add(ref written, chunk.Length);
                }

                stream.Write("\n"u8);
            }
            catch (IOException)
            {
                // The reader closed the pipe: it stopped reading, as it should.
            }
        });

        var result = await f.ImportAsync([fifo]);
        if (!writer.IsCompleted)
        {
            using var drain = new FileStream(fifo, FileMode.Open, FileAccess.Read); // unblock a writer still waiting to open
        }

        await writer;

        await Outcome.FileErrorAsync(f, result, fifo, "a record is longer than the record size cap of 1048576 characters", line: 1);
        Assert.InRange(Interlocked.Read(ref written), 1024 * 1024, 8L * 1024 * 1024);
    }
}
