using Ingest.Status;
using Ingest.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ingest.Hosting.Tests;

public sealed class LoggingTests
{
    [SkippableFact]
    public async Task Batch_log_lines_reach_ILogger_once_each_at_their_level_with_the_batch_id_in_scope()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync();
        var logs = new CapturingLoggerProvider();
        await using var provider = logs.BuildIngest(connectionString, Plants.FastOptions);
        var request = Plants.Request(Plants.File(Plants.Rows(20) + "not-a-uuid,1,2,3,4,,\n"));

        var result = await provider.GetRequiredService<IngestService>().ImportAsync(request);

        Assert.Equal(BatchStatus.Finished, result.Status);
        var lines = logs.Entries.Where(e => e.Category == "Ingest.Batch").ToList();
        var expected = result.Log!.Split('\n');
        Assert.Equal(expected.Length, lines.Count);
        Assert.Equal("Starting batch job", lines[0].Message);
        Assert.Contains(lines, l => l.Level == LogLevel.Warning && l.Message.StartsWith("Invalid row skipped", StringComparison.Ordinal));
        Assert.Equal("Finished batch job. Inserted: 20, Invalid: 1", lines[^1].Message);
        Assert.All(lines, l => Assert.Equal(request.BatchId, l.Scope["BatchId"]));
        Assert.All(lines, l => Assert.Equal("plants", l.Scope["DatasetId"]));
    }

    [Fact]
    public void A_line_of_another_shape_is_written_whole()
    {
        var logs = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        var bridge = new BatchLogBridge(factory.CreateLogger("Ingest.Batch"));

        bridge.WriteLine("no timestamp here");
        bridge.WriteLine("2024-01-25T15:27:52.302Z ERROR Reading failed");

        Assert.Equal(["no timestamp here", "Reading failed"], logs.Entries.Select(e => e.Message));
        Assert.Equal([LogLevel.Information, LogLevel.Error], logs.Entries.Select(e => e.Level));
    }
}
