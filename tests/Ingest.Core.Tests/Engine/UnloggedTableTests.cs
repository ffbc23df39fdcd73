using Ingest.Copy;
using Ingest.Status;

namespace Ingest.Core.Tests.Engine;

/// <summary>An UNLOGGED target loads, but the batch's log says what a crash would cost and how to fix it.</summary>
public sealed class UnloggedTableTests
{
    private const string Warning = "Table \"plants\" is UNLOGGED: a server crash empties it";

    [SkippableFact]
    public async Task An_import_into_an_unlogged_table_loads_and_warns_in_the_batch_log()
    {
        await using var f = await EngineFixture.CreateAsync();
        await CreateUnloggedAsync(f);
        var file = f.WriteFile("a.csv", EngineFixture.Rows(10));

        var result = await f.ImportAsync([file]);

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(10, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Contains("WARN " + Warning, result.Log, StringComparison.Ordinal);
        Assert.Contains("ALTER TABLE \"plants\" SET LOGGED", result.Log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_logged_table_gets_no_such_warning_and_a_submitted_batch_gets_it_at_submit()
    {
        await using var f = await EngineFixture.CreateAsync();
        var logged = await f.ImportAsync([f.WriteFile("a.csv", EngineFixture.Rows(3))]);
        Assert.DoesNotContain("UNLOGGED", logged.Log, StringComparison.Ordinal);

        await f.ScalarAsync("ALTER TABLE plants SET UNLOGGED; SELECT 1");
        var id = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [f.WriteFile("b.csv", EngineFixture.Rows(3, 100))]));

        Assert.Contains(Warning, (await f.Recorder.GetBatchAsync(id)).Log, StringComparison.Ordinal);
    }

    /// <summary>Creates the dataset's table (default "plants") as an UNLOGGED table.</summary>
    internal static async Task CreateUnloggedAsync(EngineFixture f, string dataset = "plants")
    {
        var create = new TableLayout(EngineFixture.Plants(dataset)).CreateTableSql();
        Assert.StartsWith("CREATE TABLE ", create, StringComparison.Ordinal);
        await f.ScalarAsync(string.Concat("CREATE UNLOGGED TABLE ", create.AsSpan("CREATE TABLE ".Length), "; SELECT 1"));
    }
}
