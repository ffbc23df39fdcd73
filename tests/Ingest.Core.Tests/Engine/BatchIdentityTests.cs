using Ingest.Core.Tests.Copy;
using Ingest.Schema;
using Ingest.Sources;
using Ingest.Status;

namespace Ingest.Core.Tests.Engine;

/// <summary>Running an existing batch id again resumes that batch: the same dataset, mapping and files, or nothing happens.</summary>
public sealed class BatchIdentityTests
{
    // The plants mapping with longitude and latitude swapped.
    private static CsvFormat Swapped => CsvFormat.Parse(RowEncoderTests.PlantsFormat.Replace("\"longitude\": 2, \"latitude\": 3", "\"longitude\": 3, \"latitude\": 2", StringComparison.Ordinal));

    [SkippableFact]
    public async Task A_resume_with_another_mapping_is_refused_before_any_row_moves()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 1 });
        var a = f.WriteFile("a.csv", EngineFixture.Rows(10));
        var missing = Path.Combine(f.Folder, "b.csv");
        var id = Guid.NewGuid();
        var first = await f.ImportAsync([a, missing], id);
        f.WriteFile("b.csv", EngineFixture.Rows(20, 100));

        var error = await Assert.ThrowsAsync<ArgumentException>(() => f.ImportAsync([a, missing], id, format: Swapped));

        Assert.Equal(BatchStatus.Error, first.Status);
        Assert.Contains($"Batch {id} was created with the format", error.Message, StringComparison.Ordinal);
        Assert.Contains("\"longitude\":3", error.Message, StringComparison.Ordinal);
        Assert.Contains("new batch id", error.Message, StringComparison.Ordinal);
        Assert.Equal(10, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(BatchStatus.Error, (await f.Recorder.GetBatchAsync(id)).Status);

        // With its own mapping (keys in another order are the same mapping) it resumes.
        var reordered = CsvFormat.Parse("""{"csv": {"delta": 8, "plantCultivar": 7, "plantIPv4": 6, "plantHeight": 5, "altitude": 4, "latitude": 3, "longitude": 2, "timestamp": 1, "entityId": 0}}""");
        var resumed = await f.ImportAsync([a, missing], id, format: reordered);
        Assert.Equal(BatchStatus.Finished, resumed.Status);
        Assert.Equal(30, await f.ScalarAsync("SELECT count(*) FROM plants"));
    }

    [SkippableFact]
    public async Task A_file_the_batch_did_not_list_is_loaded_on_a_rerun_and_named_in_the_log_and_another_spelling_is_the_same_file()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 1 });
        var a = f.WriteFile("a.csv", EngineFixture.Rows(10));
        var b = f.WriteFile("b.csv", EngineFixture.Rows(5, 100));
        var c = f.WriteFile("c.csv", EngineFixture.Rows(7, 200));
        var id = Guid.NewGuid();
        Assert.Equal(BatchStatus.Finished, (await f.ImportAsync([a, b], id)).Status);

        var more = await f.ImportAsync(["file://" + b, a, c], id);

        Assert.Equal(BatchStatus.Finished, more.Status);
        Assert.Equal(22, more.InsertCount);
        Assert.Equal(22, await f.ScalarAsync("SELECT count(*) FROM plants"));
        var log = (await f.Recorder.GetBatchAsync(id)).Log!;
        Assert.Contains($"INFO Adding 1 file(s) the batch did not list before: {c}", log, StringComparison.Ordinal);
        Assert.DoesNotContain($"did not list before: {b}", log, StringComparison.Ordinal);
        var urls = (await f.Recorder.GetBatchAsync(id)).Source!.Value.GetProperty("urls").EnumerateArray().Select(u => u.GetString()!).ToArray();
        Assert.Equal(new[] { a, b, c }, urls);

        // Run again with the same three: nothing to add, nothing to load.
        var again = await f.ImportAsync([a, b, c], id);
        Assert.Equal(22, again.InsertCount);
        Assert.Equal(3, (await f.Recorder.GetBatchAsync(id)).Source!.Value.GetProperty("urls").GetArrayLength());
    }

    [SkippableFact]
    public async Task A_resume_that_leaves_out_a_file_not_loaded_yet_is_refused_and_one_that_leaves_out_loaded_files_finishes()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 1 });
        var a = f.WriteFile("a.csv", EngineFixture.Rows(10));
        var b = Path.Combine(f.Folder, "b.csv");
        var c = Path.Combine(f.Folder, "c.csv");
        var id = Guid.NewGuid();
        Assert.Equal(BatchStatus.Error, (await f.ImportAsync([a, b, c], id)).Status); // b is missing: a loads, b and c do not
        var timeline = (await f.Recorder.GetTimelineAsync(id)).Count;
        f.WriteFile("b.csv", EngineFixture.Rows(20, 100));
        f.WriteFile("c.csv", EngineFixture.Rows(5, 200));

        // Only b given: c, listed and not loaded, would never load while the batch said finished.
        var error = await Assert.ThrowsAsync<ArgumentException>(() => f.ImportAsync([b], id));

        Assert.Contains($"Batch {id} lists 1 file(s) not loaded yet that this run does not give: {c}.", error.Message, StringComparison.Ordinal);
        Assert.Contains("files already loaded may be left out", error.Message, StringComparison.Ordinal);
        Assert.Equal(10, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(BatchStatus.Error, (await f.Recorder.GetBatchAsync(id)).Status);
        Assert.Equal(timeline, (await f.Recorder.GetTimelineAsync(id)).Count);

        // a is loaded already, so b and c are all it needs.
        var resumed = await f.ImportAsync([b, c], id);
        Assert.Equal(BatchStatus.Finished, resumed.Status);
        Assert.Equal(35, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(35, resumed.InsertCount);
    }

    [SkippableFact]
    public async Task A_resume_into_another_dataset_is_refused_before_that_table_is_made()
    {
        await using var f = await EngineFixture.CreateAsync();
        var a = f.WriteFile("a.csv", EngineFixture.Rows(3));
        var id = Guid.NewGuid();
        await f.ImportAsync([a], id);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => f.ImportAsync([a], id, schema: EngineFixture.Plants("other_plants")));

        Assert.Contains($"Batch {id} belongs to dataset 'plants', not 'other_plants'", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await f.ScalarAsync("SELECT count(*) FROM pg_tables WHERE tablename = 'other_plants'"));
    }

    [SkippableFact]
    public async Task A_relative_path_is_recorded_in_full_so_a_worker_or_a_resume_elsewhere_finds_the_same_file()
    {
        await using var f = await EngineFixture.CreateAsync();
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, f.WriteFile("rel.csv", EngineFixture.Rows(4)));
        Assert.False(Path.IsPathRooted(relative));

        var result = await f.ImportAsync([relative]);

        var full = Path.GetFullPath(relative);
        Assert.Equal(full, SourceFile.Parse(relative).Location);
        Assert.Equal(full, SourceFile.Recorded(relative));
        Assert.Equal("https://h/f.csv?sig=1", SourceFile.Recorded("https://h/f.csv?sig=1"));
        Assert.Equal(BatchStatus.Finished, result.Status);
        var source = (await f.Recorder.GetBatchAsync(result.BatchId)).Source!.Value;
        Assert.Equal(new[] { full }, source.GetProperty("urls").EnumerateArray().Select(u => u.GetString()!).ToArray());
    }
}
