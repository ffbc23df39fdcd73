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

    [SkippableFact]
    public async Task Files_of_a_group_found_in_the_ledger_when_it_claims_them_are_skipped_and_the_rest_load_once()
    {
        // Another process's COMMIT of two files of the second group lands after this run read its ledger (a run killed
        // between its COPY and its COMMIT, whose COMMIT the server completes later): the group claims its files, finds
        // those two in the ledger, and loads the others only.
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 1 });
        var files = WriteFiles(f, count: 16, rows: 10, badRowIn: -1);
        var id = Guid.NewGuid();
        var fired = 0;
        f.Engine.Hooks = new LoadHooks
        {
            BeforeCommit = _ =>
            {
                if (Interlocked.Exchange(ref fired, 1) == 0)
                {
                    // A lock timeout: were the two files in the group committing now, this would wait on its claim.
                    f.ScalarAsync($"""
                        SET LOCAL lock_timeout = '10s';
                        INSERT INTO ingest.import_file (batch_id, file_key, state, rows_inserted, rows_invalid, loaded_at)
                        VALUES ('{id}', '{files[5]}', 'loaded', 10, 0, now()), ('{id}', '{files[6]}', 'loaded', 10, 0, now());
                        SELECT 1
                        """).GetAwaiter().GetResult();
                }
            },
        };

        var result = await f.ImportAsync(files, id);

        Assert.True(result.Status == BatchStatus.Finished, result.Log);
        Assert.Equal(1, fired);
        Assert.Equal(16 * 10, result.InsertCount); // The ledger's counts: the two files count once, as the other process loaded them.
        Assert.Equal(16, result.FilesLoaded);
        Assert.Equal(14 * 10, await f.ScalarAsync("SELECT count(*) FROM plants")); // Not loaded by this run.
        Assert.Equal(16, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}' AND state = 'loaded'"));
        Assert.Contains($"{files[5]} is already loaded in this batch; skipped", result.Log, StringComparison.Ordinal);
        Assert.Contains($"{files[6]} is already loaded in this batch; skipped", result.Log, StringComparison.Ordinal);
        Assert.Equal(0, Count(result.Log!, $"INFO Reading file {files[5]}\n"));
        Assert.Equal(1, Count(result.Log!, $"INFO Reading file {files[4]}\n"));
        Assert.Equal(1, Count(result.Log!, $"INFO Reading file {files[7]}\n"));
    }

    [SkippableFact]
    public async Task Each_file_of_a_group_has_a_span_of_its_own_under_the_batch_span()
    {
        var dataset = $"plants_spans_{Guid.NewGuid():N}";
        var spans = new System.Collections.Concurrent.ConcurrentQueue<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == Ingest.Diagnostics.IngestDiagnostics.ActivitySourceName,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                if ((string?)a.GetTagItem("ingest.dataset") == dataset)
                {
                    spans.Enqueue(a);
                }
            },
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 1 });
        var files = WriteFiles(f, count: 20, rows: 5, badRowIn: -1);

        var result = await f.ImportAsync(files, schema: EngineFixture.Plants(dataset));

        Assert.Equal(BatchStatus.Finished, result.Status);
        var batch = Assert.Single(spans, s => s.OperationName == Ingest.Diagnostics.IngestDiagnostics.BatchActivity);
        var fileSpans = spans.Where(s => s.OperationName == Ingest.Diagnostics.IngestDiagnostics.FileActivity).ToList();
        Assert.Equal(files.Order(), fileSpans.Select(s => (string)s.GetTagItem("ingest.file")!).Order());
        Assert.All(fileSpans, s => Assert.Equal(batch.SpanId, s.ParentSpanId));
    }

    [SkippableFact]
    public async Task The_live_counts_keep_a_group_whose_commit_answer_was_lost()
    {
        var reports = new System.Collections.Concurrent.ConcurrentQueue<long>();
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 1 });
        var files = WriteFiles(f, count: 16, rows: 10, badRowIn: -1);
        var (lost, groups, sawFirstGroup) = (0, 0, false);
        f.Engine.Hooks = new LoadHooks
        {
            AfterCommit = _ =>
            {
                if (Interlocked.Exchange(ref lost, 1) == 0)
                {
                    throw new IOException("Connection reset while reading the COMMIT answer (injected)");
                }
            },
            BeforeCommit = _ =>
            {
                // The second group, held before its COMMIT: the first group's rows (committed, though its answer was
                // lost) must be in the live counts the run reports meanwhile, not taken back.
                if (Interlocked.Increment(ref groups) == 2)
                {
                    var waited = System.Diagnostics.Stopwatch.StartNew();
                    while (!sawFirstGroup && waited.Elapsed < TimeSpan.FromSeconds(10))
                    {
                        Thread.Sleep(20);
                        sawFirstGroup = reports.Any(count => count >= 40);
                    }
                }
            },
        };

        var result = await f.Engine.ImportAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, files), new EngineFixture.CountRecording(reports));

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(160, result.InsertCount);
        Assert.True(sawFirstGroup, $"the live counts reported while the second group waited: {string.Join(", ", reports.Distinct())}");
    }

    [SkippableFact]
    public async Task A_group_the_database_refuses_is_loaded_file_by_file_and_the_error_names_the_file_at_fault()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 1 });
        Assert.Equal(BatchStatus.Finished, (await f.ImportAsync([f.WriteFile("empty.csv", string.Empty)])).Status); // makes the table
        await f.ScalarAsync("""ALTER TABLE plants ADD CONSTRAINT no_424242 CHECK ("plantHeight" <> 424242); SELECT 1""");
        var files = WriteFiles(f, count: 12, rows: 10, badRowIn: -1);
        File.WriteAllText(files[7], EngineFixture.Rows(10, 424_237)); // its sixth row has plantHeight 424242

        var result = await f.ImportAsync(files);

        Assert.Equal(BatchStatus.Error, result.Status);
        Assert.StartsWith($"{files[7]}: PostgreSQL error 23514", result.Error, StringComparison.Ordinal);
        Assert.Contains($"one by one, to tell which of them the database refuses", result.Log, StringComparison.Ordinal);
        var loaded = await f.RowsAsync($"SELECT file_key FROM ingest.import_file WHERE batch_id = '{result.BatchId}' AND state = 'loaded' ORDER BY file_key");
        Assert.Equal(files.Take(7), loaded); // the groups before it, and the file before it in its group
        Assert.Equal(70, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(70, result.InsertCount);
    }

    [SkippableFact]
    public async Task An_abort_while_a_group_copies_rolls_the_whole_group_back_and_a_resume_loads_each_file_once()
    {
        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var id = Guid.NewGuid();
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 1 });
        var files = WriteFiles(f, count: 16, rows: 10, badRowIn: -1);
        var commits = 0;
        f.Engine.Hooks = new LoadHooks
        {
            BeforeCommit = _ =>
            {
                if (Interlocked.Increment(ref commits) == 2 && !release.IsSet)
                {
                    held.Set();
                    release.Wait(TimeSpan.FromSeconds(60));
                }
            },
        };

        var run = f.ImportAsync(files, id);
        await PostgresFaultTests.WaitUntilAsync(() => Task.FromResult(held.IsSet));
        await f.Recorder.RequestAbortAsync(id);
        await PostgresFaultTests.WaitUntilAsync(async () => (await f.Recorder.GetBatchAsync(id)).Log?.Contains("Received abort instruction", StringComparison.Ordinal) == true);
        release.Set();
        var aborted = await run;

        Assert.Equal(BatchStatus.Aborted, aborted.Status);
        Assert.Equal(4, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}'"));
        Assert.Equal(40, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(40, aborted.InsertCount);

        f.Engine.Hooks = LoadHooks.None;
        var resumed = await f.ImportAsync(files, id);

        Assert.Equal(BatchStatus.Finished, resumed.Status);
        Assert.Equal(160, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(160, await f.ScalarAsync("SELECT count(DISTINCT entity_id) FROM plants"));
        Assert.Equal(16, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}' AND state = 'loaded'"));
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
