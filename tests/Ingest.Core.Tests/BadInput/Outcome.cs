using Ingest.Core.Tests.Engine;
using Ingest.Status;
using Ingest.Validation;

namespace Ingest.Core.Tests.BadInput;

/// <summary>The outcomes a user sees, checked the same way for every input of the corpus.</summary>
internal static class Outcome
{
    /// <summary>
    /// A file error: the batch ends <c>error</c>, the message and the log name the file (and the line when
    /// given) and the reason, and nothing of the file reached the table or the ledger.
    /// </summary>
    public static async Task FileErrorAsync(EngineFixture f, BatchResult result, string key, string reason, long? line = null, string table = "plants")
    {
        Assert.Equal(BatchStatus.Error, result.Status);
        var where = line is null ? $"{key}: " : $"{key} line {line}: ";
        Assert.StartsWith(where, result.Error, StringComparison.Ordinal);
        Assert.Contains(reason, result.Error, StringComparison.Ordinal);
        Assert.Equal(0, result.InsertCount);
        Assert.Equal(0, await f.ScalarAsync($"SELECT count(*) FROM {table}"));
        Assert.Equal(0, await f.ScalarAsync("SELECT count(*) FROM ingest.import_file WHERE state <> 'loading'"));
        var timeline = await f.Recorder.GetTimelineAsync(result.BatchId);
        Assert.Equal(BatchStatus.Error, timeline[0].Status);
        Assert.Contains($"ERROR {where}", timeline[0].Log, StringComparison.Ordinal);
    }

    /// <summary>A finished batch with exactly these counts, in the result, the table and the timeline.</summary>
    public static async Task FinishedAsync(EngineFixture f, BatchResult result, long inserted, long invalid, string table = "plants")
    {
        Assert.True(result.Status == BatchStatus.Finished, result.Error);
        Assert.Equal(inserted, result.InsertCount);
        Assert.Equal(invalid, result.InvalidCount);
        Assert.Equal(inserted, await f.ScalarAsync($"SELECT count(*) FROM {table}"));
        var timeline = await f.Recorder.GetTimelineAsync(result.BatchId);
        Assert.Equal(BatchStatus.Finished, timeline[0].Status);
        Assert.Equal(inserted, timeline[0].InsertCount);
        Assert.Equal(invalid, timeline[0].InvalidCount);
    }

    /// <summary>The row errors, as (line, field, kind), in line order.</summary>
    public static (long Line, string Field, RowErrorKind Kind)[] Errors(BatchResult result) =>
        [.. result.RowErrors.OrderBy(e => e.Line).Select(e => (e.Line, e.Field, e.Kind))];
}
