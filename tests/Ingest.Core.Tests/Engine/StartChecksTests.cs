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

            // The same data source knows its tables now: nothing is asked (a question that would fail is not sent).
            Assert.False(await FileLedger.EnsureAsync(first, "1 / 0 = 1", CancellationToken.None));
        }

        // Another data source asks again, in the one query: its answer, or the server's error.
        await using var second = NpgsqlDataSource.Create(f.ConnectionString);
        Assert.False(await FileLedger.EnsureAsync(second, "1 = 0", CancellationToken.None));
        await using var third = NpgsqlDataSource.Create(f.ConnectionString);
        var error = await Assert.ThrowsAsync<PostgresException>(() => FileLedger.EnsureAsync(third, "1 / 0 = 1", CancellationToken.None));
        Assert.Equal(PostgresErrorCodes.DivisionByZero, error.SqlState);
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

    [SkippableFact]
    public async Task A_batch_made_without_the_lease_between_the_runs_read_and_its_create_is_taken_over_not_refused()
    {
        await using var f = await EngineFixture.CreateAsync();
        var file = f.WriteFile("a.csv", EngineFixture.Rows(30));
        var id = Guid.NewGuid();
        var made = new NewBatch(id, "plants", null, null) { Log = "2026-01-01T00:00:00.000Z INFO Submitted (made elsewhere)" };
        var recorder = new MadeMeanwhileRecorder(f.Recorder, made);
        await using var engine = new IngestEngine(f.DataSource, recorder, EngineFixture.FastOptions);

        var result = await engine.ImportAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [file]) { BatchId = id });

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Contains("(made elsewhere)", result.Log, StringComparison.Ordinal);
        Assert.Contains("INFO Starting batch job", result.Log, StringComparison.Ordinal);
        Assert.Equal(30, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(1, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_batch_status WHERE batch_id = '{id}' AND status = 'created'"));
    }

    /// <summary>
    /// The timeline as a run sees it when a batch is made by something that takes no lease (a submit, an API host's
    /// POST) right after the run looked: every read finds nothing until the run tries to create the batch itself.
    /// </summary>
    private sealed class MadeMeanwhileRecorder(PostgresStatusRecorder inner, NewBatch made) : IStatusRecorder
    {
        private bool _madeYet;
        private volatile bool _createTried;

        public async ValueTask<BatchRecord?> TryGetBatchAsync(Guid batchId, CancellationToken cancellationToken = default)
        {
            if (_createTried)
            {
                return await inner.TryGetBatchAsync(batchId, cancellationToken);
            }

            if (!_madeYet)
            {
                _madeYet = true;
                await inner.CreateBatchAsync(made, cancellationToken);
            }

            return null;
        }

        public ValueTask<StatusRecord> CreateBatchAsync(NewBatch batch, CancellationToken cancellationToken = default)
        {
            _createTried = true;
            return inner.CreateBatchAsync(batch, cancellationToken);
        }

        public ValueTask<StatusRecord> AppendStatusAsync(Guid batchId, BatchStatus status, long insertCount, long invalidCount, string? log, CancellationToken cancellationToken = default) =>
            inner.AppendStatusAsync(batchId, status, insertCount, invalidCount, log, cancellationToken);

        public ValueTask AddSourceUrlsAsync(Guid batchId, IReadOnlyList<string> urls, CancellationToken cancellationToken = default) =>
            inner.AddSourceUrlsAsync(batchId, urls, cancellationToken);

        public ValueTask UpdateProgressAsync(Guid batchId, long insertCount, long invalidCount, string? log, CancellationToken cancellationToken = default) =>
            inner.UpdateProgressAsync(batchId, insertCount, invalidCount, log, cancellationToken);

        public ValueTask<IReadOnlyList<StatusRecord>> GetTimelineAsync(Guid batchId, CancellationToken cancellationToken = default) =>
            inner.GetTimelineAsync(batchId, cancellationToken);

        public ValueTask<BatchRecord> GetBatchAsync(Guid batchId, CancellationToken cancellationToken = default) =>
            inner.GetBatchAsync(batchId, cancellationToken);

        public ValueTask<AbortOutcome> RequestAbortAsync(Guid batchId, CancellationToken cancellationToken = default) =>
            inner.RequestAbortAsync(batchId, cancellationToken);

        public ValueTask<bool> IsAbortRequestedAsync(Guid batchId, CancellationToken cancellationToken = default) =>
            inner.IsAbortRequestedAsync(batchId, cancellationToken);

        public ValueTask ClearAbortRequestAsync(Guid batchId, CancellationToken cancellationToken = default) =>
            inner.ClearAbortRequestAsync(batchId, cancellationToken);
    }
}
