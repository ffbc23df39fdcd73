using System.Diagnostics;
using System.Text;
using Ingest.Cli;
using Ingest.Core.Tests.Copy;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Status;
using Xunit.Abstractions;

namespace Ingest.Core.Tests.Engine;

/// <summary>SIGTERM (a service manager) and Ctrl+C (SIGINT) stop <c>ingest import</c> at once and leave the batch to resume.</summary>
public sealed class InterruptTests(ITestOutputHelper output)
{
    [SkippableTheory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task A_signal_rolls_back_files_in_flight_leaves_the_batch_resumable_and_the_next_run_resumes_at_once(string signal)
    {
        var cli = BuiltApp.Cli;
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        var done = f.WriteFile("done.csv", EngineFixture.Rows(1000));
        server.AddFile("/slow.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(20_000, 10_000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(50), ChunkSize = 32 * 1024 });
        var id = Guid.NewGuid();
        string[] args = ["import", "--dataset", "plants", "--schema", RowEncoderTests.Plants, "--format", RowEncoderTests.PlantsFormat, "--streams", "2", "--batch-id", id.ToString(), "--connection", f.ConnectionString, done, server.Url("/slow.csv").ToString()];

        TimeSpan stopped;
        int exitCode;
        using (var process = CrashResumeTests.Start(cli, args))
        {
            await PostgresFaultTests.WaitUntilAsync(async () => (await f.Recorder.TryGetBatchAsync(id))?.InsertCount > 1000);
            var signalled = Stopwatch.StartNew();
            using (var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            // A bound against a hang, not a speed check: the promise is 2 s, measured in the output.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await process.WaitForExitAsync(timeout.Token);
            stopped = signalled.Elapsed;
            exitCode = process.ExitCode;
        }

        output.WriteLine($"SIG{signal}: the process exited {stopped.TotalMilliseconds:0} ms after the signal");
        var interrupted = await f.Recorder.GetTimelineAsync(id);
        Assert.Equal(1, exitCode);
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
}
