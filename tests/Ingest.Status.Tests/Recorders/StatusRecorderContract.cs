using System.Text.Json;

namespace Ingest.Status.Tests.Recorders;

/// <summary>
/// The behaviour every <see cref="IStatusRecorder"/> promises, run against each implementation.
/// </summary>
public abstract partial class StatusRecorderContract : IAsyncLifetime
{
    private readonly List<object> _owned = [];

    /// <summary>A recorder on a fresh, empty store.</summary>
    protected abstract Task<IStatusRecorder> CreateStoreAsync(TimeProvider? time);

    /// <summary>Another recorder instance on the store made last, as another process would open it.</summary>
    protected abstract IStatusRecorder OpenSameStore();

    protected async Task<IStatusRecorder> NewRecorderAsync(TimeProvider? time = null) => Own(await CreateStoreAsync(time));

    protected IStatusRecorder SecondRecorder() => Own(OpenSameStore());

    protected T Own<T>(T item)
        where T : notnull
    {
        _owned.Add(item);
        return item;
    }

    protected static NewBatch NewBatch(string? source = null) => new(
        Guid.NewGuid(),
        "plants",
        Json("""{"csv":{"entityId":0,"timestamp":1,"longitude":2,"latitude":3}}"""),
        Json(source ?? """{"urls":["https://host/data/f-000.csv"]}"""));

    protected static JsonElement Json(string text)
    {
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var item in _owned.Distinct())
        {
            switch (item)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync();
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
    }

    [SkippableFact]
    public async Task Create_returns_a_created_entry_with_null_log()
    {
        var recorder = await NewRecorderAsync();
        var batch = NewBatch();

        var created = await recorder.CreateBatchAsync(batch);

        Assert.Equal(batch.Id, created.Id);
        Assert.Equal(BatchStatus.Created, created.Status);
        Assert.Equal((0, 0), (created.InsertCount, created.InvalidCount));
        Assert.Null(created.Log);
        Assert.Contains("\"log\":null", StatusJson.Serialize(created), StringComparison.Ordinal);
        Assert.Equal([created], await recorder.GetTimelineAsync(batch.Id));
    }

    [SkippableFact]
    public async Task A_batch_created_with_first_log_lines_keeps_them_redacted_in_its_record_and_created_entry()
    {
        var recorder = await NewRecorderAsync();
        var batch = NewBatch() with { Log = "2026-11-29T05:00:00.000Z WARN Table \"plants\" is UNLOGGED; see https://host/a.csv?X-Amz-Signature=abc123" };

        var created = await recorder.CreateBatchAsync(batch);
        var record = await SecondRecorder().GetBatchAsync(batch.Id);

        Assert.StartsWith("2026-11-29T05:00:00.000Z WARN Table \"plants\" is UNLOGGED", record.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("abc123", record.Log, StringComparison.Ordinal);
        Assert.Equal(record.Log, created.Log);
        Assert.Equal([created], await recorder.GetTimelineAsync(batch.Id));
    }

    [SkippableFact]
    public async Task Created_batch_record_holds_dataset_format_and_no_log()
    {
        var recorder = await NewRecorderAsync();
        var batch = NewBatch();
        var created = await recorder.CreateBatchAsync(batch);

        var record = await recorder.GetBatchAsync(batch.Id);

        Assert.Equal(batch.Id, record.Id);
        Assert.Equal("plants", record.DatasetId);
        Assert.Equal(BatchStatus.Created, record.Status);
        Assert.Null(record.Log);
        Assert.Null(record.DeletedAt);
        Assert.Equal(created.UpdatedAt, record.AddedAt);
        Assert.Equal(2, record.Format!.Value.GetProperty("csv").GetProperty("longitude").GetInt32());
    }

    [SkippableFact]
    public async Task Source_urls_added_later_are_kept_after_the_first_ones_redacted_with_other_keys_untouched()
    {
        var recorder = await NewRecorderAsync();
        var batch = NewBatch("""{"urls":["https://host/data/f-000.csv"],"region":"eu"}""");
        await recorder.CreateBatchAsync(batch);

        await recorder.AddSourceUrlsAsync(batch.Id, ["https://u:pw@host/data/f-001.csv?X-Amz-Signature=abc", "/data/f-002.csv"]);
        await recorder.AddSourceUrlsAsync(batch.Id, ["https://host/data/f-003.csv"]);

        var source = (await recorder.GetBatchAsync(batch.Id)).Source!.Value;
        Assert.Equal(
            new[] { "https://host/data/f-000.csv", "https://host/data/f-001.csv", "/data/f-002.csv", "https://host/data/f-003.csv" },
            source.GetProperty("urls").EnumerateArray().Select(u => u.GetString()!).ToArray());
        Assert.Equal("eu", source.GetProperty("region").GetString());
        await Assert.ThrowsAsync<BatchNotFoundException>(async () => await recorder.AddSourceUrlsAsync(Guid.NewGuid(), ["/x.csv"]));
    }

    [SkippableFact]
    public async Task Appended_status_becomes_the_batch_state()
    {
        var recorder = await NewRecorderAsync();
        var batch = NewBatch();
        await recorder.CreateBatchAsync(batch);

        await recorder.AppendStatusAsync(batch.Id, BatchStatus.Started, 0, 0, "l1");
        var finished = await recorder.AppendStatusAsync(batch.Id, BatchStatus.Finished, 42, 3, "l1\nl2");

        var record = await recorder.GetBatchAsync(batch.Id);
        Assert.Equal(BatchStatus.Finished, record.Status);
        Assert.Equal((42, 3, "l1\nl2"), (record.InsertCount, record.InvalidCount, record.Log));
        Assert.Equal(finished, (await recorder.GetTimelineAsync(batch.Id))[0]);
    }

    [SkippableFact]
    public async Task A_status_with_lines_appends_them_redacted_to_the_log_and_records_the_whole_log()
    {
        var recorder = await NewRecorderAsync();
        var batch = NewBatch();
        await recorder.CreateBatchAsync(batch);

        var first = await recorder.AppendStatusLinesAsync(batch.Id, BatchStatus.Started, 0, 0, "l1");
        var error = await recorder.AppendStatusLinesAsync(batch.Id, BatchStatus.Error, 4, 1, "l2 https://h/f.csv?sig=SECRET\nl3");

        Assert.Equal("l1", first.Log);
        var record = await recorder.GetBatchAsync(batch.Id);
        Assert.Equal((BatchStatus.Error, 4L, 1L), (record.Status, record.InsertCount, record.InvalidCount));
        Assert.Equal("l1\nl2 https://h/f.csv\nl3", record.Log);
        Assert.Equal(record.Log, error.Log);
        Assert.Equal(error, (await recorder.GetTimelineAsync(batch.Id))[0]);
        await Assert.ThrowsAsync<BatchNotFoundException>(async () => await recorder.AppendStatusLinesAsync(Guid.NewGuid(), BatchStatus.Started, 0, 0, "x"));
    }

    [SkippableFact]
    public async Task Timeline_is_newest_first()
    {
        var time = new FixedTime(DateTimeOffset.UnixEpoch.AddDays(20_000));
        var recorder = await NewRecorderAsync(time);
        var batch = NewBatch();
        await recorder.CreateBatchAsync(batch);
        time.Advance(TimeSpan.FromSeconds(1));
        await recorder.AppendStatusAsync(batch.Id, BatchStatus.Started, 0, 0, "a");
        time.Advance(TimeSpan.FromSeconds(1));
        await recorder.AppendStatusAsync(batch.Id, BatchStatus.Finished, 10, 0, "a\nb");

        var timeline = await recorder.GetTimelineAsync(batch.Id);

        Assert.Equal([BatchStatus.Finished, BatchStatus.Started, BatchStatus.Created], timeline.Select(r => r.Status));
        Assert.True(timeline[0].UpdatedAt > timeline[1].UpdatedAt && timeline[1].UpdatedAt > timeline[2].UpdatedAt);
    }

    [SkippableFact]
    public async Task Entries_in_the_same_millisecond_keep_their_order()
    {
        var recorder = await NewRecorderAsync(new FixedTime(DateTimeOffset.UnixEpoch.AddDays(20_000)));
        var batch = NewBatch();
        await recorder.CreateBatchAsync(batch);

        for (var i = 1; i <= 20; i++)
        {
            await recorder.AppendStatusAsync(batch.Id, BatchStatus.Started, i, 0, $"snapshot {i}");
        }

        await recorder.AppendStatusAsync(batch.Id, BatchStatus.Finished, 20, 0, "done");

        var timeline = await recorder.GetTimelineAsync(batch.Id);
        Assert.Single(timeline.Select(r => r.UpdatedAt).Distinct());
        Assert.Equal(BatchStatus.Finished, timeline[0].Status);
        Assert.Equal(Enumerable.Range(1, 20).Reverse().Select(i => (long)i), timeline.Skip(1).Take(20).Select(r => r.InsertCount));
        Assert.Equal(BatchStatus.Created, timeline[^1].Status);
    }

    [SkippableFact]
    public async Task Times_are_whole_milliseconds_and_stored_equals_returned()
    {
        var recorder = await NewRecorderAsync(new FixedTime(new DateTimeOffset(2024, 1, 25, 15, 27, 53, 552, TimeSpan.Zero).AddTicks(9_999)));
        var batch = NewBatch();

        var created = await recorder.CreateBatchAsync(batch);
        var started = await recorder.AppendStatusAsync(batch.Id, BatchStatus.Started, 0, 0, "x");

        Assert.Equal(new DateTimeOffset(2024, 1, 25, 15, 27, 53, 552, TimeSpan.Zero), created.UpdatedAt);
        Assert.Equal(TimeSpan.Zero, started.UpdatedAt.Offset);
        Assert.Equal([started, created], await recorder.GetTimelineAsync(batch.Id));
        Assert.Equal(created.UpdatedAt, (await recorder.GetBatchAsync(batch.Id)).AddedAt);
    }

    [SkippableFact]
    public async Task Unknown_batch_throws_batch_not_found()
    {
        var recorder = await NewRecorderAsync();
        var id = Guid.NewGuid();

        Assert.Equal(id, (await Assert.ThrowsAsync<BatchNotFoundException>(() => recorder.GetTimelineAsync(id).AsTask())).BatchId);
        await Assert.ThrowsAsync<BatchNotFoundException>(() => recorder.GetBatchAsync(id).AsTask());
        await Assert.ThrowsAsync<BatchNotFoundException>(() => recorder.AppendStatusAsync(id, BatchStatus.Started, 0, 0, null).AsTask());
        await Assert.ThrowsAsync<BatchNotFoundException>(() => recorder.UpdateProgressAsync(id, 1, 0, null).AsTask());
        await Assert.ThrowsAsync<BatchNotFoundException>(() => recorder.RequestAbortAsync(id).AsTask());
        await Assert.ThrowsAsync<BatchNotFoundException>(() => recorder.IsAbortRequestedAsync(id).AsTask());
        await Assert.ThrowsAsync<BatchNotFoundException>(() => recorder.ClearAbortRequestAsync(id).AsTask());
    }

    [SkippableFact]
    public async Task Try_get_of_unknown_batch_is_null()
    {
        var recorder = await NewRecorderAsync();

        Assert.Null(await recorder.TryGetBatchAsync(Guid.NewGuid()));
    }

    [SkippableFact]
    public async Task Creating_a_batch_id_twice_is_refused()
    {
        var recorder = await NewRecorderAsync();
        var batch = NewBatch();
        await recorder.CreateBatchAsync(batch);
        await recorder.AppendStatusAsync(batch.Id, BatchStatus.Started, 5, 0, "x");

        await Assert.ThrowsAsync<InvalidOperationException>(() => recorder.CreateBatchAsync(batch with { DatasetId = "other" }).AsTask());

        var record = await recorder.GetBatchAsync(batch.Id);
        Assert.Equal(("plants", BatchStatus.Started), (record.DatasetId, record.Status));
        Assert.Equal(2, (await recorder.GetTimelineAsync(batch.Id)).Count);
    }

    [SkippableFact]
    public async Task Progress_shows_in_the_batch_record_and_the_newest_started_entry_without_adding_one()
    {
        var time = new FixedTime(new DateTimeOffset(2024, 1, 25, 15, 27, 52, 302, TimeSpan.Zero));
        var recorder = await NewRecorderAsync(time);
        var batch = NewBatch();
        await recorder.CreateBatchAsync(batch);
        var started = await recorder.AppendStatusAsync(batch.Id, BatchStatus.Started, 0, 0, "start");

        time.Advance(TimeSpan.FromSeconds(1));
        await recorder.UpdateProgressAsync(batch.Id, 1000, 7, "start\nprogress");
        time.Advance(TimeSpan.FromSeconds(1));
        await recorder.UpdateProgressAsync(batch.Id, 2000, 9, "start\nprogress\nmore");

        var record = await recorder.GetBatchAsync(batch.Id);
        Assert.Equal((2000, 9, "start\nprogress\nmore"), (record.InsertCount, record.InvalidCount, record.Log));
        Assert.Equal(BatchStatus.Started, record.Status);
        var timeline = await recorder.GetTimelineAsync(batch.Id);
        Assert.Equal([BatchStatus.Started, BatchStatus.Created], timeline.Select(r => r.Status));
        Assert.Equal((2000L, 9L, "start\nprogress\nmore"), (timeline[0].InsertCount, timeline[0].InvalidCount, timeline[0].Log));
        Assert.Equal(started.UpdatedAt + TimeSpan.FromSeconds(2), timeline[0].UpdatedAt);
        Assert.Null(timeline[1].Log);

        // A snapshot appended later is the head from then on; the one before keeps what it was written with.
        time.Advance(TimeSpan.FromSeconds(1));
        await recorder.AppendStatusAsync(batch.Id, BatchStatus.Started, 2500, 9, "start\nprogress\nmore\nsnapshot");
        time.Advance(TimeSpan.FromSeconds(1));
        await recorder.UpdateProgressAsync(batch.Id, 3000, 9, "start\nprogress\nmore\nsnapshot\nlive");
        timeline = await recorder.GetTimelineAsync(batch.Id);
        Assert.Equal([3000L, 0L, 0L], timeline.Select(r => r.InsertCount));

        // Once the batch ended, its end is the head and no entry is live.
        await recorder.AppendStatusAsync(batch.Id, BatchStatus.Finished, 3100, 9, "end");
        timeline = await recorder.GetTimelineAsync(batch.Id);
        Assert.Equal([3100L, 2500L, 0L, 0L], timeline.Select(r => r.InsertCount));
    }

    [SkippableFact]
    public async Task Source_urls_are_redacted_in_the_batch_record()
    {
        var recorder = await NewRecorderAsync();
        var batch = NewBatch(
            """{"urls":["https://bucket.s3.amazonaws.com/f.csv?X-Amz-Signature=abc&X-Amz-Credential=AKIA","https://user:pw@host/g.csv","/data/local.csv"],"note":"kept"}""");

        await recorder.CreateBatchAsync(batch);

        var source = (await recorder.GetBatchAsync(batch.Id)).Source!.Value;
        Assert.Equal(
            ["https://bucket.s3.amazonaws.com/f.csv", "https://host/g.csv", "/data/local.csv"],
            source.GetProperty("urls").EnumerateArray().Select(u => u.GetString()));
        Assert.Equal("kept", source.GetProperty("note").GetString());
        var json = StatusJson.Serialize(await recorder.GetBatchAsync(batch.Id));
        Assert.DoesNotContain("abc", json, StringComparison.Ordinal);
        Assert.DoesNotContain("pw", json, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Concurrent_appends_are_all_recorded()
    {
        var recorder = await NewRecorderAsync();
        var batch = NewBatch();
        await recorder.CreateBatchAsync(batch);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 10; i++)
            {
                await recorder.AppendStatusAsync(batch.Id, BatchStatus.Started, (w * 100) + i, 0, null);
            }
        })));

        var timeline = await recorder.GetTimelineAsync(batch.Id);
        Assert.Equal(41, timeline.Count);
        var started = timeline.Where(r => r.Status == BatchStatus.Started).Select(r => r.InsertCount).ToList();
        Assert.Equal(40, started.Distinct().Count());
        for (var w = 0; w < 4; w++)
        {
            // Each writer's own entries appear newest first, in the order it wrote them.
            var mine = started.Where(c => c / 100 == w).ToList();
            Assert.Equal(Enumerable.Range(0, 10).Reverse().Select(i => (long)((w * 100) + i)), mine);
        }
    }
}
