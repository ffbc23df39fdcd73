using System.Text.RegularExpressions;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Sources;
using static Ingest.Core.Tests.Sources.SourceTestKit;

namespace Ingest.Core.Tests.Sources;

public sealed class TrickleTests
{
    [Fact]
    public async Task A_body_that_trickles_a_byte_at_a_time_is_a_stalled_read_and_gives_up_after_max_attempts()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        var content = CsvBytes(30); // about 2 KB: a trickle of 50 bytes/s would take 45 s, every read re-arming a per-read timer
        server.AddFile("/a.csv", content, new HttpFault { ChunkSize = 1, ChunkDelay = TimeSpan.FromMilliseconds(20) });
        var retries = new List<string>();
        using var opener = Opener(retries, Fast with { StallTimeout = TimeSpan.FromSeconds(1) });

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, server.Url("/a.csv")));

        // A little after each reconnect is not progress: the count of attempts does not start again.
        Assert.Contains("gave up after 5 attempts", error.Reason, StringComparison.Ordinal);
        Assert.Equal(5, server.RequestCount("/a.csv"));
        Assert.Equal(4, retries.Count);
        Assert.Contains(retries, r => Regex.IsMatch(r, @"after only \d+ bytes? in 1 s \(stalled read\)"));
        Assert.Contains(server.Requests("/a.csv"), r => r.Status == 206); // resumed where the trickle stopped
    }

    [Fact]
    public async Task Time_the_consumer_spends_between_reads_does_not_count_toward_a_stall()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        var content = CsvBytes(2_000);
        server.AddFile("/a.csv", content);
        var retries = new List<string>();
        using var opener = Opener(retries, Fast with { StallTimeout = TimeSpan.FromMilliseconds(300) });

        await using var stream = await opener.OpenAsync(SourceFile.Parse(server.Url("/a.csv").ToString()));
        using var copy = new MemoryStream();
        var buffer = new byte[1000];
        int read;
        for (var i = 0; (read = await stream.ReadAsync(buffer)) > 0; i++)
        {
            copy.Write(buffer, 0, read);
            if (i < 4)
            {
                await Task.Delay(400); // a slow database: 1.6 s without reading, far beyond the stall timeout, under 16 KiB read
            }
        }

        Assert.Equal(content, copy.ToArray());
        Assert.Empty(retries);
    }

    [Fact]
    public async Task Short_answers_after_each_reconnect_add_up_to_progress()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        var content = CsvBytes(2_000); // about 150 KB, cut every 10,000 bytes: more cuts than attempts
        server.AddFile("/a.csv", content, new HttpFault { DropAfterBytes = 10_000, DropFirst = int.MaxValue });
        var retries = new List<string>();
        using var opener = Opener(retries, Fast with { MaxAttempts = 3 });

        Assert.Equal(content, await ReadAllAsync(opener, server.Url("/a.csv")));
        Assert.True(retries.Count > 3, string.Join("\n", retries));
    }
}
