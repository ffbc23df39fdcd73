using System.Text;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Status;
using Xunit.Abstractions;

namespace Ingest.Core.Tests.Engine;

/// <summary>
/// Three real <c>ingest worker</c> processes sharing a batch, each killed with SIGKILL three times while it holds a
/// claim and restarted at once: every claim of a killed worker is taken over through its liveness lock (the log says
/// so, and says its process was gone, not that its lease ran out), and the batch ends <c>finished</c> with the table
/// equal to its files, column for column. The moments come from a seeded <see cref="Random"/> whose seed is printed.
/// </summary>
public sealed class QueueCrashLoopTests(ITestOutputHelper output)
{
    private const int Files = 9;
    private const int RowsPerFile = 111_112;
    private const int Workers = 3;
    private const int KillsPerWorker = 3;

    [SkippableFact]
    public async Task Three_queue_workers_each_killed_three_times_holding_a_claim_and_restarted_at_once_load_a_batch_with_each_row_once()
    {
        var cli = BuiltApp.Cli;
        var seed = CrashLoopTests.Seed();
        output.WriteLine($"seed {seed} (INGEST_CRASH_SEED={seed} replays these moments)");
        var random = new Random(seed);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        var urls = new List<string>();
        var texts = PlantRows.CsvFiles(Files, RowsPerFile);
        for (var i = 0; i < Files; i++)
        {
            // Paced bodies (about 3 s a file): a worker is killed mid-file, whatever the machine's speed.
            server.AddFile($"/q{i}.csv", Encoding.UTF8.GetBytes(texts[i]), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(60), ChunkSize = 256 * 1024 });
            urls.Add(server.Url($"/q{i}.csv").ToString());
        }

        var id = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, urls));
        output.WriteLine($"files and batch ready at {clock.Elapsed.TotalSeconds:0.0} s");

        // A short lease (not the 300 s that would hide a failed takeover as a hang): a claim the liveness lock failed to
        // free at once would still be taken when its lease runs out, and the takeover line would say so. Long enough that
        // a live worker starved of CPU on a busy machine does not miss its renewals (every third of it).
        string[] args = ["worker", "--connection", f.ConnectionString, "--streams", "1", "--lease-seconds", "20"];
        var workers = Enumerable.Range(0, Workers).Select(_ => RealProcess.Start(cli, args)).ToArray();
        var expected = PlantRows.CreateExpectedAsync(f, Files * RowsPerFile); // While the workers start.
        var kills = new List<(string Victim, string File)>();
        try
        {
            for (var round = 0; round < KillsPerWorker; round++)
            {
                foreach (var slot in Enumerable.Range(0, Workers).OrderBy(_ => random.Next()))
                {
                    var victim = NameOf(workers[slot]);
                    await ClaimOfAsync(f, id, victim, workers[slot]);
                    var delay = random.Next(0, 1500);
                    await Task.Delay(delay);

                    // It may be between two files now: kill it only while it holds one.
                    var file = await ClaimOfAsync(f, id, victim, workers[slot]);
                    await workers[slot].KillAsync();
                    kills.Add((victim, file));
                    output.WriteLine($"round {round + 1}: killed worker {slot} ({victim}) {delay} ms after its claim, holding {file}; {await CrashLoopTests.LoadedAsync(f, id)} of {Files} files loaded ({clock.Elapsed.TotalSeconds:0.0} s)");
                    workers[slot].Dispose();
                    workers[slot] = RealProcess.Start(cli, args);
                }
            }

            // Bounded: with 20 s leases, even takeovers that waited for leases would have ended the batch long before.
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!(await f.Recorder.GetBatchAsync(id)).Status.IsTerminal())
            {
                Assert.True(DateTime.UtcNow < deadline, $"the batch did not end within 2 minutes of the last kill; workers said:\n{string.Join('\n', workers.SelectMany(w => w.Error.TakeLast(5)))}");
                await Task.Delay(100);
            }
        }
        finally
        {
            output.WriteLine($"the batch ended at {clock.Elapsed.TotalSeconds:0.0} s");
            foreach (var worker in workers)
            {
                worker.Dispose();
            }
        }

        var batch = await f.Recorder.GetBatchAsync(id);
        Assert.Equal(BatchStatus.Finished, batch.Status);
        Assert.Equal(Files * RowsPerFile, batch.InsertCount);
        Assert.Equal(0, batch.InvalidCount);
        await expected;
        await PlantRows.AssertTableEqualsExpectedAsync(f);
        Assert.Equal(Files, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}' AND state = 'loaded'"));
        Assert.Equal(Files, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}'"));
        Assert.Equal(Files, await f.ScalarAsync($"SELECT count(*) FROM ingest.work_file WHERE batch_id = '{id}' AND state = 'done'"));

        // The timeline: one start, one end, nothing else final on the way; the shared log tells each takeover.
        var timeline = await f.Recorder.GetTimelineAsync(id);
        Assert.Equal(BatchStatus.Finished, timeline[0].Status);
        Assert.Single(timeline, r => r.Status == BatchStatus.Finished);
        Assert.DoesNotContain(timeline, r => r.Status is BatchStatus.Error or BatchStatus.Aborted);
        var log = batch.Log!;
        Assert.Equal(1, CrashLoopTests.CountOf(log, "Starting batch job"));
        Assert.Equal(1, CrashLoopTests.CountOf(log, $"Finished batch job. Inserted: {Files * RowsPerFile}, Invalid: 0"));
        var takeovers = log.Split('\n').Where(l => l.Contains(" Taking over ", StringComparison.Ordinal)).ToList();
        foreach (var line in takeovers)
        {
            output.WriteLine(line);
        }

        // Each kill's file was taken over from its worker, or had committed as it died (its claim then ended done, by it).
        var taken = 0;
        foreach (var (victim, file) in kills)
        {
            var committedAsItDied = await f.ScalarAsync($"SELECT count(*) FROM ingest.work_file WHERE batch_id = '{id}' AND file_key = '{file}' AND state = 'done' AND worker = '{victim}'") == 1;
            var takenOver = takeovers.Any(l => l.Contains($"Taking over {file} from worker {victim}, whose lease ran out early: its process is gone", StringComparison.Ordinal));
            Assert.True(takenOver || committedAsItDied, $"{file}, held by the killed worker {victim}, was neither taken over from it nor committed by it");
            taken += takenOver ? 1 : 0;
        }

        Assert.All(takeovers, l => Assert.Contains("whose lease ran out early: its process is gone", l, StringComparison.Ordinal));
        Assert.True(taken >= kills.Count - 2, $"only {taken} of {kills.Count} kills led to a takeover");
    }

    /// <summary>The name a CLI worker gives itself: host and process id.</summary>
    private static string NameOf(RealProcess worker) => $"{Environment.MachineName}:{worker.Id}";

    /// <summary>
    /// Waits (bounded) until the worker holds a claim and has started loading it (its <c>Fetching url</c> line, which
    /// comes after any takeover line of its own), and returns the file.
    /// </summary>
    private static async Task<string> ClaimOfAsync(EngineFixture f, Guid id, string worker, RealProcess process)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(process.HasExited, $"worker {worker} exited: {string.Join('\n', process.Error)}");
            var claimed = await f.RowsAsync($"SELECT file_key FROM ingest.work_file WHERE state = 'claimed' AND worker = '{worker}'");
            if (claimed.Count > 0 && (await f.Recorder.GetBatchAsync(id)).Log?.Contains($"[{worker}] Fetching url {claimed[0]}", StringComparison.Ordinal) == true)
            {
                return claimed[0];
            }

            await Task.Delay(5);
        }

        Assert.Fail($"worker {worker} never held a claim within a minute");
        return null!;
    }
}
