using System.Text.Json;
using Ingest.Status;
using Ingest.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Ingest.Hosting.Tests;

public sealed class WatchTests
{
    [Fact]
    public async Task Watch_yields_recorded_entries_then_live_counts_then_ends_at_the_terminal_entry()
    {
        await using var provider = InMemoryHost();
        var ingest = provider.GetRequiredService<IngestService>();
        var recorder = ingest.Recorder;
        var id = Guid.NewGuid();
        await recorder.CreateBatchAsync(new NewBatch(id, "plants", null, null));
        await recorder.AppendStatusAsync(id, BatchStatus.Started, 0, 0, "log");
        await recorder.UpdateProgressAsync(id, 5, 1, "log");

        await using var watch = ingest.WatchAsync(id).GetAsyncEnumerator();
        Assert.True(await watch.MoveNextAsync());
        Assert.Equal(BatchStatus.Created, watch.Current.Status);

        // The running batch's newest entry shows its live counts already; later changes come as live records.
        Assert.True(await watch.MoveNextAsync());
        Assert.Equal((BatchStatus.Started, 5L, 1L), (watch.Current.Status, watch.Current.InsertCount, watch.Current.InvalidCount));
        await recorder.UpdateProgressAsync(id, 6, 1, "log");
        Assert.True(await watch.MoveNextAsync());
        Assert.Equal((BatchStatus.Started, 6L, 1L), (watch.Current.Status, watch.Current.InsertCount, watch.Current.InvalidCount));

        await recorder.AppendStatusAsync(id, BatchStatus.Finished, 7, 1, "log");
        Assert.True(await watch.MoveNextAsync());
        Assert.Equal((BatchStatus.Finished, 7L), (watch.Current.Status, watch.Current.InsertCount));
        Assert.False(await watch.MoveNextAsync());
    }

    [Fact]
    public async Task Watch_waits_for_a_batch_that_is_not_created_yet()
    {
        await using var provider = InMemoryHost();
        var ingest = provider.GetRequiredService<IngestService>();
        var id = Guid.NewGuid();
        await using var watch = ingest.WatchAsync(id).GetAsyncEnumerator();
        var first = watch.MoveNextAsync().AsTask();

        await ingest.Recorder.CreateBatchAsync(new NewBatch(id, "plants", JsonDocument.Parse("{}").RootElement, null));

        Assert.True(await first);
        Assert.Equal(BatchStatus.Created, watch.Current.Status);
    }

    [SkippableFact]
    public async Task Watching_a_real_batch_sees_it_grow_and_finish_in_order()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync();
        await using var provider = new ServiceCollection()
            .AddIngest(o =>
            {
                o.ConnectionString = connectionString;
                o.Engine = Plants.FastOptions;
                o.WatchInterval = TimeSpan.FromMilliseconds(20);
            })
            .BuildServiceProvider();
        var ingest = provider.GetRequiredService<IngestService>();
        var request = Plants.Request(Plants.File(Plants.Rows(5000)), Plants.File(Plants.Rows(5000, 5000)));

        var watching = Collect(ingest.WatchAsync(request.BatchId!.Value));
        var result = await ingest.ImportAsync(request);
        var seen = await watching;

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(BatchStatus.Created, seen[0].Status);
        Assert.Equal(BatchStatus.Finished, seen[^1].Status);
        Assert.Equal(10_000, seen[^1].InsertCount);
        Assert.All(seen, s => Assert.Equal(request.BatchId, s.Id));
        for (var i = 1; i < seen.Count; i++)
        {
            Assert.True(seen[i].Status >= seen[i - 1].Status, $"{seen[i].Status} after {seen[i - 1].Status}");
        }
    }

    private static ServiceProvider InMemoryHost() => new ServiceCollection()
        .AddIngest(o =>
        {
            o.ConnectionString = "Host=never-connected";
            o.StatusStore = IngestStatusStore.InMemory;
            o.WatchInterval = TimeSpan.FromMilliseconds(10);
        })
        .BuildServiceProvider();

    private static async Task<List<StatusRecord>> Collect(IAsyncEnumerable<StatusRecord> watch)
    {
        var seen = new List<StatusRecord>();
        await foreach (var record in watch)
        {
            seen.Add(record);
        }

        return seen;
    }
}
