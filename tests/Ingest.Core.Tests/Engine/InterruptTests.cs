using System.Diagnostics;
using System.Text;
using Ingest.Cli;
using Ingest.Core.Tests.Copy;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Engine;
using Ingest.Status;
using Xunit.Abstractions;

namespace Ingest.Core.Tests.Engine;

/// <summary>
/// SIGTERM (a service manager), Ctrl+C (SIGINT) and SIGHUP (the terminal gone) stop <c>ingest import</c> and <c>ingest worker</c> at once and leave
/// the batch to resume. The promise is an exit within 2 s; speed is not asserted here (it is measured and printed, and
/// recorded in bench/results), only a bound of 10 s that fails on a hang, not on a slow machine.
/// </summary>
public sealed class InterruptTests(ITestOutputHelper output)
{
    private static readonly TimeSpan ExitBound = TimeSpan.FromSeconds(10);

    [SkippableTheory]
    [InlineData("TERM")]
    [InlineData("INT")]
    [InlineData("HUP")] // The terminal closed, an ssh connection dropped.
    public async Task A_signal_rolls_back_files_in_flight_leaves_the_batch_resumable_and_the_next_run_resumes_at_once(string signal)
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        var done = f.WriteFile("done.csv", EngineFixture.Rows(1000));
        server.AddFile("/slow.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(20_000, 10_000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(50), ChunkSize = 32 * 1024 });
        var id = Guid.NewGuid();
        string[] args = ["import", "--dataset", "plants", "--schema", RowEncoderTests.Plants, "--format", RowEncoderTests.PlantsFormat, "--streams", "2", "--batch-id", id.ToString(), "--connection", f.ConnectionString, "--json", done, server.Url("/slow.csv").ToString()];

        int exitCode;
        string stdout;
        using (var process = RealProcess.Start(BuiltApp.Cli, args))
        {
            await PostgresFaultTests.WaitUntilAsync(async () => (await f.Recorder.TryGetBatchAsync(id))?.InsertCount > 1000);
            exitCode = await SignalAndWaitAsync(process, signal, "ingest import");
            await PostgresFaultTests.WaitUntilAsync(() => Task.FromResult(process.Output.Contains("}")));
            stdout = string.Join('\n', process.Output);
        }

        var interrupted = await f.Recorder.GetTimelineAsync(id);
        Assert.Equal(1, exitCode);
        using (var json = System.Text.Json.JsonDocument.Parse(stdout))
        {
            // What a script reading --json needs to tell a stop it can resume from an error.
            Assert.Equal(("started", true), (json.RootElement.GetProperty("status").GetString(), json.RootElement.GetProperty("interrupted").GetBoolean()));
        }

        Assert.Equal(BatchStatus.Started, interrupted[0].Status);
        Assert.Equal(1000, interrupted[0].InsertCount);
        Assert.Contains("INFO Run interrupted: files in flight rolled back; 1 of 2 files loaded", interrupted[0].Log, StringComparison.Ordinal);
        Assert.DoesNotContain(interrupted, r => r.Status == BatchStatus.Aborted);
        Assert.Equal(1000, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.False(await f.Engine.IsRunningAsync(id));

        // Straight away, as a supervisor restarts it.
        var exit = await CliApp.RunAsync(args, new StringWriter(), new StringWriter());

        Assert.Equal(0, exit);
        Assert.Equal(21_000, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(21_000, await f.ScalarAsync("SELECT count(DISTINCT entity_id) FROM plants"));
        var timeline = await f.Recorder.GetTimelineAsync(id);
        Assert.Equal(BatchStatus.Finished, timeline[0].Status);
        Assert.Contains("Resuming batch job: 1 of 2 files already loaded, 1 to load", timeline[0].Log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task SIGTERM_stops_a_worker_at_once_its_claims_roll_back_to_the_queue_and_another_worker_finishes_the_batch()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        var done = f.WriteFile("done.csv", EngineFixture.Rows(1000));
        var slow = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            server.AddFile($"/slow{i}.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(20_000, (i + 1) * 100_000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(50), ChunkSize = 32 * 1024 });
            slow.Add(server.Url($"/slow{i}.csv").ToString());
        }

        var id = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [done, .. slow]));
        int exitCode;
        string name;
        using (var worker = RealProcess.Start(BuiltApp.Cli, ["worker", "--connection", f.ConnectionString, "--streams", "2", "--lease-seconds", "30"]))
        {
            // The small file loaded, both slow ones claimed by it and streaming rows.
            name = $"{Environment.MachineName}:{worker.Id}";
            await PostgresFaultTests.WaitUntilAsync(async () =>
                await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}' AND state = 'loaded'") == 1
                && await f.ScalarAsync($"SELECT count(*) FROM ingest.work_file WHERE batch_id = '{id}' AND state = 'claimed' AND worker = '{name}'") == 2
                && await f.ScalarAsync("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE 'COPY %'") == 2);
            exitCode = await SignalAndWaitAsync(worker, "TERM", "ingest worker");
            Assert.Contains(worker.Error, l => l.Contains($"Worker {name} stopped.", StringComparison.Ordinal));
        }

        // Its claims went back to the queue, their rows rolled back, and the batch is left to the other workers.
        Assert.Equal(0, exitCode);
        Assert.Equal(2, await f.ScalarAsync($"SELECT count(*) FROM ingest.work_file WHERE batch_id = '{id}' AND state = 'pending' AND worker IS NULL"));
        Assert.Equal(1000, await f.ScalarAsync("SELECT count(*) FROM plants"));
        var stopped = await f.Recorder.GetBatchAsync(id);
        Assert.Equal(BatchStatus.Started, stopped.Status);
        var timeline = await f.Recorder.GetTimelineAsync(id);
        foreach (var url in slow)
        {
            Assert.Contains($"[{name}] Stopped loading {url}: this worker is stopping; the file rolled back and went back to the queue", stopped.Log, StringComparison.Ordinal);

            // On the timeline too ('ingest status'), not only once another worker records something.
            Assert.Contains($"[{name}] Stopped loading {url}", timeline[0].Log, StringComparison.Ordinal);
        }

        await f.Engine.RunWorkerAsync(new WorkerOptions { Name = "next", Streams = 2, ExitWhenIdle = true, PollInterval = TimeSpan.FromMilliseconds(50) });

        await f.AssertFinishedWithEachRowOnceAsync(id, 41_000, files: 3);
        Assert.DoesNotContain("Taking over", (await f.Recorder.GetBatchAsync(id)).Log, StringComparison.Ordinal); // Given back, not abandoned.
    }

    [SkippableFact]
    public async Task A_worker_yields_the_cpu_while_it_loads_and_gives_it_back_while_it_waits_for_work()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && File.Exists("/proc/self/autogroup"), "Linux autogroups only.");
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/slow.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(20_000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(50), ChunkSize = 32 * 1024 });

        // In a session of its own (RealProcess): its autogroup is its own, as a worker started from a shell shares the shell's.
        using var worker = RealProcess.Start(BuiltApp.Cli, ["worker", "--connection", f.ConnectionString, "--streams", "2"]);
        await PostgresFaultTests.WaitUntilAsync(() => Task.FromResult(worker.Error.Any(l => l.Contains("with 2 streams", StringComparison.Ordinal))));
        await Task.Delay(1500); // several empty polls
        Assert.Equal(0, AutogroupNice(worker.Id));

        var id = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [server.Url("/slow.csv").ToString()]));
        await PostgresFaultTests.WaitUntilAsync(async () => await f.ScalarAsync("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE 'COPY %'") == 1);
        Assert.Equal(CpuYielder.YieldNice, AutogroupNice(worker.Id));

        await PostgresFaultTests.WaitUntilAsync(async () => (await f.Recorder.GetBatchAsync(id)).Status == BatchStatus.Finished);
        await PostgresFaultTests.WaitUntilAsync(() => Task.FromResult(AutogroupNice(worker.Id) == 0));
        Assert.Equal(0, await SignalAndWaitAsync(worker, "TERM", "ingest worker"));
    }

    private static int AutogroupNice(int pid)
    {
        var line = File.ReadAllText($"/proc/{pid}/autogroup");
        return int.Parse(line[(line.LastIndexOf(' ') + 1)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Sends the signal and waits for the exit within the bound; prints the time it took and returns the exit code.</summary>
    private async Task<int> SignalAndWaitAsync(RealProcess process, string signal, string what)
    {
        var signalled = Stopwatch.StartNew();
        await process.SignalAsync(signal);
        var exited = await process.WaitForExitAsync(ExitBound);
        var took = signalled.Elapsed;

        // A bound against a hang, not a speed check: the promise is 2 s, and the time is printed.
        Assert.True(exited, $"{what} was still running {ExitBound.TotalSeconds:0} s after SIG{signal}: {string.Join('\n', process.Error)}");
        output.WriteLine($"SIG{signal}: {what} exited {took.TotalMilliseconds:0} ms after the signal (exit code {process.ExitCode})");
        return process.ExitCode;
    }
}
