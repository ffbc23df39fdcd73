using Ingest.Status;

namespace Ingest.Core.Tests.Engine;

public sealed class FileErrorTests
{
    [SkippableFact]
    public async Task An_unterminated_quote_ends_the_batch_error_naming_the_file_and_keeps_earlier_files_whole()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 1 });
        var good = f.WriteFile("good.csv", EngineFixture.Rows(300));
        var bad = f.WriteFile("bad.csv", EngineFixture.Rows(200, 1000) + "3c1243c4-a532-4487-9662-5655a23dec3a,0,1,2,,5,,\"cabbage,\n");

        var result = await f.ImportAsync([good, bad]);

        Assert.Equal(BatchStatus.Error, result.Status);
        Assert.Equal(300, result.InsertCount);
        Assert.Equal(300, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Contains(bad, result.Error, StringComparison.Ordinal);
        Assert.Contains("unterminated quoted field", result.Error, StringComparison.Ordinal);
        var timeline = await f.Recorder.GetTimelineAsync(result.BatchId);
        Assert.Equal(BatchStatus.Error, timeline[0].Status);
        Assert.Equal(300, timeline[0].InsertCount);
        Assert.Contains($"ERROR {bad} line 201: unterminated quoted field", timeline[0].Log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_line_starting_with_U_FFFF_ends_the_batch_error_naming_its_line_rather_than_vanishing()
    {
        // Sylvan takes a line starting with its comment char (U+FFFF here) as a comment and skips it unseen.
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 1 });
        var bad = f.WriteFile("ffff.csv", EngineFixture.Rows(200) + "\uFFFF" + EngineFixture.Rows(1, 1000) + EngineFixture.Rows(5, 2000));

        var result = await f.ImportAsync([bad]);

        Assert.Equal(BatchStatus.Error, result.Status);
        Assert.Equal(0, await f.ScalarAsync("SELECT count(*) FROM plants"));
        var timeline = await f.Recorder.GetTimelineAsync(result.BatchId);
        Assert.Contains($"ERROR {bad} line 201: the record starts with U+FFFF, a Unicode noncharacter", timeline[0].Log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_record_over_the_size_cap_is_a_file_error_not_unbounded_memory()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { MaxRecordSize = 4096 });
        var bad = f.WriteFile("long.csv", EngineFixture.Rows(10) + new string('x', 100_000) + "\n" + EngineFixture.Rows(10, 10));

        var result = await f.ImportAsync([bad]);

        Assert.Equal(BatchStatus.Error, result.Status);
        Assert.Contains("record size cap of 4096", result.Error, StringComparison.Ordinal);
        Assert.Equal(0, await f.ScalarAsync("SELECT count(*) FROM plants"));
    }

    [SkippableFact]
    public async Task A_broken_gzip_stream_is_a_file_error_and_the_file_rolls_back()
    {
        await using var f = await EngineFixture.CreateAsync();
        var gzip = EngineFixture.Gzip(EngineFixture.Rows(5000));
        var truncated = f.WriteBytes("cut.csv.gz", gzip[..(gzip.Length / 2)]);

        var result = await f.ImportAsync([truncated]);

        Assert.Equal(BatchStatus.Error, result.Status);
        Assert.Contains("cut.csv.gz", result.Error, StringComparison.Ordinal);
        Assert.Equal(0, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(0, await f.ScalarAsync("SELECT count(*) FROM ingest.import_file"));
    }

    [SkippableFact]
    public async Task A_missing_file_is_a_file_error_and_a_fixed_batch_resumes_with_the_rest()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 1 });
        var a = f.WriteFile("a.csv", EngineFixture.Rows(10));
        var missing = Path.Combine(f.Folder, "b.csv");
        var id = Guid.NewGuid();

        var first = await f.ImportAsync([a, missing], id);
        f.WriteFile("b.csv", EngineFixture.Rows(20, 100));
        var second = await f.ImportAsync([a, missing], id);

        Assert.Equal(BatchStatus.Error, first.Status);
        Assert.Contains("b.csv", first.Error, StringComparison.Ordinal);
        Assert.Equal(BatchStatus.Finished, second.Status);
        Assert.Equal(30, second.InsertCount);
        Assert.Equal(30, await f.ScalarAsync("SELECT count(*) FROM plants"));
        var statuses = (await f.Recorder.GetTimelineAsync(id)).Select(r => r.Status).ToArray();
        Assert.Equal(BatchStatus.Finished, statuses[0]);
        Assert.Contains(BatchStatus.Error, statuses);
    }

    [SkippableFact]
    public async Task A_batch_over_the_files_cap_is_refused_before_anything_loads()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { MaxFilesPerBatch = 2 });
        var files = Enumerable.Range(0, 3).Select(i => f.WriteFile($"c{i}.csv", EngineFixture.Rows(5, i * 100))).ToArray();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => f.ImportAsync(files));

        Assert.Contains("the cap is 2", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await f.ScalarAsync("SELECT count(*) FROM pg_tables WHERE tablename = 'plants'"));
    }
}
