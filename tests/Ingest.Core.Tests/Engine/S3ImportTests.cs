using System.Text;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Core.Tests.Sources;
using Ingest.Core.Tests.Sources.S3;
using Ingest.Sources.S3;
using Ingest.Status;

namespace Ingest.Core.Tests.Engine;

/// <summary>Batches of objects in a real S3-compatible store (s3rver on loopback), through the engine, the queue and the CLI.</summary>
public sealed class S3ImportTests
{
    [SkippableFact]
    public async Task A_glob_over_a_prefix_loads_each_matching_object_once_gz_and_zst_alike_and_the_record_keeps_the_pattern()
    {
        var s3 = await TestS3.GetServerAsync();
        var bucket = await s3.CreateBucketAsync("glob");
        await s3.PutAsync(bucket, "data/2024/a.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(100)));
        await s3.PutAsync(bucket, "data/2024/06/b.csv.gz", EngineFixture.Gzip(EngineFixture.Rows(200, 1000)));
        await s3.PutAsync(bucket, "data/c.csv.zst", ZstdSourceTests.Zstd(Encoding.UTF8.GetBytes(EngineFixture.Rows(300, 2000))));
        await s3.PutAsync(bucket, "data/2024/skip.txt", Encoding.UTF8.GetBytes("not,a,csv\n"));
        await s3.PutAsync(bucket, "other/d.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(5, 3000)));
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Source = S3TestKit.Options(s3.Endpoint) });
        var pattern = $"s3://{bucket}/data/**/*.csv*";

        var result = await f.ImportAsync([pattern]);

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(600, result.InsertCount);
        Assert.Equal(600, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(
            [$"s3://{bucket}/data/2024/06/b.csv.gz", $"s3://{bucket}/data/2024/a.csv", $"s3://{bucket}/data/c.csv.zst"],
            await f.RowsAsync($"SELECT file_key FROM ingest.import_file WHERE batch_id = '{result.BatchId}' ORDER BY file_key"));
        Assert.Contains($"INFO Listed 3 object(s) matching {pattern}", result.Log, StringComparison.Ordinal);
        Assert.Contains($"INFO Fetching url s3://{bucket}/data/c.csv.zst", result.Log, StringComparison.Ordinal);
        var batch = await f.Recorder.GetBatchAsync(result.BatchId);
        Assert.Equal([pattern], batch.Source!.Value.GetProperty("urls").EnumerateArray().Select(u => u.GetString()));

        // The dry run's log counts the sources given, then the files the pattern listed.
        var dryRun = await f.Engine.DryRunAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [pattern]));
        Assert.Equal("success", dryRun.Status);
        Assert.Contains("INFO Starting dry run of 1 source(s), first ", dryRun.Log, StringComparison.Ordinal);
        Assert.Contains("INFO Checking 3 file(s)", dryRun.Log, StringComparison.Ordinal);
        Assert.Equal(3, dryRun.Report.Split("Valid rows:").Length - 1);
    }

    [SkippableFact]
    public async Task A_dfi_s3_source_loads_its_prefix_and_glob_and_the_record_shows_bucket_prefix_and_glob()
    {
        var s3 = await TestS3.GetServerAsync();
        var bucket = await s3.CreateBucketAsync("dfi");
        await s3.PutAsync(bucket, "sample-data/x/1.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(10)));
        await s3.PutAsync(bucket, "sample-data/2.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(20, 100)));
        await s3.PutAsync(bucket, "elsewhere/3.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(30, 200)));
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Source = S3TestKit.Options(s3.Endpoint) });
        var request = new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [])
        {
            S3 = new S3BatchSource { Bucket = bucket, Prefix = "sample-data", Glob = "**/*.csv" },
        };

        var result = await f.Engine.ImportAsync(request);

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(30, result.InsertCount);
        var source = (await f.Recorder.GetBatchAsync(result.BatchId)).Source!.Value;
        Assert.Equal($"s3://{bucket}", source.GetProperty("s3").GetProperty("bucket").GetString());
        Assert.Equal("sample-data", source.GetProperty("s3").GetProperty("prefix").GetString());
        Assert.Equal("**/*.csv", source.GetProperty("s3").GetProperty("glob").GetString());
        Assert.False(source.TryGetProperty("urls", out _));
    }

    [SkippableFact]
    public async Task An_aborted_s3_batch_keeps_whole_objects_and_its_resume_loads_only_the_rest_of_what_it_first_listed()
    {
        var s3 = await TestS3.GetServerAsync();
        var bucket = await s3.CreateBucketAsync("resume");
        await s3.PutAsync(bucket, "in/0-small.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(50)));
        await s3.PutAsync(bucket, "in/1-big.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(300_000, 1000)));
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 1, Source = S3TestKit.Options(s3.Endpoint) });
        var pattern = $"s3://{bucket}/in/*.csv";
        var id = Guid.NewGuid();

        // One stream: the small object loads, then the big one is in flight when the abort comes.
        var run = f.ImportAsync([pattern], id);
        await PostgresFaultTests.WaitUntilAsync(async () => (await f.Recorder.TryGetBatchAsync(id))?.InsertCount > 50);
        await f.Engine.AbortAsync(id);
        var aborted = await run;

        Assert.Equal(BatchStatus.Aborted, aborted.Status);
        Assert.Equal(50, await f.ScalarAsync("SELECT count(*) FROM plants"));

        // An object added since is not the batch's: the batch is what its pattern matched when it started.
        await s3.PutAsync(bucket, "in/2-late.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(7, 900_000)));
        var resumed = await f.ImportAsync([pattern], id);

        Assert.Equal(BatchStatus.Finished, resumed.Status);
        Assert.Equal(300_050, resumed.InsertCount);
        Assert.Equal(300_050, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(2, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}'"));
        Assert.Contains("Resuming batch job: 1 of 2 files already loaded, 1 to load", resumed.Log, StringComparison.Ordinal);
        Assert.Contains($"Using the 2 object(s) {pattern} matched when the batch first started", resumed.Log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_submitted_s3_pattern_is_listed_once_at_submit_and_workers_load_what_it_matched_then()
    {
        var s3 = await TestS3.GetServerAsync();
        var bucket = await s3.CreateBucketAsync("queue");
        for (var i = 0; i < 12; i++)
        {
            await s3.PutAsync(bucket, $"q/part-{i}.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(100, i * 1000)));
        }

        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Source = S3TestKit.Options(s3.Endpoint) });
        var id = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [$"s3://{bucket}/q/part-*.csv"]));
        await s3.PutAsync(bucket, "q/part-99.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(100, 99_000)));

        await Task.WhenAll(Enumerable.Range(1, 2).Select(w =>
            f.Engine.RunWorkerAsync(new WorkerOptions { Name = $"w{w}", Streams = 2, ExitWhenIdle = true, PollInterval = TimeSpan.FromMilliseconds(50) })));

        var batch = await f.Recorder.GetBatchAsync(id);
        Assert.Equal(BatchStatus.Finished, batch.Status);
        Assert.Equal(1200, batch.InsertCount);
        Assert.Equal(1200, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(
            Enumerable.Range(0, 12).Select(i => $"s3://{bucket}/q/part-{i}.csv"),
            await f.RowsAsync($"SELECT file_key FROM ingest.work_file WHERE batch_id = '{id}' ORDER BY position"));
    }

    [SkippableFact]
    public async Task A_submitted_batch_keeps_its_listing_so_a_resume_by_its_id_loads_only_what_was_listed_at_submit()
    {
        var s3 = await TestS3.GetServerAsync();
        var bucket = await s3.CreateBucketAsync("subres");
        await s3.PutAsync(bucket, "in/0.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(50)));
        await s3.PutAsync(bucket, "in/1.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(60, 1000)));
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Source = S3TestKit.Options(s3.Endpoint) });
        var pattern = $"s3://{bucket}/in/*.csv";

        // Submitted, then run by 'ingest import --batch-id' (or the API's PUT with the id) after an object appeared.
        var id = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [pattern]));
        await s3.PutAsync(bucket, "in/2-late.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(7, 900_000)));
        var resumed = await f.ImportAsync([pattern], id);

        Assert.True(resumed.Status == BatchStatus.Finished, resumed.Log);
        Assert.Equal(110, resumed.InsertCount);
        Assert.Equal(110, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(
            [$"s3://{bucket}/in/0.csv", $"s3://{bucket}/in/1.csv"],
            await f.RowsAsync($"SELECT location FROM ingest.import_listing WHERE batch_id = '{id}' ORDER BY position"));
        Assert.Equal(2, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}'"));
        Assert.Contains($"Using the 2 object(s) {pattern} matched when the batch first started", resumed.Log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_resume_that_leaves_out_the_pattern_is_refused_naming_the_objects_it_matched_that_are_not_loaded()
    {
        var s3 = await TestS3.GetServerAsync();
        var bucket = await s3.CreateBucketAsync("leftout");
        await s3.PutAsync(bucket, "in/a.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(10)));
        await s3.PutAsync(bucket, "in/b.csv", Encoding.UTF8.GetBytes("\"unterminated,\n"));
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 1, Source = S3TestKit.Options(s3.Endpoint) });
        var id = Guid.NewGuid();
        var first = await f.ImportAsync([$"s3://{bucket}/in/*.csv"], id);
        Assert.Equal(BatchStatus.Error, first.Status);

        // Resumed with one object's key only: the other object the pattern matched would never load.
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => f.ImportAsync([$"s3://{bucket}/in/a.csv"], id));

        Assert.Contains($"s3://{bucket}/in/b.csv", refused.Message, StringComparison.Ordinal);
        Assert.Contains("give that pattern again", refused.Message, StringComparison.Ordinal);
        Assert.Equal(BatchStatus.Error, (await f.Recorder.GetBatchAsync(id)).Status);
    }

    [SkippableFact]
    public async Task No_access_key_secret_or_session_token_reaches_a_log_a_record_or_any_ingest_table()
    {
        const string IssuedSecret = "LEAKCHECK-ISSUED-SECRET-3";
        const string IssuedToken = "LEAKCHECK-ISSUED-TOKEN-3";
        var s3 = await TestS3.GetServerAsync();
        var bucket = await s3.CreateBucketAsync("secret");
        foreach (var folder in (string[])["s", "r"])
        {
            await s3.PutAsync(bucket, $"{folder}/ok.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(10)));
            await s3.PutAsync(bucket, $"{folder}/bad.csv", Encoding.UTF8.GetBytes("\"unterminated,\n"));
        }

        // The role's batches read with what STS hands out: s3rver's key with a secret and a session token of their own.
        await using var sts = await FakeSts.StartAsync();
        sts.Issued = (S3rverServer.AccessKey, IssuedSecret, IssuedToken);
        var lines = new List<string>();
        var source = S3TestKit.Options(s3.Endpoint);
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with
        {
            Source = source with { S3 = source.S3 with { StsEndpoint = sts.Endpoint } },
            OnLogLine = (_, _, line) => { lock (lines) { lines.Add(line); } },
        });
        var asRole = new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [])
        {
            S3 = new S3BatchSource { Bucket = bucket, Prefix = "r", Glob = "*.csv", RoleArn = "arn:aws:iam::123456789012:role/importer" },
        };

        var imported = await f.ImportAsync([$"s3://{bucket}/s/*.csv"]);
        var importedAsRole = await f.Engine.ImportAsync(asRole);
        var dryRunAsRole = await f.Engine.DryRunAsync(asRole);
        var queued = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [$"s3://{bucket}/s/**"]));
        var queuedAsRole = await f.Engine.SubmitAsync(asRole);
        await f.Engine.RunWorkerAsync(new WorkerOptions { Name = "w", Streams = 1, ExitWhenIdle = true, PollInterval = TimeSpan.FromMilliseconds(50) });

        Assert.Equal(BatchStatus.Error, imported.Status);
        Assert.Equal(BatchStatus.Error, importedAsRole.Status);
        Assert.Equal(BatchStatus.Error, (await f.Recorder.GetBatchAsync(queued)).Status);
        Assert.Equal(BatchStatus.Error, (await f.Recorder.GetBatchAsync(queuedAsRole)).Status);
        Assert.True(sts.Requests.Count >= 4, $"{sts.Requests.Count} AssumeRole calls"); // the import, the dry run, the submit and the worker
        var everything = new StringBuilder().AppendJoin('\n', lines)
            .Append(imported.Log).Append(imported.Error).Append(importedAsRole.Log).Append(importedAsRole.Error)
            .Append(dryRunAsRole.Report).Append(dryRunAsRole.Log);
        var tables = await f.RowsAsync("SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = 'ingest' ORDER BY tablename");
        Assert.Superset(
            new HashSet<string> { "ingest.import_batch", "ingest.import_batch_status", "ingest.import_chunk", "ingest.import_file", "ingest.import_listing", "ingest.work_batch", "ingest.work_file" },
            new HashSet<string>(tables));
        foreach (var table in tables)
        {
            everything.AppendJoin('\n', await f.RowsAsync($"SELECT t::text FROM {table} t"));
        }

        var text = everything.ToString();
        Assert.Contains($"s3://{bucket}/s/bad.csv line 1: unterminated quoted field", text, StringComparison.Ordinal);
        Assert.Contains($"s3://{bucket}/r/bad.csv line 1: unterminated quoted field", text, StringComparison.Ordinal);
        foreach (var forbidden in (string[])[S3rverServer.AccessKey, S3rverServer.SecretKey, IssuedSecret, IssuedToken, "Credential=", "X-Amz-Security-Token", "AWS4-HMAC-SHA256"])
        {
            Assert.DoesNotContain(forbidden, text, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("Signature", text, StringComparison.OrdinalIgnoreCase);
    }
}
