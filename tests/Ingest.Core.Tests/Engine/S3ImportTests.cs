using System.Text;
using Ingest.Core.Tests.Copy;
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
    public async Task The_cli_reads_s3_with_the_standard_aws_environment_and_refuses_a_pattern_matching_nothing_with_exit_2()
    {
        var cli = BuiltApp.Cli;
        var s3 = await TestS3.GetServerAsync();
        var bucket = await s3.CreateBucketAsync("cli");
        await s3.PutAsync(bucket, "in/a.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(40)));
        await s3.PutAsync(bucket, "in/b.csv.gz", EngineFixture.Gzip(EngineFixture.Rows(60, 100)));
        await using var f = await EngineFixture.CreateAsync();
        string[] import = ["import", "--dataset", "plants", "--schema", RowEncoderTests.Plants, "--format", RowEncoderTests.PlantsFormat, "--connection", f.ConnectionString];
        var nothing = Guid.NewGuid();

        var (refused, _, refusal) = await RunCliAsync(cli, s3, [.. import, "--batch-id", nothing.ToString(), $"s3://{bucket}/in/*.parquet"]);
        var (loaded, id, _) = await RunCliAsync(cli, s3, [.. import, $"s3://{bucket}/in/*"]);

        Assert.Equal(2, refused);
        Assert.True(refusal.Contains($"s3://{bucket}/in/*.parquet: the pattern matches no object", StringComparison.Ordinal), refusal);
        Assert.Null(await f.Recorder.TryGetBatchAsync(nothing));
        Assert.Equal(0, loaded);
        var batch = await f.Recorder.GetBatchAsync(Guid.Parse(id.Trim()));
        Assert.Equal(BatchStatus.Finished, batch.Status);
        Assert.Equal(100, batch.InsertCount);
        Assert.Contains($"Fetching url s3://{bucket}/in/b.csv.gz", batch.Log, StringComparison.Ordinal);
    }

    /// <summary>Runs the CLI in a process of its own with the AWS environment a user sets for an S3-compatible store.</summary>
    private static async Task<(int Exit, string Out, string Error)> RunCliAsync(string cli, S3rverServer s3, string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(cli);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["AWS_ENDPOINT_URL"] = s3.Endpoint.ToString();
        start.Environment["AWS_ACCESS_KEY_ID"] = S3rverServer.AccessKey;
        start.Environment["AWS_SECRET_ACCESS_KEY"] = S3rverServer.SecretKey;
        start.Environment.Remove("AWS_PROFILE");
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }

    [SkippableFact]
    public async Task No_access_key_or_secret_reaches_a_log_a_record_the_ledger_the_listing_or_the_queue()
    {
        var s3 = await TestS3.GetServerAsync();
        var bucket = await s3.CreateBucketAsync("secret");
        await s3.PutAsync(bucket, "s/ok.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(10)));
        await s3.PutAsync(bucket, "s/bad.csv", Encoding.UTF8.GetBytes("\"unterminated,\n"));
        var lines = new List<string>();
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Source = S3TestKit.Options(s3.Endpoint), OnLogLine = (_, _, line) => { lock (lines) { lines.Add(line); } } });

        var imported = await f.ImportAsync([$"s3://{bucket}/s/*.csv"]);
        var queued = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [$"s3://{bucket}/s/**"]));
        await f.Engine.RunWorkerAsync(new WorkerOptions { Name = "w", Streams = 1, ExitWhenIdle = true, PollInterval = TimeSpan.FromMilliseconds(50) });

        Assert.Equal(BatchStatus.Error, imported.Status);
        Assert.Equal(BatchStatus.Error, (await f.Recorder.GetBatchAsync(queued)).Status);
        var everything = new StringBuilder().AppendJoin('\n', lines).Append(imported.Log).Append(imported.Error);
        foreach (var table in (string[])["ingest.import_batch", "ingest.import_batch_status", "ingest.import_file", "ingest.import_listing", "ingest.work_file", "ingest.work_batch"])
        {
            everything.AppendJoin('\n', await f.RowsAsync($"SELECT t::text FROM {table} t"));
        }

        Assert.Contains($"s3://{bucket}/s/bad.csv line 1: unterminated quoted field", everything.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(S3rverServer.AccessKey, everything.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(S3rverServer.SecretKey, everything.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Signature", everything.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Credential=", everything.ToString(), StringComparison.Ordinal);
    }
}
