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
}
