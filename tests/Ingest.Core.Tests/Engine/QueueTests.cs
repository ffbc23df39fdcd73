using System.Text.RegularExpressions;
using System.Text;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Engine.Loading;
using Ingest.Status;

namespace Ingest.Core.Tests.Engine;

public sealed class QueueTests
{
    [SkippableFact]
    public async Task Three_workers_share_a_submitted_batch_and_each_file_loads_once()
    {
        await using var f = await EngineFixture.CreateAsync();
        var files = Enumerable.Range(0, 12).Select(i => f.WriteFile($"q{i}.csv", EngineFixture.Rows(200 + i, i * 1000))).ToArray();
        var id = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, files));
        Assert.Equal(BatchStatus.Created, (await f.Recorder.GetBatchAsync(id)).Status);

        await Task.WhenAll(Enumerable.Range(1, 3).Select(w =>
            f.Engine.RunWorkerAsync(new WorkerOptions { Name = $"w{w}", Streams = 2, ExitWhenIdle = true, PollInterval = TimeSpan.FromMilliseconds(50) })));

        var expected = Enumerable.Range(0, 12).Sum(i => 200 + i);
        var timeline = await f.Recorder.GetTimelineAsync(id);
        Assert.Equal(BatchStatus.Finished, timeline[0].Status);
        Assert.Equal(expected, timeline[0].InsertCount);
        Assert.Equal(expected, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(expected, await f.ScalarAsync("SELECT count(DISTINCT entity_id) FROM plants"));
        Assert.Equal(12, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}'"));
        Assert.Single(timeline, r => r.Status == BatchStatus.Finished);
        Assert.Matches(@"INFO \[w\d\] Loaded ", timeline[0].Log);
        Assert.Contains($"Finished batch job. Inserted: {expected}, Invalid: 0", timeline[0].Log, StringComparison.Ordinal);

        // Every stream's lines survive the status changes other workers make at the same time (one each per file),
        // and each file's "Loaded" line commits with the file, so the finished record already holds all of them.
        var lines = (await f.Recorder.GetBatchAsync(id)).Log!.Split('\n');
        Assert.Equal(12, lines.Count(l => l.Contains("] Reading file ", StringComparison.Ordinal)));
        Assert.Equal(12, timeline[0].Log!.Split('\n').Count(l => l.Contains("] Loaded ", StringComparison.Ordinal)));
        Assert.Contains("Finished batch job", lines[^1], StringComparison.Ordinal);
        Assert.Single(lines, l => l.Contains("] Starting batch job", StringComparison.Ordinal));
        Assert.Equal(lines.Length, lines.Distinct().Count());

        // Each worker that took a file says once, before its first file, how it loads and where to.
        var database = new Npgsql.NpgsqlConnectionStringBuilder(f.ConnectionString).Database;
        var workers = lines.Where(l => l.Contains("] Reading file ", StringComparison.Ordinal)).Select(WorkerOf).Distinct().ToList();
        Assert.NotEmpty(workers);
        foreach (var worker in workers)
        {
            var own = lines.Where(l => WorkerOf(l) == worker).ToList();
            Assert.Single(own, l => l.EndsWith($"INFO [{worker}] Using 2 parallel streams", StringComparison.Ordinal));
            Assert.Single(own, l => l.Contains($"INFO [{worker}] Connected to database '{database}' at ", StringComparison.Ordinal) && l.Contains(" with user '", StringComparison.Ordinal));
            Assert.True(
                own.FindIndex(l => l.Contains("Connected to database", StringComparison.Ordinal)) < own.FindIndex(l => l.Contains("] Reading file ", StringComparison.Ordinal)),
                $"{worker} read a file before it said where it loads to");
        }
    }

    [SkippableFact]
    public async Task The_timeline_of_a_queued_batch_grows_while_workers_load_it()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await Infrastructure.LoopbackHttpServer.StartAsync();
        server.AddFile("/slow.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(20_000)), new Infrastructure.HttpFault { ChunkSize = 64 * 1024, ChunkDelay = TimeSpan.FromMilliseconds(100) });
        var quick = f.WriteFile("quick.csv", EngineFixture.Rows(100, 100_000));
        var id = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [quick, server.Url("/slow.csv").ToString()]));

        var worker = f.Engine.RunWorkerAsync(new WorkerOptions { Name = "w", Streams = 2, ExitWhenIdle = true, PollInterval = TimeSpan.FromMilliseconds(50) });
        var growing = new List<StatusRecord>();
        while (!worker.IsCompleted)
        {
            var timeline = await f.Recorder.GetTimelineAsync(id);
            if (timeline[0].Status == BatchStatus.Started && timeline[0].InsertCount > 0)
            {
                growing.Add(timeline[0]);
            }

            await Task.Delay(50);
        }

        await worker;
        var final = await f.Recorder.GetTimelineAsync(id);
        Assert.Equal(BatchStatus.Finished, final[0].Status);
        Assert.Equal(20_100, final[0].InsertCount);
        Assert.NotEmpty(growing);
        Assert.True(growing.Min(r => r.InsertCount) < 20_100, "no snapshot showed the batch part-way");
        Assert.Contains(final, r => r.Status == BatchStatus.Started && r.InsertCount > 0 && r.InsertCount < 20_100);
    }

    [SkippableFact]
    public async Task A_queued_file_keeps_its_credentials_only_until_it_is_done_failed_or_its_batch_ends()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Source = EngineFixture.FastOptions.Source with { MaxAttempts = 1 } });
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/ok.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(10)));
        string Secret(string path) => server.Url(path).ToString().Replace("http://", "http://user:PWSECRET@", StringComparison.Ordinal) + "?X-Amz-Signature=SIGSECRET";
        async Task<long> Secrets(Guid id) => await f.ScalarAsync($"SELECT count(*) FROM ingest.work_file WHERE batch_id = '{id}' AND (location LIKE '%SECRET%')");

        var loaded = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [Secret("/ok.csv")]));
        var aborted = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [Secret("/ok.csv")]));
        Assert.Equal(1, await Secrets(aborted)); // A worker needs it to fetch the file.
        Assert.Equal(AbortOutcome.AbortedNow, await f.Engine.AbortAsync(aborted));
        var failed = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [Secret("/missing.csv"), Secret("/ok.csv?second")]));

        await f.Engine.RunWorkerAsync(new WorkerOptions { Name = "w", Streams = 1, ExitWhenIdle = true, PollInterval = TimeSpan.FromMilliseconds(50) });

        Assert.Equal(BatchStatus.Finished, (await f.Recorder.GetBatchAsync(loaded)).Status);
        Assert.Equal(BatchStatus.Error, (await f.Recorder.GetBatchAsync(failed)).Status);
        foreach (var id in (Guid[])[loaded, aborted, failed])
        {
            Assert.Equal(0, await Secrets(id));
        }

        Assert.Equal(["dropped", "failed"], await f.RowsAsync($"SELECT state FROM ingest.work_file WHERE batch_id = '{failed}' ORDER BY position DESC"));
        Assert.Equal(["dropped"], await f.RowsAsync($"SELECT state FROM ingest.work_file WHERE batch_id = '{aborted}'"));
    }

    [SkippableFact]
    public async Task The_credentials_of_a_dead_workers_claim_are_dropped_when_its_batch_ends_and_a_live_claim_keeps_them()
    {
        await using var f = await EngineFixture.CreateAsync();
        string[] urls = ["http://user:PWSECRET@127.0.0.1:9/a.csv?X-Amz-Signature=SIGSECRET", "http://user:PWSECRET@127.0.0.1:9/b.csv?X-Amz-Signature=SIGSECRET"];
        var id = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, urls));
        await f.ScalarAsync($"UPDATE ingest.work_file SET state = 'claimed', worker = 'gone:1', lease_until = now() - interval '1 minute' WHERE batch_id = '{id}' AND file_key LIKE '%/a.csv' RETURNING 1");
        await f.ScalarAsync($"UPDATE ingest.work_file SET state = 'claimed', worker = 'alive:2', lease_until = now() + interval '1 minute' WHERE batch_id = '{id}' AND file_key LIKE '%/b.csv' RETURNING 1");

        Assert.Equal(AbortOutcome.AbortedNow, await f.Engine.AbortAsync(id));

        Assert.Equal(
            ["dropped||http://127.0.0.1:9/a.csv", "claimed|alive:2|" + urls[1]],
            await f.RowsAsync($"SELECT state || '|' || coalesce(worker, '') || '|' || location FROM ingest.work_file WHERE batch_id = '{id}' ORDER BY position"));
    }

    [SkippableFact]
    public async Task A_long_running_worker_keeps_the_settings_of_recent_batches_only_and_loads_every_batch()
    {
        await using var f = await EngineFixture.CreateAsync();
        const int Batches = 80;
        var ids = new List<Guid>();
        for (var i = 0; i < Batches; i++)
        {
            var file = f.WriteFile($"b{i}.csv", EngineFixture.Rows(2, i * 10));
            ids.Add(await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [file])));
        }

        var worker = new Ingest.Engine.Queue.QueueWorker(f.Engine, f.DataSource, f.Recorder, new WorkerOptions { Name = "long", Streams = 1, ExitWhenIdle = true, PollInterval = TimeSpan.FromMilliseconds(50) });
        await worker.RunAsync(CancellationToken.None);

        Assert.InRange(worker.CachedBatchCount, 1, 64);
        Assert.Equal(Batches * 2, await f.ScalarAsync("SELECT count(*) FROM plants"));
        foreach (var id in ids)
        {
            Assert.Equal(BatchStatus.Finished, (await f.Recorder.GetBatchAsync(id)).Status);
        }
    }

    private static string WorkerOf(string line)
    {
        var open = line.IndexOf('[', StringComparison.Ordinal);
        var close = line.IndexOf(']', StringComparison.Ordinal);
        return open >= 0 && close > open ? line[(open + 1)..close] : "";
    }

    [SkippableFact]
    public async Task Lines_appended_while_a_worker_records_a_status_are_kept()
    {
        await using var f = await EngineFixture.CreateAsync();
        var files = Enumerable.Range(0, 3).Select(i => f.WriteFile($"l{i}.csv", EngineFixture.Rows(50, i * 100))).ToArray();
        var id = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, files));
        var appended = 0;
        f.Engine.Hooks = new LoadHooks
        {
            AfterBatchRead = batchId =>
            {
                if (batchId == id)
                {
                    // Another stream or worker logs between this worker's read of the batch and its status write.
                    var n = Interlocked.Increment(ref appended);
                    f.Recorder.AppendLogAsync(id, BatchLog.FormatLine(BatchLogLevel.Info, $"[other] concurrent line {n}", DateTimeOffset.UtcNow)).AsTask().GetAwaiter().GetResult();
                }
            },
        };
        await f.Engine.RunWorkerAsync(new WorkerOptions { Name = "w1", Streams = 1, ExitWhenIdle = true, PollInterval = TimeSpan.FromMilliseconds(50) });

        var batch = await f.Recorder.GetBatchAsync(id);
        Assert.Equal(BatchStatus.Finished, batch.Status);
        Assert.True(appended >= 2, $"the seam ran {appended} times"); // started and finished at least
        for (var n = 1; n <= appended; n++)
        {
            Assert.Contains($"[other] concurrent line {n}", batch.Log, StringComparison.Ordinal);
        }

        Assert.Contains("[w1] Finished batch job. Inserted: 150, Invalid: 0", (await f.Recorder.GetTimelineAsync(id))[0].Log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task An_abort_reaches_every_worker_and_only_whole_files_stay()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        var urls = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            server.AddFile($"/a{i}.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(4000, i * 10_000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(50), ChunkSize = 8192 });
            urls.Add(server.Url($"/a{i}.csv").ToString());
        }

        var id = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, urls));
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(1, 2).Select(w => f.Engine.RunWorkerAsync(new WorkerOptions { Name = $"w{w}", Streams = 1, PollInterval = TimeSpan.FromMilliseconds(50) }, stop.Token)).ToArray();
        await PostgresFaultTests.WaitUntilAsync(async () => await f.ScalarAsync("SELECT count(*) FROM ingest.work_file WHERE state = 'claimed'") == 2);

        var outcome = await f.Engine.AbortAsync(id);
        await PostgresFaultTests.WaitUntilAsync(async () => await f.ScalarAsync("SELECT count(*) FROM ingest.work_file WHERE state = 'claimed'") == 0);
        await stop.CancelAsync();
        await Task.WhenAll(workers.Select(w => w.ContinueWith(_ => { }, TaskScheduler.Default)));

        Assert.Equal(AbortOutcome.AbortedNow, outcome);
        Assert.Equal(BatchStatus.Aborted, (await f.Recorder.GetBatchAsync(id)).Status);
        Assert.Equal(0, await f.ScalarAsync("SELECT count(*) % 4000 FROM plants"));
        Assert.Equal(await f.ScalarAsync($"SELECT coalesce(sum(rows_inserted), 0) FROM ingest.import_file WHERE batch_id = '{id}'"), await f.ScalarAsync("SELECT count(*) FROM plants"));
    }

    [SkippableFact]
    public async Task A_worker_killed_with_SIGKILL_while_holding_a_claim_loses_its_file_to_another_worker()
    {
        var cli = BuiltApp.Cli;
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        var urls = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            server.AddFile($"/k{i}.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(1500, i * 10_000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(50), ChunkSize = 4096 });
            urls.Add(server.Url($"/k{i}.csv").ToString());
        }

        var id = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, urls));
        string[] args = ["worker", "--connection", f.ConnectionString, "--streams", "2", "--lease-seconds", "2", "--exit-when-idle"];
        var workers = Enumerable.Range(0, 3).Select(_ => CrashResumeTests.Start(cli, args)).ToList();
        var pids = workers.Select(w => w.Id).ToList();
        long victimPid = 0;
        try
        {
            // The victim is whichever worker process holds a claim first.
            await PostgresFaultTests.WaitUntilAsync(async () =>
                (victimPid = await f.ScalarAsync("SELECT coalesce(max(split_part(worker, ':', 2)::bigint), 0) FROM ingest.work_file WHERE state = 'claimed'")) > 0);
            var victim = workers.Single(w => w.Id == victimPid);
            victim.Kill(entireProcessTree: true);
            await victim.WaitForExitAsync();
            await PostgresFaultTests.WaitUntilAsync(async () => (await f.Recorder.GetBatchAsync(id)).Status.IsTerminal());
        }
        finally
        {
            foreach (var worker in workers)
            {
                if (!worker.HasExited)
                {
                    worker.Kill(entireProcessTree: true);
                }

                worker.Dispose();
            }
        }

        var batch = await f.Recorder.GetBatchAsync(id);
        Assert.Equal(BatchStatus.Finished, batch.Status);
        Assert.Equal(18_000, batch.InsertCount);
        Assert.Equal(18_000, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(18_000, await f.ScalarAsync("SELECT count(DISTINCT entity_id) FROM plants"));
        Assert.Equal(12, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}'"));
        Assert.Contains($"Fetching url", batch.Log, StringComparison.Ordinal);
        Assert.True(pids.Count(pid => batch.Log!.Contains($":{pid}]", StringComparison.Ordinal)) >= 2, "the log names the workers");
        Assert.Matches($@"WARN \[[^\]]+\] Taking over {Regex.Escape(server.Url("/k").ToString())}\d+\.csv from worker [^ ]+:{victimPid}, whose lease ran out", batch.Log);
    }

    [SkippableFact]
    public async Task Workers_starting_and_stopping_during_a_batch_lose_nothing()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        var urls = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            server.AddFile($"/s{i}.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(2000, i * 10_000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(20), ChunkSize = 16 * 1024 });
            urls.Add(server.Url($"/s{i}.csv").ToString());
        }

        var id = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, urls));
        using var firstStop = new CancellationTokenSource();
        var first = f.Engine.RunWorkerAsync(new WorkerOptions { Name = "first", Streams = 2, PollInterval = TimeSpan.FromMilliseconds(50) }, firstStop.Token);
        await PostgresFaultTests.WaitUntilAsync(async () => await f.ScalarAsync("SELECT count(*) FROM ingest.work_file WHERE state = 'claimed'") > 0);
        await firstStop.CancelAsync();
        await first.ContinueWith(_ => { }, TaskScheduler.Default);
        await Task.WhenAll(
            f.Engine.RunWorkerAsync(new WorkerOptions { Name = "second", Streams = 2, ExitWhenIdle = true, PollInterval = TimeSpan.FromMilliseconds(50) }),
            f.Engine.RunWorkerAsync(new WorkerOptions { Name = "third", Streams = 1, ExitWhenIdle = true, PollInterval = TimeSpan.FromMilliseconds(50) }));

        var batch = await f.Recorder.GetBatchAsync(id);
        Assert.Equal(BatchStatus.Finished, batch.Status);
        Assert.Equal(16_000, batch.InsertCount);
        Assert.Equal(16_000, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(16_000, await f.ScalarAsync("SELECT count(DISTINCT entity_id) FROM plants"));
    }

    [SkippableFact]
    public async Task A_declaratively_partitioned_table_is_loaded_through_the_same_copy_path()
    {
        await using var f = await EngineFixture.CreateAsync();
        await f.ScalarAsync("""
            CREATE TABLE plants (entity_id uuid NOT NULL, "timestamp" timestamptz NOT NULL, longitude double precision NOT NULL, latitude double precision NOT NULL,
                altitude double precision, metadata_id uuid, "plantHeight" bigint NOT NULL, "plantIPv4" inet, "plantCultivar" text, delta integer)
                PARTITION BY RANGE ("timestamp");
            CREATE TABLE plants_2023 PARTITION OF plants FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
            CREATE TABLE plants_2024 PARTITION OF plants FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
            SELECT 0
            """);
        var file = f.WriteFile("p.csv",
            "3c1243c4-a532-4487-9662-5655a23dec3a,2023-06-01T00:00:00Z,1,2,,5,,,\n" +
            "3c1243c4-a532-4487-9662-5655a23dec3a,2024-06-01T00:00:00Z,1,2,,5,,,\n" +
            "3c1243c4-a532-4487-9662-5655a23dec3a,2024-07-01T00:00:00Z,1,2,,5,,,\n");

        var result = await f.ImportAsync([file]);

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(1, await f.ScalarAsync("SELECT count(*) FROM plants_2023"));
        Assert.Equal(2, await f.ScalarAsync("SELECT count(*) FROM plants_2024"));
    }

    [SkippableFact]
    public async Task Submitting_an_existing_batch_id_is_refused_and_leaves_no_queue_rows()
    {
        await using var f = await EngineFixture.CreateAsync();
        var done = await f.ImportAsync([f.WriteFile("a.csv", EngineFixture.Rows(3))]);
        var other = f.WriteFile("b.csv", EngineFixture.Rows(3, 100));

        var exit = await Ingest.Cli.CliApp.RunAsync(
            ["submit", "--dataset", "plants", "--schema", Copy.RowEncoderTests.Plants, "--format", Copy.RowEncoderTests.PlantsFormat,
             "--batch-id", done.BatchId.ToString(), "--connection", f.ConnectionString, other],
            new StringWriter(),
            new StringWriter());

        Assert.Equal(2, exit);
        Assert.Equal(0, await f.ScalarAsync("SELECT count(*) FROM ingest.work_file"));
        Assert.Equal(BatchStatus.Finished, (await f.Recorder.GetBatchAsync(done.BatchId)).Status);
    }
}
