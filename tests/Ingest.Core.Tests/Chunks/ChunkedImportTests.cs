using System.Globalization;
using System.Text;
using Ingest.Core.Tests.Engine;
using Ingest.Engine.Loading;
using Ingest.Status;

namespace Ingest.Core.Tests.Chunks;

/// <summary>One big local file loads on every stream, in chunks cut on record boundaries, each exactly once.</summary>
public sealed class ChunkedImportTests
{
    [SkippableFact]
    public async Task One_big_file_loads_in_chunks_on_every_stream_each_row_once_with_the_files_own_line_numbers()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 3 });
        var (path, valid, badLines) = WriteBigFile(f, "big.csv", records: 150_000);

        var result = await f.ImportAsync([path]);

        Assert.True(result.Status == BatchStatus.Finished, result.Log);
        Assert.Equal(valid, result.InsertCount);
        Assert.Equal(badLines.Count, result.InvalidCount);
        Assert.Equal(valid, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(valid, await f.ScalarAsync("SELECT count(DISTINCT entity_id) FROM plants"));
        Assert.Equal(Enumerable.Range(0, 150_000).Where(n => !badLines.ContainsKey(n)).Sum(n => (long)n), await f.ScalarAsync("""SELECT sum("plantHeight") FROM plants"""));
        Assert.Contains("into 3 chunks on record boundaries", result.Log, StringComparison.Ordinal);
        Assert.Equal(3, Count(result.Log!, "INFO Loaded " + path + " (chunk "));
        Assert.Equal(1, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{result.BatchId}' AND state = 'loaded' AND rows_inserted = {valid}"));
        Assert.Equal(3, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_chunk WHERE batch_id = '{result.BatchId}' AND state = 'loaded'"));

        // Every invalid row is named by its line in the file, also in the second and third chunks.
        Assert.Equal(badLines.Values.Order(), result.RowErrors.Select(e => e.Line).Order());
        Assert.All(result.RowErrors, e => Assert.Equal(path, e.FileKey));
    }

    [SkippableFact]
    public async Task An_abort_while_the_last_chunk_copies_rolls_back_every_chunk_of_the_file_and_a_resume_loads_it_once()
    {
        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var copied = 0;
        var id = Guid.NewGuid();
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 3 });
        var (path, valid, _) = WriteBigFile(f, "abort.csv", records: 150_000, badEvery: 0);

        // Chunks 1 and 2 copy their rows and wait for chunk 3, which is held after its copy while the abort comes.
        f.Engine.Hooks = new LoadHooks
        {
            BeforeCommit = name =>
            {
                if (!name.EndsWith("(chunk 3 of 3)", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref copied);
                }
                else if (!release.IsSet)
                {
                    held.Set();
                    release.Wait(TimeSpan.FromSeconds(60));
                }
            },
        };
        var run = f.ImportAsync([path], id);
        await PostgresFaultTests.WaitUntilAsync(() => Task.FromResult(held.IsSet && Volatile.Read(ref copied) == 2));
        await f.Recorder.RequestAbortAsync(id); // As another process would; the run sees it at its next poll.
        await PostgresFaultTests.WaitUntilAsync(async () => (await f.Recorder.GetBatchAsync(id)).Log?.Contains("Received abort instruction", StringComparison.Ordinal) == true);
        release.Set();
        var aborted = await run;

        Assert.Equal(BatchStatus.Aborted, aborted.Status);
        Assert.Equal(0, aborted.InsertCount);
        Assert.Equal(0, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(0, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_chunk WHERE batch_id = '{id}' AND state = 'loaded'"));
        Assert.Equal(0, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}'"));
        Assert.DoesNotContain("INFO Loaded " + path, aborted.Log, StringComparison.Ordinal);

        f.Engine.Hooks = LoadHooks.None;
        var resumed = await f.ImportAsync([path], id);

        await AssertEachRowOnceAsync(f, resumed, valid);
        Assert.DoesNotContain($"Resuming {path}", resumed.Log, StringComparison.Ordinal);
        // The log holds both runs: every chunk was read by both.
        Assert.Equal(2, Count(resumed.Log!, $"Reading file {path} (chunk 1 of 3)"));
        Assert.Equal(2, Count(resumed.Log!, $"Reading file {path} (chunk 3 of 3)"));
        Assert.Equal(1, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}' AND state = 'loaded' AND rows_inserted = {valid}"));
    }

    [SkippableFact]
    public async Task Chunks_left_half_committed_as_by_a_crash_between_their_commits_are_resumed_by_loading_just_the_missing_chunk()
    {
        var id = Guid.NewGuid();
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 3 });
        var (path, valid, _) = WriteBigFile(f, "crash.csv", records: 150_000, badEvery: 0);

        // All three chunks have copied; chunk 3 then fails before its commit, as if the process died between the
        // chunks' commits. The others commit: they no longer stop for anything.
        var failed = await LoadFailingAfterCopyAsync(f, path, id, name => name.EndsWith("(chunk 3 of 3)", StringComparison.Ordinal));

        var kept = await f.ScalarAsync("SELECT count(*) FROM plants");
        Assert.Equal(BatchStatus.Error, failed.Status);
        Assert.Equal(kept, failed.InsertCount);
        Assert.Equal(2, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_chunk WHERE batch_id = '{id}' AND state = 'loaded'"));
        Assert.Equal(kept, await f.ScalarAsync($"SELECT sum(rows_inserted) FROM ingest.import_chunk WHERE batch_id = '{id}' AND state = 'loaded'"));
        Assert.InRange(kept, 1, valid - 1);
        Assert.Equal(0, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}'"));

        f.Engine.Hooks = LoadHooks.None;
        var resumed = await f.ImportAsync([path], id);

        await AssertEachRowOnceAsync(f, resumed, valid);
        Assert.Contains($"Resuming {path}: 2 of its 3 chunks are loaded; loading the rest", resumed.Log, StringComparison.Ordinal);
        // The log holds both runs: chunks 1 and 2 were read once (by the first run), chunk 3 by both.
        Assert.Equal(1, Count(resumed.Log!, $"Reading file {path} (chunk 1 of 3)"));
        Assert.Equal(1, Count(resumed.Log!, $"Reading file {path} (chunk 2 of 3)"));
        Assert.Equal(2, Count(resumed.Log!, $"Reading file {path} (chunk 3 of 3)"));
        Assert.Equal(1, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}' AND state = 'loaded' AND rows_inserted = {valid}"));
    }

    [SkippableFact]
    public async Task Chunks_left_half_committed_are_resumed_on_fewer_streams_than_chunks_are_missing()
    {
        var id = Guid.NewGuid();
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 3 });
        var (path, valid, _) = WriteBigFile(f, "fewer.csv", records: 150_000, badEvery: 0);
        var failed = await LoadFailingAfterCopyAsync(f, path, id, name => !name.EndsWith("(chunk 1 of 3)", StringComparison.Ordinal));
        Assert.Equal(BatchStatus.Error, failed.Status);
        Assert.Equal(1, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_chunk WHERE batch_id = '{id}' AND state = 'loaded'"));

        // Two chunks missing, one stream: they load one after the other.
        await using var oneStream = EngineFixture.On(f.ConnectionString, EngineFixture.FastOptions with { Streams = 1 });
        var resumed = await oneStream.ImportAsync([path], id).WaitAsync(TimeSpan.FromSeconds(120));

        await AssertEachRowOnceAsync(f, resumed, valid);
        Assert.Contains($"Resuming {path}: 1 of its 3 chunks are loaded; loading the rest", resumed.Log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_table_with_a_unique_index_loads_a_big_file_whole_so_a_key_in_two_chunks_fails_the_file_instead_of_waiting_forever()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 3 });
        Assert.Equal(BatchStatus.Finished, (await f.ImportAsync([f.WriteFile("seed.csv", EngineFixture.Rows(1, 9_000_000))])).Status);
        await f.ScalarAsync("CREATE UNIQUE INDEX plants_entity ON plants (entity_id)");
        var (path, _, _) = WriteBigFile(f, "dup.csv", records: 150_000, badEvery: 0);
        File.AppendAllText(path, File.ReadLines(path).First() + "\nagain\"\n"); // the first record's key again, at the end (closing its quoted note)

        var result = await f.ImportAsync([path]).WaitAsync(TimeSpan.FromSeconds(120));

        Assert.Equal(BatchStatus.Error, result.Status);
        Assert.Contains("duplicate key", result.Error, StringComparison.Ordinal);
        Assert.Contains("Large files load whole, each on one stream: table \"plants\" has a unique or exclusion index", result.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("chunks on record boundaries", result.Log, StringComparison.Ordinal);
        Assert.Equal(1, await f.ScalarAsync("SELECT count(*) FROM plants")); // the seed row only
    }

    [SkippableFact]
    public async Task A_file_error_in_a_chunk_ends_the_batch_naming_the_files_line_and_rolls_back_every_chunk_of_the_file()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 3 });
        var (path, _, _) = WriteBigFile(f, "broken.csv", records: 150_000, badEvery: 0);
        var lines = File.ReadAllLines(path).Length;
        File.AppendAllText(path, "\"a quote that never closes,1,2\n" + EngineFixture.Rows(10, 900_000));

        var result = await f.ImportAsync([path]);

        Assert.Equal(BatchStatus.Error, result.Status);
        Assert.StartsWith($"{path} line {lines + 1}: unterminated quoted field", result.Error, StringComparison.Ordinal);
        Assert.Equal(0, result.InsertCount);
        Assert.Equal(0, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(0, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_chunk WHERE batch_id = '{result.BatchId}' AND state = 'loaded'"));
        Assert.Equal(0, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{result.BatchId}'"));
    }

    [SkippableFact]
    public async Task Files_no_larger_than_their_share_and_compressed_ones_load_whole()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 2 });
        var (a, _, _) = WriteBigFile(f, "a.csv", records: 80_000, badEvery: 0);
        var (b, _, _) = WriteBigFile(f, "b.csv", records: 80_000, badEvery: 0, start: 1_000_000);
        var gz = f.WriteBytes("c.csv.gz", EngineFixture.Gzip(File.ReadAllText(a).Replace("\n0,", "\n0,", StringComparison.Ordinal)));
        File.Delete(a);
        var (a2, _, _) = WriteBigFile(f, "a2.csv", records: 80_000, badEvery: 0, start: 2_000_000);

        var result = await f.ImportAsync([a2, b]);
        var compressed = await f.ImportAsync([gz], schema: EngineFixture.Plants("plants_gz"));

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.DoesNotContain("chunks on record boundaries", result.Log, StringComparison.Ordinal);
        Assert.Equal(BatchStatus.Finished, compressed.Status);
        Assert.DoesNotContain("chunks on record boundaries", compressed.Log, StringComparison.Ordinal);
        Assert.Equal(0, await f.ScalarAsync("SELECT count(*) FROM ingest.import_chunk"));
    }

    /// <summary>Loads the file with the chunks <paramref name="fails"/> names failing once every chunk has copied, as a crash between the chunks' commits leaves them.</summary>
    private static Task<BatchResult> LoadFailingAfterCopyAsync(EngineFixture f, string path, Guid id, Func<string, bool> fails)
    {
        f.Engine.Hooks = new LoadHooks
        {
            ChunksCopied = name =>
            {
                if (fails(name))
                {
                    throw new FileErrorException(path, "the test's stand-in for a crash between the chunks' commits");
                }
            },
        };
        return f.ImportAsync([path], id);
    }

    /// <summary>The resumed batch finished with every valid row of the file in the table exactly once.</summary>
    private static async Task AssertEachRowOnceAsync(EngineFixture f, BatchResult resumed, long valid)
    {
        Assert.Equal(BatchStatus.Finished, resumed.Status);
        Assert.Equal(valid, resumed.InsertCount);
        Assert.Equal(valid, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(valid, await f.ScalarAsync("SELECT count(DISTINCT entity_id) FROM plants"));
    }

    /// <summary>
    /// A file of plants rows, each with a tenth, unmapped column holding a quoted value with line ends, commas and
    /// quotes in it, so a chunk cut at a line end is wrong most of the time; every <paramref name="badEvery"/>th row has
    /// a bad entity id. Returns the path, the valid rows, and the line of each bad row by its number.
    /// </summary>
    private static (string Path, long Valid, Dictionary<int, long> BadLines) WriteBigFile(EngineFixture f, string name, int records, int badEvery = 9973, int start = 0)
    {
        var text = new StringBuilder(records * 150);
        var bad = new Dictionary<int, long>();
        long line = 1;
        for (var i = 0; i < records; i++)
        {
            var n = start + i;
            var id = badEvery > 0 && i % badEvery == badEvery - 1 ? "not-a-uuid" : new Guid(n, 7, 7, [1, 2, 3, 4, 5, 6, 7, 8]).ToString();
            if (id == "not-a-uuid")
            {
                bad[n] = line;
            }

            text.Append(CultureInfo.InvariantCulture, $"{id},{1706196472302 + n},{(n % 359) - 179}.5,{(n % 180) - 90},{n},{n},10.0.{n % 256}.1,cabbage,{-n},\"note {n}\nsecond line, \"\"quoted\"\"\"\n");
            line += 2;
        }

        var path = f.WriteFile(name, text.ToString());
        return (path, records - bad.Count, bad);
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
