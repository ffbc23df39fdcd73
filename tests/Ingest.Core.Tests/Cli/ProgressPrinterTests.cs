using Ingest.Cli.Commands;
using Ingest.Status;

namespace Ingest.Core.Tests.Cli;

public sealed class ProgressPrinterTests
{
    [Fact]
    public void Redirected_output_gets_plain_lines_overall_and_per_file_in_flight()
    {
        var error = new StringWriter();
        var printer = new ProgressPrinter(error);
        var progress = new BatchProgress(Guid.NewGuid(), BatchStatus.Started, 4, 2, 1_500_000, 12, 150 * 1048576L, TimeSpan.FromSeconds(10))
        {
            InFlight = [new FileProgress("https://host/data/c.csv", 250_000, 3, 25 * 1048576L, TimeSpan.FromSeconds(5))],
        };

        printer.Report(progress);

        var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("[00:00:10] files 2/4, 1,500,000 rows inserted, 12 invalid, 150.0 MiB read, 150,000 rows/s, ETA 00:00:10", lines[0]);
        Assert.Equal("  https://host/data/c.csv: 250,000 rows, 3 invalid, 25.0 MiB, 50,000 rows/s", lines[1]);
        Assert.DoesNotContain("\u001b", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_of_known_size_shows_its_own_ETA()
    {
        var error = new StringWriter();
        var progress = new BatchProgress(Guid.NewGuid(), BatchStatus.Started, 1, 0, 100, 0, 25 * 1048576L, TimeSpan.FromSeconds(5))
        {
            InFlight = [new FileProgress("/data/a.csv", 100, 0, 25 * 1048576L, TimeSpan.FromSeconds(5)) { TotalBytes = 75 * 1048576L }],
        };

        new ProgressPrinter(error).Report(progress);

        Assert.EndsWith(", ETA 00:00:10", error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)[1], StringComparison.Ordinal);
    }

    [Fact]
    public void A_log_line_is_printed_between_progress_reports()
    {
        var error = new StringWriter();
        var printer = new ProgressPrinter(error);
        var progress = new BatchProgress(Guid.NewGuid(), BatchStatus.Started, 1, 0, 100, 0, 1048576L, TimeSpan.FromSeconds(1));

        printer.Report(progress);
        printer.Line("2026-11-29T05:00:00.000Z WARN Retrying https://host/a.csv (attempt 2 of 5)");

        var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("[00:00:01] files 0/1", lines[0], StringComparison.Ordinal);
        Assert.Equal("2026-11-29T05:00:00.000Z WARN Retrying https://host/a.csv (attempt 2 of 5)", lines[1]);
    }

    [Fact]
    public void On_a_terminal_warnings_between_redraws_leave_no_stale_text_and_the_block_stays_below_them()
    {
        var error = new StringWriter();
        var printer = new ProgressPrinter(error, live: true);
        var progress = new BatchProgress(Guid.NewGuid(), BatchStatus.Started, 4, 2, 1_500_000, 12, 150 * 1048576L, TimeSpan.FromSeconds(10))
        {
            InFlight = [new FileProgress("https://host/data/c.csv", 250_000, 3, 25 * 1048576L, TimeSpan.FromSeconds(5))],
        };

        printer.Report(progress);
        printer.Line("W1 short");
        printer.Line("W2 short");
        printer.Line("W3 a warning longer than the rows it is written over, to push the block down a row");
        printer.Report(progress with { Elapsed = TimeSpan.FromSeconds(11), InFlight = [] });

        var screen = Terminal.Render(error.ToString());
        Assert.Equal(
            [
                "W1 short",
                "W2 short",
                "W3 a warning longer than the rows it is written over, to push the block down a row",
                "[00:00:11] files 2/4, 1,500,000 rows inserted, 12 invalid, 150.0 MiB read, 136,364 rows/s, ETA 00:00:11",
            ],
            screen.Where(line => line.Length > 0));
    }

    /// <summary>Just enough of a terminal for the printer: text, newline, ESC[nF (up n rows, column 0), ESC[2K (clear the row).</summary>
    private static class Terminal
    {
        public static List<string> Render(string output)
        {
            var rows = new List<System.Text.StringBuilder> { new() };
            var (row, column) = (0, 0);
            for (var i = 0; i < output.Length; i++)
            {
                var c = output[i];
                if (c == '\u001b')
                {
                    var end = output.IndexOfAny(['F', 'K'], i);
                    var argument = output[(i + 2)..end];
                    if (output[end] == 'F')
                    {
                        (row, column) = (row - int.Parse(argument, System.Globalization.CultureInfo.InvariantCulture), 0);
                    }
                    else
                    {
                        rows[row].Clear();
                    }

                    i = end;
                }
                else if (c == '\n')
                {
                    (row, column) = (row + 1, 0);
                    if (row == rows.Count)
                    {
                        rows.Add(new());
                    }
                }
                else
                {
                    var line = rows[row];
                    if (column < line.Length)
                    {
                        line[column] = c;
                    }
                    else
                    {
                        line.Append(c);
                    }

                    column++;
                }
            }

            return [.. rows.Select(r => r.ToString())];
        }
    }
}
