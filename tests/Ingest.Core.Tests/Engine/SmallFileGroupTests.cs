using Ingest.Engine.Loading;
using Ingest.Status;

namespace Ingest.Core.Tests.Engine;

/// <summary>
/// Small local files load several at a time (one transaction, one COPY, one COMMIT per group), each file still with
/// its own ledger row, log lines and counts, and each wholly in the table or not at all.
/// </summary>
public sealed class SmallFileGroupTests
{
    [SkippableFact]
    public async Task Many_small_files_load_in_groups_each_file_once_with_its_own_ledger_row_and_lines()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 2 });
        var files = WriteFiles(f, count: 40, rows: 50, badRowIn: 17);

        var result = await f.ImportAsync(files);

        Assert.True(result.Status == BatchStatus.Finished, result.Log);
        Assert.Equal((40 * 50) - 1, result.InsertCount);
        Assert.Equal(1, result.InvalidCount);
        Assert.Equal(40, result.FilesLoaded);
        Assert.Equal((40 * 50) - 1, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal((40 * 50) - 1, await f.ScalarAsync("SELECT count(DISTINCT entity_id) FROM plants"));

        // One ledger row per file with the file's own counts.
        Assert.Equal(40, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{result.BatchId}' AND state = 'loaded'"));
        Assert.Equal(39, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{result.BatchId}' AND rows_inserted = 50 AND rows_invalid = 0"));
        Assert.Equal(1, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{result.BatchId}' AND file_key = '{files[17]}' AND rows_inserted = 49 AND rows_invalid = 1"));

        // Files were committed together: a transaction's files share its now(), so fewer distinct times than files.
        var commits = await f.ScalarAsync($"SELECT count(DISTINCT loaded_at) FROM ingest.import_file WHERE batch_id = '{result.BatchId}'");
        Assert.InRange(commits, 2, 39);

        // Each file is read and reported on its own, and its invalid row is named by the file and its line.
        foreach (var file in files)
        {
            Assert.Equal(1, Count(result.Log!, $"INFO Reading file {file}\n"));
        }

        Assert.Contains($"INFO Loaded {files[17]}: 49 rows inserted, 1 invalid", result.Log, StringComparison.Ordinal);
        var error = Assert.Single(result.RowErrors);
        Assert.Equal(files[17], error.FileKey);
        Assert.Equal(26, error.Line);
    }

    [SkippableFact]
    public async Task With_grouping_off_every_small_file_commits_on_its_own()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 1, GroupSmallFiles = false });
        var files = WriteFiles(f, count: 12, rows: 20, badRowIn: -1);

        var result = await f.ImportAsync(files);

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(12, await f.ScalarAsync($"SELECT count(DISTINCT loaded_at) FROM ingest.import_file WHERE batch_id = '{result.BatchId}'"));
    }

    [SkippableFact]
    public async Task A_file_error_rolls_back_its_group_only_and_a_resume_loads_each_missing_file_once()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 1 });
        var files = WriteFiles(f, count: 30, rows: 20, badRowIn: -1);
        var broken = files[21];
        var good = File.ReadAllText(broken);
        File.WriteAllText(broken, EngineFixture.Rows(3, 90_000) + "\"a quote that never closes,1,2\n");

        var failed = await f.ImportAsync(files);

        Assert.Equal(BatchStatus.Error, failed.Status);
        Assert.StartsWith($"{broken} line 4: unterminated quoted field", failed.Error, StringComparison.Ordinal);
        var kept = await f.ScalarAsync("SELECT count(*) FROM plants");
        var ledger = await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{failed.BatchId}' AND state = 'loaded'");
        Assert.Equal(kept, failed.InsertCount);
        Assert.Equal(ledger * 20, kept); // Whole files only: the broken file's group rolled back with it.
        Assert.InRange(ledger, 1, 21);
        Assert.Equal(0, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{failed.BatchId}' AND file_key = '{broken}'"));

        File.WriteAllText(broken, good);
        var resumed = await f.ImportAsync(files, failed.BatchId);

        Assert.True(resumed.Status == BatchStatus.Finished, resumed.Log);
        Assert.Equal(30 * 20, resumed.InsertCount);
        Assert.Equal(30 * 20, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(30 * 20, await f.ScalarAsync("SELECT count(DISTINCT entity_id) FROM plants"));
        Assert.Equal(30, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{failed.BatchId}' AND state = 'loaded'"));
    }

    [SkippableFact]
    public async Task A_group_whose_commit_answer_was_lost_is_settled_by_the_ledger_never_loaded_twice()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 1 });
        var files = WriteFiles(f, count: 16, rows: 10, badRowIn: -1);
        var fired = 0;

        // Right after the first group's real COMMIT, its answer is lost (as with a connection reset while reading it): the
        // retry must find every file of the group in the ledger.
        f.Engine.Hooks = new LoadHooks
        {
            AfterCommit = _ =>
            {
                if (Interlocked.Exchange(ref fired, 1) == 0)
                {
                    throw new IOException("Connection reset while reading the COMMIT answer (injected)");
                }
            },
        };

        var result = await f.ImportAsync(files);

        Assert.True(result.Status == BatchStatus.Finished, result.Log);
        Assert.Equal(1, fired);
        Assert.Equal(16 * 10, result.InsertCount);
        Assert.Equal(16 * 10, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(16, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{result.BatchId}' AND state = 'loaded'"));
        Assert.Equal(16, result.FilesLoaded);
        Assert.Contains("was committed before the connection was lost; not loading it again", result.Log, StringComparison.Ordinal);
    }

    private static List<string> WriteFiles(EngineFixture f, int count, int rows, int badRowIn)
    {
        var files = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            // In the file badRowIn, line 26 holds a longitude out of range.
            var content = i == badRowIn
                ? EngineFixture.Rows(25, i * 1000) + "00000000-0000-0000-0000-000000000001,1706196472302,181.5,0,1,1,10.0.0.1,cabbage,1\n" + EngineFixture.Rows(rows - 26, (i * 1000) + 26)
                : EngineFixture.Rows(rows, i * 1000);
            files.Add(f.WriteFile($"small-{i:D3}.csv", content));
        }

        return files;
    }

    private static int Count(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
