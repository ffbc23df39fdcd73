using Ingest.Engine.Loading;
using Ingest.Status;
using Npgsql;

namespace Ingest.Core.Tests.Engine;

/// <summary>
/// The start's catalog check: the ledger's tables and the status recorder's are asked about in one query when they
/// share a database, and each side still creates its own tables when they are missing.
/// </summary>
public sealed class StartChecksTests
{
    [SkippableFact]
    public async Task The_ledger_check_answers_a_second_question_in_the_same_query_and_asks_nothing_once_its_tables_are_known()
    {
        await using var f = await EngineFixture.CreateAsync();

        // A data source that has not seen the ledger yet asks the catalog (and creates the tables where missing).
        await using (var first = NpgsqlDataSource.Create(f.ConnectionString))
        {
            Assert.True(await FileLedger.EnsureAsync(first, "1 = 1", CancellationToken.None));
            Assert.Equal(2, await f.ScalarAsync("SELECT count(*) FROM pg_tables WHERE schemaname = 'ingest' AND tablename IN ('import_file', 'import_chunk')"));

            // The same data source knows its tables now: nothing is asked, so no answer either.
            Assert.False(await FileLedger.EnsureAsync(first, "1 = 1", CancellationToken.None));
        }

        await using var second = NpgsqlDataSource.Create(f.ConnectionString);
        Assert.False(await FileLedger.EnsureAsync(second, "1 = 0", CancellationToken.None));
    }

    [SkippableFact]
    public async Task A_run_finds_the_ledger_but_not_the_timeline_tables_and_the_recorder_makes_its_own()
    {
        await using var f = await EngineFixture.CreateAsync();
        var file = f.WriteFile("a.csv", EngineFixture.Rows(20));
        await f.ImportAsync([file]);
        await using (var drop = f.DataSource.CreateCommand("DROP TABLE ingest.import_batch_status, ingest.import_batch"))
        {
            await drop.ExecuteNonQueryAsync();
        }

        // A fresh engine (its own data source: nothing known yet): the ledger's tables are there, the recorder's are not.
        await using var engine = IngestEngine.Create(f.ConnectionString, EngineFixture.FastOptions);
        var result = await engine.ImportAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [file]));

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(20, result.InsertCount);
        var timeline = await engine.Recorder.GetTimelineAsync(result.BatchId); // Newest first.
        Assert.Equal(BatchStatus.Finished, timeline[0].Status);
        Assert.Contains(timeline, r => r.Status == BatchStatus.Started);
        Assert.Equal(BatchStatus.Created, timeline[^1].Status);
    }
}
