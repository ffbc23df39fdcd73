using Ingest.Core.Tests.Copy;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Status;
using Npgsql;
using Xunit.Abstractions;

namespace Ingest.Core.Tests.Engine;

/// <summary>
/// <c>ingest import</c> killed with SIGKILL at random moments of named phases and restarted at once, as a supervisor
/// does (<c>Restart=always</c>, a Kubernetes Job, a shell loop): the batch ends <c>finished</c> with the table equal to
/// its files, column for column, one ledger row per file, and a timeline that tells each resume. The moments come from
/// a seeded <see cref="Random"/> whose seed is printed; <c>INGEST_CRASH_SEED</c> replays them. The queue workers' loop:
/// <see cref="QueueCrashLoopTests"/>.
/// </summary>
public sealed class CrashLoopTests(ITestOutputHelper output)
{
    // Enough files that work remains for every phase: a kill lets at most the two files in flight complete.
    private const int Files = 12;
    private const int RowsPerFile = 84_000;

    private enum Phase
    {
        BeforeFirstCommit,
        MidCopy,
        BetweenCopyAndCommit,
        WhileRecordingFinished,
    }

    [SkippableFact]
    public async Task An_import_killed_at_ten_moments_and_restarted_at_once_ends_finished_with_each_row_once()
    {
        var cli = BuiltApp.Cli;
        var seed = Seed();
        output.WriteLine($"seed {seed} (INGEST_CRASH_SEED={seed} replays these moments)");
        var random = new Random(seed);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using var f = await EngineFixture.CreateAsync();
        await WidenCommitsAsync(f);
        var paths = PlantRows.CsvFiles(Files, RowsPerFile).Select((text, i) => f.WriteFile($"crash-{i}.csv", text)).ToArray();
        await f.Recorder.EnsureSchemaAsync();
        var expected = PlantRows.CreateExpectedAsync(f, Files * RowsPerFile); // While the runs start and die.
        output.WriteLine($"files ready at {clock.Elapsed.TotalSeconds:0.0} s");
        var id = Guid.NewGuid();
        string[] args = ["import", "--dataset", "plants", "--schema", RowEncoderTests.Plants, "--format", RowEncoderTests.PlantsFormat, "--streams", "2", "--batch-id", id.ToString(), "--connection", f.ConnectionString, .. paths];

        // Nine kills in the loading phases, three of each, in a random order; the last while the run records 'finished'.
        Phase[] phases = [.. new[] { Phase.BeforeFirstCommit, Phase.MidCopy, Phase.BetweenCopyAndCommit }.SelectMany(p => Enumerable.Repeat(p, 3)).OrderBy(_ => random.Next()), Phase.WhileRecordingFinished];
        foreach (var phase in phases)
        {
            // No pause between a kill and the next start: the dead run's sessions may still hold the batch.
            using var process = RealProcess.Start(cli, args);
            var moment = await KillInAsync(f, id, process, phase, random);
            output.WriteLine($"{phase}: {moment}; {await LoadedAsync(f, id)} of {Files} files loaded ({clock.Elapsed.TotalSeconds:0.0} s)");
        }

        using (var last = RealProcess.Start(cli, args))
        {
            Assert.True(await last.WaitForExitAsync(TimeSpan.FromMinutes(3)), "the last run never ended");
            Assert.True(last.ExitCode == 0, string.Join('\n', last.Error));
        }

        output.WriteLine($"the last run finished the batch at {clock.Elapsed.TotalSeconds:0.0} s");
        await expected;
        await PlantRows.AssertTableEqualsExpectedAsync(f);
        output.WriteLine($"compared at {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal(Files, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}' AND state = 'loaded'"));
        Assert.Equal(Files, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}'"));
        var timeline = await f.Recorder.GetTimelineAsync(id);
        Assert.Equal(BatchStatus.Finished, timeline[0].Status);
        Assert.Equal(Files * RowsPerFile, timeline[0].InsertCount);
        Assert.DoesNotContain(timeline, r => r.Status is BatchStatus.Error or BatchStatus.Aborted);

        // Every restart resumed, and said so. The last kill lands while a run records 'finished': that statement may
        // still complete on the server after its process died (then the next run finds nothing to resume), or be
        // refused as a write of an older run once the next one has started (then the next run records the end).
        Assert.Equal(1, CountOf(timeline[0].Log!, "INFO Starting batch job"));
        Assert.InRange(CountOf(timeline[0].Log!, "INFO Resuming batch job: "), phases.Length - 1, phases.Length);
    }

    /// <summary>The seed of this run's moments: <c>INGEST_CRASH_SEED</c> when set (to replay a failure), else a new one.</summary>
    internal static int Seed() =>
        int.TryParse(Environment.GetEnvironmentVariable("INGEST_CRASH_SEED"), out var seed) ? seed : Random.Shared.Next();

    /// <summary>Waits for a random moment of <paramref name="phase"/> of this run, kills it there, and says what it hit.</summary>
    private static async Task<string> KillInAsync(EngineFixture f, Guid id, RealProcess process, Phase phase, Random random)
    {
        var records = await RecordsAsync(f, id);
        NpgsqlTransaction? hold = null;
        await using var holder = new NpgsqlConnection(f.ConnectionString);
        // Not pooled: the gate's session lock must end with this connection, not live on in a pool.
        await using var gate = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(f.ConnectionString) { Pooling = false }.ConnectionString);
        if (phase is Phase.BeforeFirstCommit or Phase.BetweenCopyAndCommit)
        {
            // No COMMIT of a file completes while the gate is shut (see WidenCommitsAsync): the kill lands before the
            // run's first one, or while one waits between its COPY's end and the end of its COMMIT.
            await gate.OpenAsync();
            await using var shut = new NpgsqlCommand($"SELECT pg_advisory_lock({CommitGate})", gate);
            await shut.ExecuteScalarAsync();
        }

        try
        {
            // Every phase comes after this run's 'started' record, which carries its 'Resuming' line.
            await UntilAsync(process, phase, async () => await RecordsAsync(f, id) > records);
            var loadedAtStart = await LoadedAsync(f, id);
            int delay;
            long seen = 0;
            switch (phase)
            {
                case Phase.BeforeFirstCommit:
                    delay = random.Next(0, 300);
                    await Task.Delay(delay);
                    break;
                case Phase.MidCopy:
                    // A random row of a COPY in flight, counted by the server: a moment inside a file however busy the
                    // machine is (a wall-clock delay let a loaded machine's run finish its last files first).
                    delay = random.Next(1, RowsPerFile * 9 / 10);
                    await UntilAsync(process, phase, async () => (seen = await CopiedAsync(f)) >= delay);
                    break;
                case Phase.BetweenCopyAndCommit:
                    // A file's COPY has ended and its COMMIT waits at the gate: a random moment in there. The server
                    // completes that COMMIT once the gate opens after the kill; the client never hears of it.
                    await UntilAsync(process, phase, async () => await f.ScalarAsync(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'COMMIT' AND wait_event_type = 'Lock' AND wait_event = 'advisory'") > 0);
                    delay = random.Next(0, 200);
                    await Task.Delay(delay);
                    break;
                default:
                    // Hold the batch's row: with every file loaded, the run blocks writing 'finished', and dies there.
                    await holder.OpenAsync();
                    hold = await holder.BeginTransactionAsync();
                    await using (var lockRow = new NpgsqlCommand($"SELECT 1 FROM ingest.import_batch WHERE id = '{id}' FOR UPDATE", holder, hold))
                    {
                        await lockRow.ExecuteScalarAsync();
                    }

                    await UntilAsync(process, phase, async () => await LoadedAsync(f, id) == Files
                        && await f.ScalarAsync("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%import_batch%'") > 0);
                    delay = random.Next(0, 200);
                    await Task.Delay(delay);
                    break;
            }

            Assert.False(process.HasExited, $"the run ended before the moment {phase} came: {string.Join('\n', process.Error)}");
            await process.KillAsync();
            if (phase == Phase.BeforeFirstCommit)
            {
                Assert.Equal(loadedAtStart, await LoadedAsync(f, id));
            }

            return phase == Phase.MidCopy ? $"killed with {seen} rows of a COPY in (aimed at {delay})" : $"killed {delay} ms in";
        }
        finally
        {
            if (hold is not null)
            {
                await hold.RollbackAsync();
            }
        }
    }

    /// <summary>The most rows any COPY in flight has taken in so far (0 when none runs).</summary>
    private static Task<long> CopiedAsync(EngineFixture f) =>
        f.ScalarAsync("SELECT coalesce(max(tuples_processed), 0) FROM pg_stat_progress_copy WHERE datname = current_database() AND command = 'COPY FROM'");

    /// <summary>Polls <paramref name="condition"/> every few milliseconds while the process runs; fails when it exits first or a minute passes.</summary>
    private static async Task UntilAsync(RealProcess process, Phase phase, Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!process.HasExited && DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(2);
        }

        Assert.Fail($"The run {(process.HasExited ? $"exited ({process.ExitCode})" : "ran a minute")} before the moment {phase} came: {string.Join('\n', process.Error)}");
    }

    // 'started' records: each run writes one as its streams start, after 'created' (the first run) and its 'Resuming' line.
    private static Task<long> RecordsAsync(EngineFixture f, Guid id) => f.ScalarAsync($"SELECT count(*) FROM ingest.import_batch_status WHERE batch_id = '{id}' AND status = 'started'");

    internal static Task<long> LoadedAsync(EngineFixture f, Guid id) => f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}' AND state = 'loaded'");

    /// <summary>The advisory lock a file's COMMIT waits for (see <see cref="WidenCommitsAsync"/>).</summary>
    private const int CommitGate = 7355699;

    // A file's COMMIT passes a gate (a deferred trigger on its ledger row takes a shared advisory lock at commit time)
    // that the test shuts by holding the lock: a kill then lands while a COMMIT is in flight, and the server completes
    // it once the gate opens though the client never hears the answer. An open gate costs a COMMIT nothing measurable.
    private static async Task WidenCommitsAsync(EngineFixture f)
    {
        await Ingest.Engine.Loading.FileLedger.EnsureAsync(f.DataSource, CancellationToken.None);
        await f.ScalarAsync($"""
            CREATE FUNCTION commit_gate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_xact_lock_shared({CommitGate}); RETURN NULL; END $$;
            CREATE CONSTRAINT TRIGGER commit_gate AFTER UPDATE ON ingest.import_file DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION commit_gate();
            SELECT 1
            """);
    }

    internal static int CountOf(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
