using Ingest.Testing;
using Npgsql;

namespace Ingest.Status.Tests.Recorders;

public sealed class PostgresStatusRecorderTests : StatusRecorderContract
{
    private string? _connectionString;

    protected override async Task<IStatusRecorder> CreateStoreAsync(TimeProvider? time)
    {
        _connectionString = await TestPostgres.CreateDatabaseAsync(CancellationToken.None);
        return PostgresStatusRecorder.Create(_connectionString, time);
    }

    // A new data source and recorder on the same database: what another process would have.
    protected override IStatusRecorder OpenSameStore() =>
        PostgresStatusRecorder.Create(_connectionString ?? throw new InvalidOperationException("Create a store first."));

    [SkippableFact]
    public async Task Schema_is_created_once_when_many_recorders_start_together()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync(CancellationToken.None);
        var recorders = Enumerable.Range(0, 8).Select(_ => Own(PostgresStatusRecorder.Create(connectionString))).ToList();

        await Task.WhenAll(recorders.Select(r => Task.Run(() => r.EnsureSchemaAsync())));
        await recorders[0].EnsureSchemaAsync();

        Assert.Equal(["import_batch", "import_batch_status"], await TablesInIngestSchemaAsync(connectionString));
    }

    [SkippableFact]
    public async Task A_write_of_an_older_run_is_refused_once_the_batch_was_started_again()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync(CancellationToken.None);
        var recorder = Own(PostgresStatusRecorder.Create(connectionString));
        var batch = NewBatch();
        await recorder.CreateBatchAsync(batch);
        var first = recorder.FencedTo(batch.Id, (await recorder.BeginRunAsync(batch.Id))!.Value);
        await first.AppendStatusAsync(batch.Id, BatchStatus.Started, 1, 0, "first run");

        // The batch is started again (the first run's process was killed, one of its writes still in flight).
        var second = recorder.FencedTo(batch.Id, (await recorder.BeginRunAsync(batch.Id))!.Value);
        await second.AppendStatusAsync(batch.Id, BatchStatus.Started, 2, 0, "first run\nsecond run");

        var late = await Assert.ThrowsAsync<RunSupersededException>(async () => await first.AppendStatusAsync(batch.Id, BatchStatus.Finished, 1, 0, "first run: finished"));
        await Assert.ThrowsAsync<RunSupersededException>(async () => await first.UpdateProgressAsync(batch.Id, 1, 0, "first run: stale"));
        await second.AppendStatusAsync(batch.Id, BatchStatus.Finished, 2, 0, "first run\nsecond run\nfinished");

        Assert.Equal(batch.Id, late.BatchId);
        var timeline = await recorder.GetTimelineAsync(batch.Id);
        Assert.Equal([BatchStatus.Finished, BatchStatus.Started, BatchStatus.Started, BatchStatus.Created], timeline.Select(r => r.Status));
        Assert.Equal("first run\nsecond run\nfinished", (await recorder.GetBatchAsync(batch.Id)).Log);
        Assert.Null(await recorder.BeginRunAsync(Guid.NewGuid()));
    }

    [SkippableFact]
    public async Task First_calls_of_many_recorders_at_once_all_succeed()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync(CancellationToken.None);
        var recorders = Enumerable.Range(0, 8).Select(_ => Own(PostgresStatusRecorder.Create(connectionString))).ToList();

        var created = await Task.WhenAll(recorders.Select(r => Task.Run(async () =>
        {
            var batch = NewBatch();
            await r.CreateBatchAsync(batch);
            return batch.Id;
        })));

        foreach (var id in created)
        {
            Assert.Single(await recorders[0].GetTimelineAsync(id));
        }
    }

    [SkippableFact]
    public async Task A_status_with_appended_lines_keeps_lines_others_append_at_the_same_time()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync(CancellationToken.None);
        var recorder = Own(PostgresStatusRecorder.Create(connectionString));
        var other = Own(PostgresStatusRecorder.Create(connectionString));
        var batch = NewBatch();
        await recorder.CreateBatchAsync(batch);

        var appends = Enumerable.Range(0, 40).Select(i => Task.Run(async () => await other.AppendLogAsync(batch.Id, $"line {i}"))).ToList();
        var status = await recorder.AppendStatusLinesAsync(batch.Id, BatchStatus.Started, 3, 1, "started with password=hunter2");
        await Task.WhenAll(appends);

        var stored = await recorder.GetBatchAsync(batch.Id);
        Assert.Equal(BatchStatus.Started, stored.Status);
        Assert.Equal((3, 1), (stored.InsertCount, stored.InvalidCount));
        var lines = stored.Log!.Split('\n');
        Assert.Equal(41, lines.Length);
        Assert.All(Enumerable.Range(0, 40), i => Assert.Contains($"line {i}", lines));
        Assert.DoesNotContain("hunter2", stored.Log, StringComparison.Ordinal);
        Assert.EndsWith(lines.Single(l => l.StartsWith("started", StringComparison.Ordinal)), status.Log, StringComparison.Ordinal);
        // The running batch's newest entry shows the batch's live log: the lines appended after the status too.
        Assert.Equal(stored.Log, (await recorder.GetTimelineAsync(batch.Id))[0].Log);
        await Assert.ThrowsAsync<BatchNotFoundException>(async () => await recorder.AppendStatusLinesAsync(Guid.NewGuid(), BatchStatus.Started, 0, 0, "x"));
    }

    [SkippableFact]
    public async Task A_snapshot_racing_a_final_status_never_lands_after_it()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync(CancellationToken.None);
        await using var recorder = PostgresStatusRecorder.Create(connectionString);
        var id = Guid.NewGuid();
        await recorder.CreateBatchAsync(new NewBatch(id, "plants", null, null));
        await recorder.AppendStatusLinesAsync(id, BatchStatus.Started, 0, 0, "Starting");
        await recorder.AppendLogAsync(id, "progress", 5, 0);

        // Another worker records 'finished' and has not committed yet.
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var finish = new NpgsqlCommand("""
            WITH b AS (UPDATE ingest.import_batch SET status = 'finished', insert_count = 10, log = log || E'\nFinished' WHERE id = $1 RETURNING id, log)
            INSERT INTO ingest.import_batch_status (batch_id, status, insert_count, invalid_count, log, updated_at)
            SELECT id, 'finished', 10, 0, log, now() FROM b
            """, connection, transaction))
        {
            finish.Parameters.AddWithValue(id);
            await finish.ExecuteNonQueryAsync();
        }

        var appended = await recorder.AppendStartedSnapshotAsync(id, TimeSpan.Zero);
        await transaction.CommitAsync();

        Assert.False(appended);
        Assert.Equal(BatchStatus.Finished, (await recorder.GetTimelineAsync(id))[0].Status);
        Assert.False(await recorder.AppendStartedSnapshotAsync(id, TimeSpan.Zero)); // ended: never again
    }

    [SkippableFact]
    public async Task A_batch_started_long_ago_spaces_its_snapshots_to_a_twentieth_of_its_time()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync(CancellationToken.None);
        var time = new FixedTime(DateTimeOffset.UnixEpoch.AddDays(20_000));
        await using var recorder = PostgresStatusRecorder.Create(connectionString, time);
        var id = Guid.NewGuid();
        await recorder.CreateBatchAsync(new NewBatch(id, "plants", null, null));
        await recorder.AppendStatusLinesAsync(id, BatchStatus.Started, 0, 0, "Starting");
        var interval = TimeSpan.FromSeconds(5);

        // 50 s in: the configured 5 s rules (50 s / 20 is less).
        time.Advance(TimeSpan.FromSeconds(50));
        await recorder.AppendLogAsync(id, "a", 1, 0);
        Assert.True(await recorder.AppendStartedSnapshotAsync(id, interval));

        // 970 s in: one more; 30 s after it, 1,000 s in: not yet (1,000 s / 20 = 50 s); 60 s after it: yes.
        time.Advance(TimeSpan.FromSeconds(920));
        await recorder.AppendLogAsync(id, "b", 2, 0);
        Assert.True(await recorder.AppendStartedSnapshotAsync(id, interval));
        await recorder.AppendLogAsync(id, "c", 3, 0);
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.False(await recorder.AppendStartedSnapshotAsync(id, interval));
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(await recorder.AppendStartedSnapshotAsync(id, interval));

        // No spacing asked (a worker stopping records what it leaves): appended a second after the last.
        await recorder.AppendLogAsync(id, "d", 4, 0);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await recorder.AppendStartedSnapshotAsync(id, TimeSpan.Zero));
        Assert.Equal(5, (await recorder.GetTimelineAsync(id)).Count(r => r.Status == BatchStatus.Started));
    }

    [Fact]
    public void A_runs_snapshot_pace_is_the_configured_interval_until_a_twentieth_of_its_time_is_longer()
    {
        Assert.Equal(TimeSpan.FromSeconds(5), RecorderShared.SnapshotEvery(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(99)));
        Assert.Equal(TimeSpan.FromSeconds(30), RecorderShared.SnapshotEvery(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(10)));
        Assert.Equal(TimeSpan.FromMinutes(30), RecorderShared.SnapshotEvery(TimeSpan.FromSeconds(5), TimeSpan.FromHours(10)));
    }

    [SkippableFact]
    public async Task Snapshots_asked_for_at_once_by_many_workers_append_one_record()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync(CancellationToken.None);
        var recorders = Enumerable.Range(0, 8).Select(_ => PostgresStatusRecorder.Create(connectionString)).ToList();
        try
        {
            var id = Guid.NewGuid();
            await recorders[0].CreateBatchAsync(new NewBatch(id, "plants", null, null));
            await recorders[0].AppendStatusLinesAsync(id, BatchStatus.Started, 0, 0, "Starting");
            foreach (var recorder in recorders)
            {
                await recorder.EnsureSchemaAsync();
            }

            var appendedPerRound = new List<int>();
            for (var round = 0; round < 10; round++)
            {
                await Task.Delay(120);
                await recorders[0].AppendLogAsync(id, $"progress {round}", round + 1, 0);
                using var go = new ManualResetEventSlim();
                var asks = recorders.Select(r => Task.Run(async () =>
                {
                    go.Wait();
                    return await r.AppendStartedSnapshotAsync(id, TimeSpan.FromMilliseconds(100));
                })).ToList();
                go.Set();
                appendedPerRound.Add((await Task.WhenAll(asks)).Count(appended => appended));
            }

            Assert.All(appendedPerRound, count => Assert.True(count <= 1, $"appended per round: {string.Join(", ", appendedPerRound)}"));
            Assert.True(appendedPerRound.Sum() >= 1, "no snapshot at all");
        }
        finally
        {
            foreach (var recorder in recorders)
            {
                await recorder.DisposeAsync();
            }
        }
    }

    [SkippableFact]
    public async Task Recorder_leaves_the_file_ledger_to_the_engine()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync(CancellationToken.None);
        var recorder = Own(PostgresStatusRecorder.Create(connectionString));

        await recorder.EnsureSchemaAsync();

        Assert.DoesNotContain("import_file", await TablesInIngestSchemaAsync(connectionString));
    }

    [SkippableFact]
    public async Task Recorder_works_on_a_data_source_it_does_not_own()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync(CancellationToken.None);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var batch = NewBatch();

        await using (var recorder = new PostgresStatusRecorder(dataSource))
        {
            await recorder.CreateBatchAsync(batch);
        }

        // Disposing the recorder left the caller's data source usable.
        await using var again = new PostgresStatusRecorder(dataSource);
        Assert.Equal(BatchStatus.Created, (await again.GetBatchAsync(batch.Id)).Status);
    }

    private static async Task<List<string>> TablesInIngestSchemaAsync(string connectionString)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'ingest' ORDER BY table_name");
        await using var reader = await command.ExecuteReaderAsync();
        var names = new List<string>();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }
}
