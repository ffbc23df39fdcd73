using System.Text;
using Ingest.Core.Tests.Copy;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Status;
using Xunit.Abstractions;

namespace Ingest.Core.Tests.Engine;

/// <summary>
/// Real <c>ingest</c> processes straight after a <c>kill -9</c> of an import, while the dead run's session still holds
/// the batch's lease (the server has not noticed yet): a rerun waits for it (<c>--lease-wait</c>) and resumes, and
/// <c>ingest abort</c> reports the batch aborted instead of waiting on a run that is gone. The server "not noticing" is
/// made certain by stopping (SIGSTOP) the backend of the lease's session before the kill, and letting it go on
/// (SIGCONT) a moment later: it then reads the end of its dead client's connection and ends, as it would have at once.
/// </summary>
public sealed class KilledRunCliTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task A_rerun_straight_after_kill_9_waits_for_the_dead_runs_lease_saying_so_on_stderr_and_resumes()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        var (id, args) = Import(f, server);
        string[] rerun = [.. args, "--lease-wait", "30"];

        var backend = await KillHoldingTheLeaseAsync(f, id, args);
        try
        {
            using var second = RealProcess.Start(BuiltApp.Cli, rerun);
            Assert.True(
                await second.WaitForErrorLineAsync(l => l.Contains($"WARN Batch {id} is held by another process: waiting up to 30 s", StringComparison.Ordinal), TimeSpan.FromSeconds(60)),
                $"the rerun did not say it waits: {string.Join('\n', second.Error)}");
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.False(second.HasExited, "the rerun gave up while the lease was held");

            await RealProcess.SignalAsync(backend, "CONT");
            backend = 0;
            Assert.True(await second.WaitForExitAsync(TimeSpan.FromMinutes(1)), "the rerun never ended");
            output.WriteLine(string.Join('\n', second.Error));
            Assert.Equal(0, second.ExitCode);
        }
        finally
        {
            await ResumeAsync(backend);
        }

        await f.AssertFinishedWithEachRowOnceAsync(id, 7000, files: 2);
        var timeline = await f.Recorder.GetTimelineAsync(id);
        Assert.Contains("INFO Resuming batch job: 1 of 2 files already loaded, 1 to load", timeline[0].Log, StringComparison.Ordinal);
        Assert.Matches(@"WARN Waited \d+\.\d s for the batch's lease: the run before this one had stopped", timeline[0].Log);
    }

    [SkippableFact]
    public async Task Ingest_abort_straight_after_kill_9_reports_the_batch_aborted_not_running()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        var (id, args) = Import(f, server);

        var backend = await KillHoldingTheLeaseAsync(f, id, args);
        try
        {
            using var abort = RealProcess.Start(BuiltApp.Cli, ["abort", id.ToString(), "--connection", f.ConnectionString]);
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.False(abort.HasExited, $"the abort did not wait for the held lease: {string.Join('\n', abort.Error)}");

            await RealProcess.SignalAsync(backend, "CONT");
            backend = 0;
            Assert.True(await abort.WaitForExitAsync(TimeSpan.FromMinutes(1)), "the abort never ended");
            output.WriteLine(string.Join('\n', abort.Error));
            Assert.Equal(0, abort.ExitCode);
            Assert.Contains(abort.Error, l => l.Contains($"Batch {id} is aborted; files in flight roll back", StringComparison.Ordinal));
            Assert.DoesNotContain(abort.Error, l => l.Contains("waiting for the process running it", StringComparison.Ordinal));
        }
        finally
        {
            await ResumeAsync(backend);
        }

        var batch = await f.Recorder.GetBatchAsync(id);
        Assert.Equal(BatchStatus.Aborted, batch.Status);
        Assert.Equal(1000, batch.InsertCount);
        Assert.Contains("no process was running it", batch.Log, StringComparison.Ordinal);
        Assert.Equal(1000, await f.ScalarAsync("SELECT count(*) FROM plants"));
    }

    /// <summary>An import of a small local file and a slow one over HTTP, on one stream.</summary>
    private static (Guid Id, string[] Args) Import(EngineFixture f, LoopbackHttpServer server)
    {
        var done = f.WriteFile("done.csv", EngineFixture.Rows(1000));
        server.AddFile("/slow.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(6000, 10_000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(100), ChunkSize = 8192 });
        var id = Guid.NewGuid();
        return (id, ["import", "--dataset", "plants", "--schema", RowEncoderTests.Plants, "--format", RowEncoderTests.PlantsFormat, "--streams", "1", "--batch-id", id.ToString(), "--connection", f.ConnectionString, done, server.Url("/slow.csv").ToString()]);
    }

    /// <summary>
    /// Runs the import until its first file is loaded and the second in flight, stops the backend of its lease's session,
    /// and kills it with SIGKILL. Returns the stopped backend's pid: the caller lets it go on (SIGCONT).
    /// </summary>
    private static async Task<long> KillHoldingTheLeaseAsync(EngineFixture f, Guid id, string[] args)
    {
        using var first = RealProcess.Start(BuiltApp.Cli, args);
        await PostgresFaultTests.WaitUntilAsync(async () =>
            await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}' AND state = 'loaded'") == 1
            && await f.ScalarAsync("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE 'COPY %'") == 1);
        var backend = await f.ScalarAsync($"SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = 7355609 AND objid = hashtext('{id}')::oid AND objsubid = 2 AND granted");
        await RealProcess.SignalAsync(backend, "STOP");
        await first.KillAsync();
        Assert.Equal(1000, await f.ScalarAsync("SELECT count(*) FROM plants"));
        return backend;
    }

    private static async Task ResumeAsync(long backend)
    {
        if (backend != 0)
        {
            await RealProcess.SignalAsync(backend, "CONT");
        }
    }
}
