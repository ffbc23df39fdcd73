using System.Text.RegularExpressions;

namespace Ingest.Status.Tests.Log;

public sealed partial class BatchLogTests
{
    [Fact]
    public void Empty_log_text_is_null()
    {
        Assert.Null(new BatchLog().Text);
    }

    [Fact]
    public void Lines_have_time_level_message_and_are_joined_by_newline()
    {
        var log = new BatchLog();
        log.Info("Starting batch job");
        log.Warn("Slow source");
        log.Error("Broken gzip stream in https://host/f.csv.gz");

        var lines = log.Text!.Split('\n');

        Assert.Equal(3, lines.Length);
        Assert.All(lines, line => Assert.Matches(LinePattern(), line));
        Assert.EndsWith(" INFO Starting batch job", lines[0], StringComparison.Ordinal);
        Assert.Contains(" WARN ", lines[1], StringComparison.Ordinal);
        Assert.Contains(" ERROR ", lines[2], StringComparison.Ordinal);
        Assert.DoesNotContain('\r', log.Text);
    }

    [Fact]
    public void Line_time_comes_from_the_time_provider_in_utc()
    {
        var time = new FixedTime(new DateTimeOffset(2024, 1, 25, 17, 27, 52, 302, TimeSpan.FromHours(2)));
        var log = new BatchLog(timeProvider: time);

        log.Info("Starting batch job");

        Assert.Equal("2024-01-25T15:27:52.302Z INFO Starting batch job", log.Text);
    }

    [Fact]
    public void Multi_line_message_stays_on_one_line()
    {
        var log = new BatchLog();

        log.Info("first\nsecond\r\nthird");

        Assert.Equal(1, log.LineCount);
        Assert.DoesNotContain('\n', log.Text!);
    }

    [Fact]
    public void Resumed_log_continues_the_existing_text()
    {
        var log = new BatchLog("2024-01-25T15:27:52.302Z INFO Starting batch job");

        log.Info("Starting import");

        Assert.Equal(2, log.LineCount);
        Assert.StartsWith("2024-01-25T15:27:52.302Z INFO Starting batch job\n", log.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Parallel_appends_keep_every_line()
    {
        var log = new BatchLog();
        const int Writers = 8, PerWriter = 500;

        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(() =>
        {
            for (var i = 0; i < PerWriter; i++)
            {
                log.Info($"writer {w} line {i}");
            }
        })));

        var lines = log.Text!.Split('\n');
        Assert.Equal(Writers * PerWriter, lines.Length);
        Assert.Equal(Writers * PerWriter, log.LineCount);
        Assert.All(lines, line => Assert.Matches(LinePattern(), line));
        var messages = lines.Select(l => l[(l.IndexOf(" INFO ", StringComparison.Ordinal) + 6)..]).ToHashSet();
        for (var w = 0; w < Writers; w++)
        {
            for (var i = 0; i < PerWriter; i++)
            {
                Assert.Contains($"writer {w} line {i}", messages);
            }
        }
    }

    [Theory]
    [InlineData("Fetching url https://bucket.s3.amazonaws.com/f.csv?X-Amz-Signature=abc123sig&X-Amz-Credential=AKIAEXAMPLE%2F20240125", "https://bucket.s3.amazonaws.com/f.csv", new[] { "abc123sig", "AKIAEXAMPLE", "X-Amz" })]
    [InlineData("Fetching url https://user:pw-secret@host/f.csv", "https://host/f.csv", new[] { "pw-secret", "user:" })]
    [InlineData("Fetching url https://tok3n@host/f.csv#frag", "https://host/f.csv", new[] { "tok3n", "frag" })]
    [InlineData("Could not fetch 'https://host/f.csv?sig=abc'def' (503).", "https://host/f.csv", new[] { "sig=", "abc", "def" })]
    [InlineData("Connecting with Host=db;Username=app;Password=hunter2;Database=x", "Host=db;Username=app;Password=***;Database=x", new[] { "hunter2" })]
    [InlineData("Connecting with Host=db;Password='a b;c';Database=x", "Password=***", new[] { "a b", "c'" })]
    [InlineData("Connecting to postgres://u:s3cret@db.example:5432/ingest", "postgres://db.example:5432/ingest", new[] { "s3cret" })]
    [InlineData("Connecting to postgresql://u:s3/cr@t@db/ingest?sslmode=require", "db/ingest", new[] { "s3/cr", "cr@t" })]
    public void Secrets_never_reach_the_log(string message, string kept, string[] secrets)
    {
        var log = new BatchLog();

        log.Info(message);

        var text = log.Text!;
        Assert.Contains(kept, text, StringComparison.Ordinal);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Existing_log_text_is_redacted_too()
    {
        var log = new BatchLog("2024-01-25T15:27:52.302Z INFO Fetching url https://h/f.csv?X-Amz-Signature=zzz");

        Assert.DoesNotContain("zzz", log.Text!, StringComparison.Ordinal);
    }

    [Fact]
    public void Line_added_event_gets_the_redacted_line()
    {
        var log = new BatchLog();
        string? seen = null;
        log.LineAdded += (_, line) => seen = line;

        log.Warn("retrying https://h/f.csv?sig=zzz");

        Assert.NotNull(seen);
        Assert.DoesNotContain("zzz", seen, StringComparison.Ordinal);
        Assert.Equal(log.Text, seen);
    }

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|WARN|ERROR) .+$")]
    private static partial Regex LinePattern();
}
