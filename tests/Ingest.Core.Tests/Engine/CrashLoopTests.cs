using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ingest.Core.Tests.Copy;
using Ingest.Status;
using Npgsql;
using NpgsqlTypes;
using Xunit.Abstractions;

namespace Ingest.Core.Tests.Engine;

/// <summary>
/// Real processes killed with SIGKILL at chosen moments and restarted at once, as a supervisor does
/// (<c>Restart=always</c>, a Kubernetes Job, a shell loop): the batch ends <c>finished</c> with every row of its files
/// exactly once and one ledger row per file, whatever the moment.
/// </summary>
public sealed class CrashLoopTests(ITestOutputHelper output)
{
    private const int Files = 8;
    private const int RowsPerFile = 125_000;

    private enum Moment
    {
        BeforeFirstCommit,
        MidCopy,
        DuringCommit,
        Random,
        WhileRecordingFinished,
    }

    [SkippableFact]
    public async Task An_import_killed_at_ten_moments_and_restarted_at_once_ends_finished_with_each_row_once()
    {
        var cli = CrashResumeTests.FindCli();
        Skip.If(cli is null, "The ingest CLI is not built next to the tests (build Ingest.sln first).");
        await using var f = await EngineFixture.CreateAsync();
        await WidenCommitsAsync(f);
        var paths = await WriteFilesAsync(f);
        await f.Recorder.EnsureSchemaAsync();
        var id = Guid.NewGuid();
        string[] args = ["import", "--dataset", "plants", "--schema", RowEncoderTests.Plants, "--format", RowEncoderTests.PlantsFormat, "--streams", "2", "--batch-id", id.ToString(), "--connection", f.ConnectionString, .. paths];
        Moment[] moments = [Moment.BeforeFirstCommit, Moment.MidCopy, Moment.DuringCommit, Moment.MidCopy, Moment.BeforeFirstCommit, Moment.DuringCommit, Moment.MidCopy, Moment.Random, Moment.MidCopy, Moment.WhileRecordingFinished];
        var random = new Random(20261204);

        foreach (var moment in moments)
        {
            // No pause between a kill and the next start: the dead run's sessions may still hold the batch.
            using var process = CrashResumeTests.Start(cli!, args);
            var killed = await KillAtAsync(f, id, process, moment, random);
            output.WriteLine($"{moment}: {(killed ? "killed" : "exited before the moment came")}; {await LoadedAsync(f, id)} of {Files} files loaded");
            Assert.True(killed, $"the run ended before the moment {moment} came");
        }

        using (var last = CrashResumeTests.Start(cli!, args))
        {
            await last.WaitForExitAsync();
            Assert.Equal(0, last.ExitCode);
        }

        await AssertExactlyOnceAsync(f, id);
        var timeline = await f.Recorder.GetTimelineAsync(id);
        Assert.Equal(BatchStatus.Finished, timeline[0].Status);
        Assert.Equal(Files * RowsPerFile, timeline[0].InsertCount);

        // Every restart resumed, and said so. The last kill lands while a run records 'finished': that statement may
        // still complete on the server after its process died (then the next run finds nothing to resume), or be
        // refused as a write of an older run once the next one has started (then the next run records the end).
        Assert.InRange(CountOf(timeline[0].Log!, "INFO Resuming batch job: "), moments.Length - 1, moments.Length);
    }

    [SkippableFact]
    public async Task Three_queue_workers_each_killed_and_restarted_at_random_load_a_batch_with_each_row_once()
    {
        var cli = CrashResumeTests.FindCli();
        Skip.If(cli is null, "The ingest CLI is not built next to the tests (build Ingest.sln first).");
        await using var f = await EngineFixture.CreateAsync();
        await WidenCommitsAsync(f);
        var paths = await WriteFilesAsync(f);
        var id = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, paths));

        // A long lease: a dead worker's files go to the others at once through its liveness, not when its lease runs out.
        string[] args = ["worker", "--connection", f.ConnectionString, "--streams", "1", "--lease-seconds", "300"];
        var workers = Enumerable.Range(0, 3).Select(_ => CrashResumeTests.Start(cli!, args)).ToArray();
        var random = new Random(4);
        try
        {
            for (var kill = 0; kill < 10; kill++)
            {
                await Task.Delay(random.Next(50, 500));
                var victim = random.Next(workers.Length);
                workers[victim].Kill(entireProcessTree: true);
                await workers[victim].WaitForExitAsync();
                workers[victim].Dispose();
                workers[victim] = CrashResumeTests.Start(cli!, args);
                output.WriteLine($"kill {kill + 1}: worker {victim}; {await LoadedAsync(f, id)} of {Files} files loaded");
            }

            await PostgresFaultTests.WaitUntilAsync(async () => (await f.Recorder.GetBatchAsync(id)).Status.IsTerminal());
        }
        finally
        {
            foreach (var worker in workers)
            {
                if (!worker.HasExited)
                {
                    worker.Kill(entireProcessTree: true);
                }

                worker.Dispose();
            }
        }

        await AssertExactlyOnceAsync(f, id);
        var batch = await f.Recorder.GetBatchAsync(id);
        Assert.Equal(BatchStatus.Finished, batch.Status);
        Assert.Equal(Files * RowsPerFile, batch.InsertCount);
    }

    /// <summary>Waits for <paramref name="moment"/> of the run, then kills it; false when it ended first.</summary>
    private static async Task<bool> KillAtAsync(EngineFixture f, Guid id, Process process, Moment moment, Random random)
    {
        var records = await RecordsAsync(f, id);
        NpgsqlTransaction? hold = null;
        await using var holder = new NpgsqlConnection(f.ConnectionString);
        try
        {
            // Every moment comes after this run's 'started' record, which carries its 'Resuming' line.
            if (!await UntilAsync(process, async () => await RecordsAsync(f, id) > records))
            {
                return false;
            }

            // Counted once the run has read the ledger: a COMMIT the last kill cut short has landed by then, or is the run's to settle.
            var loadedAtStart = await LoadedAsync(f, id);
            bool reached;
            switch (moment)
            {
                case Moment.BeforeFirstCommit:
                    reached = true;
                    break;
                case Moment.MidCopy:
                    reached = await UntilAsync(process, async () => await f.ScalarAsync("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE 'COPY %'") > 0
                        && await LoadedAsync(f, id) == loadedAtStart);
                    break;
                case Moment.DuringCommit:
                    // A file's COMMIT in flight (held 50 ms by the slow_commit trigger): the server completes it after the kill.
                    reached = await UntilAsync(process, async () => await f.ScalarAsync(
                        "SELECT count(*) FROM pg_stat_activity a WHERE a.datname = current_database() AND a.state = 'active' AND a.query = 'COMMIT' AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.relation = 'plants'::regclass)") > 0);
                    break;
                case Moment.Random:
                    await Task.Delay(random.Next(20, 300));
                    reached = !process.HasExited;
                    break;
                default:
                    // Hold the batch's row: with every file loaded, the run blocks writing 'finished', and dies there.
                    await holder.OpenAsync();
                    hold = await holder.BeginTransactionAsync();
                    await using (var lockRow = new NpgsqlCommand($"SELECT 1 FROM ingest.import_batch WHERE id = '{id}' FOR UPDATE", holder, hold))
                    {
                        await lockRow.ExecuteScalarAsync();
                    }

                    reached = await UntilAsync(process, async () => await LoadedAsync(f, id) == Files
                        && await f.ScalarAsync("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%import_batch%'") > 0);
                    break;
            }

            if (!reached || process.HasExited)
            {
                return false;
            }

            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return true;
        }
        finally
        {
            if (hold is not null)
            {
                await hold.RollbackAsync();
            }
        }
    }

    /// <summary>Polls <paramref name="condition"/> every few milliseconds while the process runs; false when it exited first.</summary>
    private static async Task<bool> UntilAsync(Process process, Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!process.HasExited && DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(2);
        }

        return false;
    }

    private static Task<long> RecordsAsync(EngineFixture f, Guid id) => f.ScalarAsync($"SELECT count(*) FROM ingest.import_batch_status WHERE batch_id = '{id}'");

    private static Task<long> LoadedAsync(EngineFixture f, Guid id) => f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}' AND state = 'loaded'");

    // A file's COMMIT takes 50 ms more (a deferred trigger on its ledger row sleeps at commit time), so a kill can land
    // while one is in flight: the server then completes it though the client never hears the answer.
    private static async Task WidenCommitsAsync(EngineFixture f)
    {
        await Ingest.Engine.Loading.FileLedger.EnsureAsync(f.DataSource, CancellationToken.None);
        await f.ScalarAsync("""
            CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.05); RETURN NULL; END $$;
            CREATE CONSTRAINT TRIGGER slow_commit AFTER UPDATE ON ingest.import_file DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit();
            SELECT 1
            """);
    }

    /// <summary>
    /// Writes the files (row n has entity id <see cref="EntityId"/>(n) and height n) and the table <c>expected</c> of
    /// (entity_id, height) the load must equal.
    /// </summary>
    private static async Task<string[]> WriteFilesAsync(EngineFixture f)
    {
        var paths = new string[Files];
        for (var file = 0; file < Files; file++)
        {
            var text = new StringBuilder(RowsPerFile * 120);
            for (var n = file * RowsPerFile; n < (file + 1) * RowsPerFile; n++)
            {
                text.Append(CultureInfo.InvariantCulture, $"{EntityId(n)},{1706196472302 + n},{(n % 359) - 179}.5,{(n % 180) - 90},{n},{n},10.0.{n % 256}.1,cabbage,{-n}\n");
            }

            paths[file] = f.WriteFile($"crash-{file}.csv", text.ToString());
        }

        await f.ScalarAsync("CREATE TABLE expected (entity_id uuid NOT NULL, height bigint NOT NULL); SELECT 1");
        await using var connection = await f.DataSource.OpenConnectionAsync();
        await using (var import = await connection.BeginBinaryImportAsync("COPY expected (entity_id, height) FROM STDIN (FORMAT BINARY)"))
        {
            for (var n = 0; n < Files * RowsPerFile; n++)
            {
                await import.StartRowAsync();
                await import.WriteAsync(EntityId(n), NpgsqlDbType.Uuid);
                await import.WriteAsync((long)n, NpgsqlDbType.Bigint);
            }

            await import.CompleteAsync();
        }

        return paths;
    }

    private static Guid EntityId(int n) => new(n, 0x1b2c, 0x4d5e, [0x8f, 0x60, 0x71, 0x82, 0x93, 0xa4, 0xb5, 0xc6]);

    /// <summary>The table holds exactly the files' rows (none lost, none twice) and the ledger one row per file.</summary>
    private static async Task AssertExactlyOnceAsync(EngineFixture f, Guid id)
    {
        Assert.Equal(Files * RowsPerFile, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(0, await f.ScalarAsync("""SELECT count(*) FROM (SELECT entity_id, "plantHeight" FROM plants EXCEPT ALL SELECT entity_id, height FROM expected) extra"""));
        Assert.Equal(0, await f.ScalarAsync("""SELECT count(*) FROM (SELECT entity_id, height FROM expected EXCEPT ALL SELECT entity_id, "plantHeight" FROM plants) missing"""));
        Assert.Equal(Files, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}' AND state = 'loaded'"));
        Assert.Equal(Files, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}'"));
    }

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
