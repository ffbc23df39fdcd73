namespace Ingest.Status.Tests.Recorders;

public abstract partial class StatusRecorderContract
{
    [SkippableFact]
    public async Task Abort_of_a_created_batch_aborts_it_at_once()
    {
        var recorder = await NewRecorderAsync();
        var batch = NewBatch();
        await recorder.CreateBatchAsync(batch);

        Assert.Equal(AbortOutcome.AbortedNow, await recorder.RequestAbortAsync(batch.Id));

        var timeline = await recorder.GetTimelineAsync(batch.Id);
        Assert.Equal([BatchStatus.Aborted, BatchStatus.Created], timeline.Select(r => r.Status));
        Assert.Contains("INFO Received abort instruction", timeline[0].Log, StringComparison.Ordinal);
        Assert.EndsWith("INFO Batch job aborted", timeline[0].Log, StringComparison.Ordinal);
        Assert.Equal(BatchStatus.Aborted, (await recorder.GetBatchAsync(batch.Id)).Status);
        Assert.True(await recorder.IsAbortRequestedAsync(batch.Id));
    }

    [SkippableFact]
    public async Task Abort_of_a_started_batch_is_a_request_for_its_runner()
    {
        var recorder = await NewRecorderAsync();
        var batch = NewBatch();
        await recorder.CreateBatchAsync(batch);
        await recorder.AppendStatusAsync(batch.Id, BatchStatus.Started, 0, 0, "x");
        Assert.False(await recorder.IsAbortRequestedAsync(batch.Id));

        Assert.Equal(AbortOutcome.Requested, await recorder.RequestAbortAsync(batch.Id));

        Assert.True(await recorder.IsAbortRequestedAsync(batch.Id));
        Assert.Equal(BatchStatus.Started, (await recorder.GetBatchAsync(batch.Id)).Status);
        Assert.Equal(2, (await recorder.GetTimelineAsync(batch.Id)).Count);
        Assert.Equal(AbortOutcome.Requested, await recorder.RequestAbortAsync(batch.Id));
    }

    [SkippableTheory]
    [InlineData(BatchStatus.Finished)]
    [InlineData(BatchStatus.Error)]
    public async Task Ended_batch_cannot_be_aborted(BatchStatus end)
    {
        var recorder = await NewRecorderAsync();
        var batch = NewBatch();
        await recorder.CreateBatchAsync(batch);
        await recorder.AppendStatusAsync(batch.Id, BatchStatus.Started, 0, 0, "x");
        await recorder.AppendStatusAsync(batch.Id, end, 5, 0, "x\ny");

        Assert.Equal(AbortOutcome.AlreadyEnded, await recorder.RequestAbortAsync(batch.Id));

        Assert.False(await recorder.IsAbortRequestedAsync(batch.Id));
        Assert.Equal(end, (await recorder.GetTimelineAsync(batch.Id))[0].Status);
    }

    [SkippableFact]
    public async Task Aborting_an_aborted_batch_says_so()
    {
        var recorder = await NewRecorderAsync();
        var batch = NewBatch();
        await recorder.CreateBatchAsync(batch);
        await recorder.RequestAbortAsync(batch.Id);

        Assert.Equal(AbortOutcome.AlreadyAborted, await recorder.RequestAbortAsync(batch.Id));

        Assert.Equal(2, (await recorder.GetTimelineAsync(batch.Id)).Count);
    }

    [SkippableFact]
    public async Task Abort_request_is_visible_to_a_second_recorder_on_the_same_store()
    {
        var runner = await NewRecorderAsync();
        var batch = NewBatch();
        await runner.CreateBatchAsync(batch);
        await runner.AppendStatusAsync(batch.Id, BatchStatus.Started, 0, 0, "x");
        var other = SecondRecorder();

        Assert.Equal(AbortOutcome.Requested, await other.RequestAbortAsync(batch.Id));

        Assert.True(await runner.IsAbortRequestedAsync(batch.Id));
        await runner.AppendStatusAsync(batch.Id, BatchStatus.Aborted, 0, 0, "x\nBatch job aborted");
        Assert.Equal(BatchStatus.Aborted, (await other.GetTimelineAsync(batch.Id))[0].Status);
    }

    [SkippableFact]
    public async Task Cleared_abort_request_is_no_longer_pending()
    {
        var recorder = await NewRecorderAsync();
        var batch = NewBatch();
        await recorder.CreateBatchAsync(batch);
        await recorder.AppendStatusAsync(batch.Id, BatchStatus.Started, 0, 0, "x");
        await recorder.RequestAbortAsync(batch.Id);

        await recorder.ClearAbortRequestAsync(batch.Id);

        Assert.False(await recorder.IsAbortRequestedAsync(batch.Id));
        Assert.Equal(BatchStatus.Started, (await recorder.GetBatchAsync(batch.Id)).Status);
    }
}
