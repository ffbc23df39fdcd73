using System.Diagnostics;
using System.Text;
using Ingest.Cli;
using Ingest.Core.Tests.Copy;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Status;

namespace Ingest.Core.Tests.Engine;

public sealed class CrashResumeTests
{
    [SkippableFact]
    public async Task After_kill_9_the_same_batch_id_resumes_loading_only_unloaded_files_with_exact_counts()
    {
        var cli = BuiltApp.Cli;
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/f0.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(1000)));
        // One stream: f0 loads, then f1 is in flight for seconds (a slow body) when the process is killed.
        server.AddFile("/f1.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(6000, 10_000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(100), ChunkSize = 8192 });
        server.AddFile("/f2.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(3000, 20_000)));
        var urls = new[] { "/f0.csv", "/f1.csv", "/f2.csv" }.Select(p => server.Url(p).ToString()).ToArray();
        var id = Guid.NewGuid();
        string[] args = ["import", "--dataset", "plants", "--schema", RowEncoderTests.Plants, "--format", RowEncoderTests.PlantsFormat, "--streams", "1", "--batch-id", id.ToString(), "--connection", f.ConnectionString, .. urls];

        using (var process = Start(cli, args))
        {
            // f0 loaded, and f1's first rows counted live in the record (rows that will never commit).
            await PostgresFaultTests.WaitUntilAsync(async () =>
                server.RequestCount("/f1.csv") > 0
                && await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}' AND state = 'loaded'") == 1
                && (await f.Recorder.GetBatchAsync(id)).InsertCount > 1000);
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        Assert.Equal(BatchStatus.Started, (await f.Recorder.GetBatchAsync(id)).Status);
        await PostgresFaultTests.WaitUntilAsync(async () => await f.ScalarAsync("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'COPY %'") == 0);
        Assert.Equal(1000, await f.ScalarAsync("SELECT count(*) FROM plants"));

        // The lease dies with the process: its idle session ends on its own (a moment after the COPY's on a busy machine).
        await PostgresFaultTests.WaitUntilAsync(async () => !await f.Engine.IsRunningAsync(id));

        // The record still has the dead run's live counts; what status and batch show is what committed.
        Assert.True((await f.Recorder.GetBatchAsync(id)).InsertCount > 1000);
        var status = new StringWriter();
        var record = new StringWriter();
        Assert.Equal(0, await CliApp.RunAsync(["status", id.ToString(), "--connection", f.ConnectionString], status, new StringWriter()));
        Assert.Equal(0, await CliApp.RunAsync(["batch", id.ToString(), "--connection", f.ConnectionString], record, new StringWriter()));
        using (var shown = System.Text.Json.JsonDocument.Parse(status.ToString()))
        using (var batch = System.Text.Json.JsonDocument.Parse(record.ToString()))
        {
            Assert.Equal(("started", 1000L), (shown.RootElement[0].GetProperty("status").GetString(), shown.RootElement[0].GetProperty("insertCount").GetInt64()));
            Assert.Equal(("started", 1000L), (batch.RootElement.GetProperty("status").GetString(), batch.RootElement.GetProperty("insertCount").GetInt64()));
        }

        var exit = await CliApp.RunAsync(args, new StringWriter(), new StringWriter());

        Assert.Equal(0, exit);
        Assert.Equal(10_000, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(10_000, await f.ScalarAsync("SELECT count(DISTINCT entity_id) FROM plants"));
        var timeline = await f.Recorder.GetTimelineAsync(id);
        Assert.Equal(BatchStatus.Finished, timeline[0].Status);
        Assert.Equal(10_000, timeline[0].InsertCount);
        Assert.Contains("Resuming batch job: 1 of 3 files already loaded, 2 to load", timeline[0].Log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_batch_left_started_by_a_dead_process_is_marked_aborted_at_once_and_can_still_be_resumed()
    {
        await using var f = await EngineFixture.CreateAsync();
        var id = Guid.NewGuid();
        var file = f.WriteFile("a.csv", EngineFixture.Rows(10));

        // What a killed process leaves: the batch recorded as started, no live lease, nothing loaded.
        await f.Recorder.CreateBatchAsync(new NewBatch(id, "plants", null, null));
        await f.Recorder.AppendStatusAsync(id, BatchStatus.Started, 0, 0, "2026-01-01T00:00:00.000Z INFO Starting batch job");

        var exit = await CliApp.RunAsync(["abort", id.ToString(), "--connection", f.ConnectionString], new StringWriter(), new StringWriter());
        var aborted = await f.Recorder.GetBatchAsync(id);
        var resumed = await f.ImportAsync([file], id);

        Assert.Equal(0, exit);
        Assert.Equal(BatchStatus.Aborted, aborted.Status);
        Assert.Contains("no process was running it", aborted.Log, StringComparison.Ordinal);
        Assert.Equal(BatchStatus.Finished, resumed.Status);
        Assert.Equal(10, resumed.InsertCount);
    }

    [SkippableFact]
    public async Task A_batch_left_started_by_a_dead_process_can_be_marked_error_and_then_resumed()
    {
        await using var f = await EngineFixture.CreateAsync();
        var id = Guid.NewGuid();
        var file = f.WriteFile("a.csv", EngineFixture.Rows(10));
        await f.Recorder.CreateBatchAsync(new NewBatch(id, "plants", null, null));
        await f.Recorder.AppendStatusAsync(id, BatchStatus.Started, 0, 0, "2026-01-01T00:00:00.000Z INFO Starting batch job");

        var marked = await f.Engine.MarkAbandonedAsync(id);
        var again = await f.Engine.MarkAbandonedAsync(id);
        var batch = await f.Recorder.GetBatchAsync(id);
        var resumed = await f.ImportAsync([file], id);

        Assert.True(marked);
        Assert.False(again);
        Assert.Equal(BatchStatus.Error, batch.Status);
        Assert.Contains("ERROR The process running this batch stopped", batch.Log, StringComparison.Ordinal);
        Assert.Equal(BatchStatus.Finished, resumed.Status);
        Assert.Equal(10, resumed.InsertCount);
    }

    [SkippableFact]
    public async Task A_running_batch_is_not_marked_abandoned()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/slow.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(3000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(20), ChunkSize = 8192 });
        var id = Guid.NewGuid();
        var run = f.ImportAsync([server.Url("/slow.csv").ToString()], id);
        await PostgresFaultTests.WaitUntilAsync(async () => (await f.Recorder.TryGetBatchAsync(id))?.Status == BatchStatus.Started);

        Assert.False(await f.Engine.MarkAbandonedAsync(id));
        Assert.Equal(BatchStatus.Finished, (await run).Status);
    }

    [SkippableFact]
    public async Task Two_processes_never_run_the_same_batch_at_once()
    {
        // No wait for the lease: the first run is live, and a second is refused at once.
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { LeaseWait = TimeSpan.Zero });
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/slow.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(3000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(20), ChunkSize = 8192 });
        var id = Guid.NewGuid();
        var first = f.ImportAsync([server.Url("/slow.csv").ToString()], id);
        await PostgresFaultTests.WaitUntilAsync(async () => (await f.Recorder.TryGetBatchAsync(id))?.Status == BatchStatus.Started);

        await Assert.ThrowsAsync<BatchAlreadyRunningException>(() => f.ImportAsync([server.Url("/slow.csv").ToString()], id));
        var result = await first;

        Assert.Equal(3000, result.InsertCount);
        Assert.Equal(3000, await f.ScalarAsync("SELECT count(*) FROM plants"));
    }

    internal static Process Start(string cli, string[] args)
    {
        var process = Process.Start(Infrastructure.RealProcess.StartInfo(cli, args))!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
