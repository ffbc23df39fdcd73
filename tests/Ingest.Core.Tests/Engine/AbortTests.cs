using System.Text;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Status;

namespace Ingest.Core.Tests.Engine;

public sealed class AbortTests
{
    [SkippableFact]
    public async Task An_abort_from_another_recorder_rolls_back_files_in_flight_and_keeps_only_whole_files()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 2 });
        await using var server = await LoopbackHttpServer.StartAsync();
        var fast = f.WriteFile("fast.csv", EngineFixture.Rows(500));
        var slowRows = EngineFixture.Rows(20_000, 10_000);

        // A slow body keeps this file in flight until the abort arrives.
        server.AddFile("/slow.csv", Encoding.UTF8.GetBytes(slowRows), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(50), ChunkSize = 4096 });
        var id = Guid.NewGuid();
        var run = f.ImportAsync([fast, server.Url("/slow.csv").ToString()], id);

        // Another process's view: its own recorder on the same database.
        await using var other = PostgresStatusRecorder.Create(f.ConnectionString);
        await WaitUntilAsync(async () => (await other.TryGetBatchAsync(id))?.InsertCount > 500);
        Assert.Equal(AbortOutcome.Requested, await other.RequestAbortAsync(id));
        var result = await run;

        Assert.Equal(BatchStatus.Aborted, result.Status);
        Assert.Equal(500, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(500, result.InsertCount);
        var timeline = await other.GetTimelineAsync(id);
        Assert.Equal(BatchStatus.Aborted, timeline[0].Status);
        Assert.Equal(500, timeline[0].InsertCount);
        Assert.Contains("INFO Received abort instruction", timeline[0].Log, StringComparison.Ordinal);
        Assert.Contains("INFO Batch job aborted", timeline[0].Log, StringComparison.Ordinal);
        Assert.Equal(AbortOutcome.AlreadyAborted, await other.RequestAbortAsync(id));
    }

    [SkippableFact]
    public async Task Cancelling_the_host_token_aborts_the_batch_with_nothing_half_loaded()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/slow.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(20_000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(50), ChunkSize = 4096 });
        using var cancel = new CancellationTokenSource();
        var id = Guid.NewGuid();
        var run = f.ImportAsync([server.Url("/slow.csv").ToString()], id, cancellationToken: cancel.Token);

        await WaitUntilAsync(async () => (await f.Recorder.TryGetBatchAsync(id))?.InsertCount > 0);
        await cancel.CancelAsync();
        var result = await run;

        Assert.Equal(BatchStatus.Aborted, result.Status);
        Assert.Equal(0, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(0, (await f.Recorder.GetBatchAsync(id)).InsertCount);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        // Bounded wait for a state change, not a timed assertion: the test fails only if it never happens.
        for (var i = 0; i < 600; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail("The batch never reached the expected state.");
    }
}
