using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Ingest.Cli;
using Ingest.Core.Tests.Copy;
using Ingest.Core.Tests.Engine;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Status;

namespace Ingest.Core.Tests.Cli;

/// <summary>
/// The <c>ingest</c> commands on s3:// sources, each run as a process of its own with the AWS environment a user sets
/// (the test process's own environment is left alone), against s3rver on loopback.
/// </summary>
public sealed class S3CliTests
{
    private const string RefusedKey = "AKIACLIREFUSED000001";
    private const string RefusedSecret = "cli-refused-secret-value";

    private static string[] Import(EngineFixture f, string command = "import") =>
        [command, "--dataset", "plants", "--schema", RowEncoderTests.Plants, "--format", RowEncoderTests.PlantsFormat, "--connection", f.ConnectionString];

    /// <summary>s3rver's key and, unless <paramref name="endpoint"/> is false, its endpoint in AWS_ENDPOINT_URL.</summary>
    private static Dictionary<string, string?> Aws(S3rverServer s3, bool endpoint = true, string key = S3rverServer.AccessKey, string secret = S3rverServer.SecretKey) => new()
    {
        ["AWS_ENDPOINT_URL"] = endpoint ? s3.Endpoint.ToString() : null,
        ["AWS_ACCESS_KEY_ID"] = key,
        ["AWS_SECRET_ACCESS_KEY"] = secret,
    };

    // Never skipped for want of the CLI: BuiltApp builds it when it is not next to the tests.
    private static string Cli() => BuiltApp.Cli;

    [SkippableFact]
    public async Task The_cli_reads_s3_with_the_standard_aws_environment_and_refuses_a_pattern_matching_nothing_with_exit_2()
    {
        var cli = Cli();
        var s3 = await TestS3.GetServerAsync();
        var bucket = await s3.CreateBucketAsync("cli");
        await s3.PutAsync(bucket, "in/a.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(40)));
        await s3.PutAsync(bucket, "in/b.csv.gz", EngineFixture.Gzip(EngineFixture.Rows(60, 100)));
        await using var f = await EngineFixture.CreateAsync();
        var nothing = Guid.NewGuid();

        var (refused, _, refusal) = await RunAsync(cli, Aws(s3), [.. Import(f), "--batch-id", nothing.ToString(), $"s3://{bucket}/in/*.parquet"]);
        var (loaded, id, _) = await RunAsync(cli, Aws(s3), [.. Import(f), $"s3://{bucket}/in/*"]);

        Assert.Equal(2, refused);
        Assert.True(refusal.Contains($"s3://{bucket}/in/*.parquet: the pattern matches no object", StringComparison.Ordinal), refusal);
        Assert.Null(await f.Recorder.TryGetBatchAsync(nothing));
        Assert.Equal(0, loaded);
        var batch = await f.Recorder.GetBatchAsync(Guid.Parse(id.Trim()));
        Assert.Equal(BatchStatus.Finished, batch.Status);
        Assert.Equal(100, batch.InsertCount);
        Assert.Contains($"Fetching url s3://{bucket}/in/b.csv.gz", batch.Log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task The_s3_endpoint_flag_takes_import_dry_run_submit_and_worker_to_the_store_and_submit_counts_the_objects()
    {
        var cli = Cli();
        var s3 = await TestS3.GetServerAsync();
        var bucket = await s3.CreateBucketAsync("flag");
        for (var i = 0; i < 3; i++)
        {
            await s3.PutAsync(bucket, $"in/part-{i}.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(10 + i, i * 1000)));
        }

        await using var f = await EngineFixture.CreateAsync();
        var pattern = $"s3://{bucket}/in/*.csv";
        var noEndpoint = Aws(s3, endpoint: false);
        string[] flag = ["--s3-endpoint", s3.Endpoint.ToString()];

        var imported = await RunAsync(cli, noEndpoint, [.. Import(f), .. flag, pattern]);
        var dryRun = await RunAsync(cli, noEndpoint, ["dry-run", "--dataset", "plants", "--schema", RowEncoderTests.Plants, "--format", RowEncoderTests.PlantsFormat, .. flag, pattern]);
        var submitted = await RunAsync(cli, noEndpoint, [.. Import(f, "submit"), .. flag, pattern]);
        var worker = await RunAsync(cli, noEndpoint, ["worker", "--connection", f.ConnectionString, "--exit-when-idle", .. flag]);

        Assert.True(imported.Exit == 0, imported.Error);
        Assert.Equal(33, (await f.Recorder.GetBatchAsync(Guid.Parse(imported.Out.Trim()))).InsertCount);
        Assert.True(dryRun.Exit == 0, dryRun.Error);
        using (var result = JsonDocument.Parse(dryRun.Out))
        {
            Assert.Equal("success", result.RootElement.GetProperty("status").GetString());
            var report = result.RootElement.GetProperty("report").GetString()!;
            Assert.Contains("Valid rows: 10\n", report, StringComparison.Ordinal);
            Assert.Contains("Valid rows: 12\n", report, StringComparison.Ordinal);
        }

        Assert.True(submitted.Exit == 0, submitted.Error);
        var queued = Guid.Parse(submitted.Out.Trim());
        Assert.Contains($"Batch {queued} submitted with 3 file(s)", submitted.Error, StringComparison.Ordinal);
        Assert.True(worker.Exit == 0, worker.Error);
        var batch = await f.Recorder.GetBatchAsync(queued);
        Assert.Equal((BatchStatus.Finished, 33L), (batch.Status, batch.InsertCount));
        Assert.Equal(66, await f.ScalarAsync("SELECT count(*) FROM plants"));
    }

    [SkippableFact]
    public async Task The_external_id_flag_is_sent_when_import_submit_and_the_worker_assume_the_role()
    {
        const string role = "arn:aws:iam::123456789012:role/cli-importer";
        const string externalId = "cli-external-id-7";
        var cli = Cli();
        var s3 = await TestS3.GetServerAsync();
        var bucket = await s3.CreateBucketAsync("extid");
        await s3.PutAsync(bucket, "in/a.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(25)));
        await using var sts = await FakeSts.StartAsync();
        await using var f = await EngineFixture.CreateAsync();
        var environment = new Dictionary<string, string?>
        {
            ["AWS_ENDPOINT_URL_S3"] = s3.Endpoint.ToString(),
            ["AWS_ENDPOINT_URL_STS"] = sts.Endpoint.ToString(),
            ["AWS_ACCESS_KEY_ID"] = "AKIACLIHOSTKEY000001",
            ["AWS_SECRET_ACCESS_KEY"] = "cli-host-secret-value",
        };
        string[] flags = ["--s3-role-arn", role, "--s3-external-id", externalId];

        var imported = await RunAsync(cli, environment, [.. Import(f), .. flags, $"s3://{bucket}/in/*.csv"]);
        var submitted = await RunAsync(cli, environment, [.. Import(f, "submit"), .. flags, $"s3://{bucket}/in/*.csv"]);
        var worker = await RunAsync(cli, environment, ["worker", "--connection", f.ConnectionString, "--exit-when-idle", "--s3-external-id", externalId]);
        var tooShort = await RunAsync(cli, environment, [.. Import(f), "--s3-role-arn", role, "--s3-external-id", "x", $"s3://{bucket}/in/*.csv"]);
        var badCharacters = await RunAsync(cli, environment, [.. Import(f), "--s3-role-arn", role, "--s3-external-id", "id with spaces", $"s3://{bucket}/in/*.csv"]);
        var noRole = await RunAsync(cli, environment, [.. Import(f), "--s3-external-id", externalId, $"s3://{bucket}/in/*.csv"]);

        Assert.True(imported.Exit == 0, imported.Error);
        Assert.True(submitted.Exit == 0, submitted.Error);
        Assert.True(worker.Exit == 0, worker.Error);
        Assert.Equal(25, (await f.Recorder.GetBatchAsync(Guid.Parse(imported.Out.Trim()))).InsertCount);
        var queued = Guid.Parse(submitted.Out.Trim());
        Assert.Equal((BatchStatus.Finished, 25L), ((await f.Recorder.GetBatchAsync(queued)).Status, (await f.Recorder.GetBatchAsync(queued)).InsertCount));
        Assert.Equal(50, await f.ScalarAsync("SELECT count(*) FROM plants"));

        // Every AssumeRole (import's, submit's listing, the worker's for the queued batch) carried the id.
        var sessions = sts.Requests;
        Assert.Equal(2, sessions.Count(r => r.GetValueOrDefault("RoleSessionName") == $"ingest-{queued:D}")); // submit's listing, the worker's read
        Assert.Equal(3, sessions.Count);
        Assert.All(sessions, r => Assert.Equal((role, externalId), (r["RoleArn"], r.GetValueOrDefault("ExternalId"))));

        // Refused before anything runs, without echoing the value.
        Assert.Equal((2, 2, 2), (tooShort.Exit, badCharacters.Exit, noRole.Exit));
        Assert.Contains("--s3-external-id takes 2 to 1,224 of the characters STS accepts", tooShort.Error, StringComparison.Ordinal);
        Assert.Contains("--s3-external-id takes 2 to 1,224 of the characters STS accepts", badCharacters.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("id with spaces", badCharacters.Error, StringComparison.Ordinal);
        Assert.Contains("give the role with --s3-role-arn too", noRole.Error, StringComparison.Ordinal);
        Assert.Equal(3, sts.Requests.Count);
    }

    [SkippableFact]
    public async Task A_missing_bucket_and_refused_credentials_are_exit_2_naming_the_bucket_never_the_access_key_or_secret()
    {
        var cli = Cli();
        var s3 = await TestS3.GetServerAsync();
        var bucket = await s3.CreateBucketAsync("clirefused");
        await s3.PutAsync(bucket, "in/a.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(5)));
        await using var f = await EngineFixture.CreateAsync();
        var missing = $"no-such-bucket-{Guid.NewGuid():N}"[..40];

        var (absentId, refusedId) = (Guid.NewGuid(), Guid.NewGuid());

        var absent = await RunAsync(cli, Aws(s3), [.. Import(f), "--batch-id", absentId.ToString(), $"s3://{missing}/in/*.csv"]);
        var refused = await RunAsync(cli, Aws(s3, key: RefusedKey, secret: RefusedSecret), [.. Import(f), "--batch-id", refusedId.ToString(), $"s3://{bucket}/in/*.csv"]);

        Assert.Equal(2, absent.Exit);
        Assert.True(absent.Error.Contains($"bucket '{missing}'", StringComparison.Ordinal), absent.Error);
        Assert.Equal(2, refused.Exit);
        Assert.True(refused.Error.Contains($"bucket '{bucket}'", StringComparison.Ordinal), refused.Error);
        foreach (var output in (string[])[absent.Error, absent.Out, refused.Error, refused.Out])
        {
            Assert.DoesNotContain(RefusedKey, output, StringComparison.Ordinal);
            Assert.DoesNotContain(RefusedSecret, output, StringComparison.Ordinal);
            Assert.DoesNotContain(S3rverServer.AccessKey, output, StringComparison.Ordinal);
        }

        Assert.Null(await f.Recorder.TryGetBatchAsync(absentId));
        Assert.Null(await f.Recorder.TryGetBatchAsync(refusedId));
    }

    [Fact]
    public async Task Import_help_says_what_the_batch_record_keeps_of_s3_sources()
    {
        var output = new StringWriter();

        var exit = await CliApp.RunAsync(["import", "--help"], output, new StringWriter());

        Assert.Equal(0, exit);
        Assert.Contains("For s3:// sources the batch record keeps the URLs and patterns as given, never a key, secret or token", output.ToString(), StringComparison.Ordinal);
    }

    /// <summary>Runs the CLI in a process of its own, with the AWS variables of this process replaced by <paramref name="environment"/>.</summary>
    private static async Task<(int Exit, string Out, string Error)> RunAsync(string cli, Dictionary<string, string?> environment, string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(cli);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("AWS_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            if (value is not null)
            {
                start.Environment[name] = value;
            }
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }
}
