using System.Text;
using Amazon.Runtime;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Core.Tests.Sources;
using Ingest.Sources.S3;
using Ingest.Status;

namespace Ingest.Core.Tests.Engine;

/// <summary>
/// A batch's role (a DFI <c>source.s3.credentials.RoleArn</c>, or the host's <c>--s3-role-arn</c>) through the engine:
/// import, dry run, submit and queue workers, against s3rver and the fake STS. The host's own key is one s3rver
/// refuses, so an object read at all was read as the role.
/// </summary>
public sealed class S3RoleImportTests
{
    private const string RoleArn = "arn:aws:iam::123456789012:role/importer";
    private const string ExternalId = "dfi-external-id-7";

    private static readonly BasicAWSCredentials HostCredentials = new("AKIAHOSTKEY000000002", "host-secret-value-2");

    /// <summary>The host's options: s3rver, the fake STS, the host's own (refused) key and its external id; no role of its own.</summary>
    private static IngestOptions HostOptions(S3rverServer s3, FakeSts sts) => EngineFixture.FastOptions with
    {
        Source = SourceTestKit.Fast with
        {
            S3 = new S3Settings { Endpoint = s3.Endpoint, StsEndpoint = sts.Endpoint, Credentials = HostCredentials, ExternalId = ExternalId },
        },
    };

    private static IngestOptions WithRole(IngestOptions options) =>
        options with { Source = options.Source with { S3 = options.Source.S3 with { RoleArn = RoleArn } } };

    private static List<IReadOnlyDictionary<string, string>> Sessions(FakeSts sts, Guid batchId) =>
        [.. sts.Requests.Where(r => r.GetValueOrDefault("RoleSessionName") == $"ingest-{batchId:D}")];

    [SkippableFact]
    public async Task A_submitted_batch_keeps_its_role_and_workers_read_its_objects_as_that_role_in_a_session_naming_the_batch()
    {
        var s3 = await TestS3.GetServerAsync();
        var bucket = await s3.CreateBucketAsync("qrole");
        for (var i = 0; i < 4; i++)
        {
            await s3.PutAsync(bucket, $"q/part-{i}.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(50, i * 1000)));
        }

        await using var sts = await FakeSts.StartAsync();
        await using var f = await EngineFixture.CreateAsync(HostOptions(s3, sts));
        await using var submitter = new IngestEngine(f.DataSource, f.Recorder, WithRole(HostOptions(s3, sts)));

        // As the API submits (the DFI source's role), and as 'ingest submit --s3-role-arn' does (the submitting host's).
        var dfi = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants("by_source"), EngineFixture.PlantsFormat, [])
        {
            S3 = new S3BatchSource { Bucket = bucket, Prefix = "q", Glob = "*.csv", RoleArn = RoleArn },
        });
        var flag = await submitter.SubmitAsync(new ImportRequest(EngineFixture.Plants("by_flag"), EngineFixture.PlantsFormat, [$"s3://{bucket}/q/*.csv"]));

        // The workers' host has no role of its own: what it reads, it reads as each batch's.
        await f.Engine.RunWorkerAsync(new WorkerOptions { Name = "w", Streams = 2, ExitWhenIdle = true, PollInterval = TimeSpan.FromMilliseconds(50) });

        foreach (var (id, table) in new[] { (dfi, "by_source"), (flag, "by_flag") })
        {
            var batch = await f.Recorder.GetBatchAsync(id);
            Assert.True(batch.Status == BatchStatus.Finished, batch.Log);
            Assert.Equal(200, batch.InsertCount);
            Assert.Equal(200, await f.ScalarAsync($"SELECT count(*) FROM {table}"));
            Assert.Equal([RoleArn], await f.RowsAsync($"SELECT role_arn FROM ingest.work_batch WHERE batch_id = '{id}'"));

            // Once at submit, to list; once by the worker, for all four objects: its role session is kept with the batch.
            var sessions = Sessions(sts, id);
            Assert.Equal(2, sessions.Count);
            Assert.All(sessions, s => Assert.Equal((RoleArn, ExternalId), (s["RoleArn"], s["ExternalId"])));
        }

        Assert.Equal(4, sts.Requests.Count);
    }

    [SkippableFact]
    public async Task A_read_of_a_role_batch_tried_again_says_so_in_its_log_named_by_the_worker()
    {
        // A batch read as its role has an opener of its own: its retries name the batch themselves.
        var s3 = await TestS3.GetServerAsync();
        var bucket = await s3.CreateBucketAsync("qretry");
        await s3.PutAsync(bucket, "r/a.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(3_000)));
        await using var sts = await FakeSts.StartAsync();
        await using var proxy = DroppingProxy.Start(s3.Endpoint);
        var host = HostOptions(s3, sts);
        await using var f = await EngineFixture.CreateAsync(host with { Source = host.Source with { S3 = host.Source.S3 with { Endpoint = proxy.Endpoint } } });
        var id = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants("by_role_retry"), EngineFixture.PlantsFormat, [])
        {
            S3 = new S3BatchSource { Bucket = bucket, Prefix = "r", Glob = "*.csv", RoleArn = RoleArn },
        });
        proxy.DropOnceAfter(100_000); // Mid-object: the listing's answers are far smaller.

        await f.Engine.RunWorkerAsync(new WorkerOptions { Name = "w", Streams = 1, ExitWhenIdle = true, PollInterval = TimeSpan.FromMilliseconds(50) });

        var batch = await f.Recorder.GetBatchAsync(id);
        Assert.True(batch.Status == BatchStatus.Finished, batch.Log);
        Assert.Equal(3_000, batch.InsertCount);
        Assert.Equal(3_000, await f.ScalarAsync("SELECT count(*) FROM by_role_retry"));
        Assert.Equal(1, proxy.Dropped);
        var line = batch.Log!.Split('\n').Single(l => l.Contains($"[w] Retrying s3://{bucket}/r/a.csv", StringComparison.Ordinal));
        Assert.Contains(" WARN ", line, StringComparison.Ordinal);
        Assert.All(Sessions(sts, id), s => Assert.Equal((RoleArn, ExternalId), (s["RoleArn"], s["ExternalId"])));
    }

    [SkippableFact]
    public async Task A_queue_store_made_before_batches_kept_a_role_gains_the_column_in_place()
    {
        var s3 = await TestS3.GetServerAsync();
        var bucket = await s3.CreateBucketAsync("oldq");
        await s3.PutAsync(bucket, "a.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(20)));
        await using var sts = await FakeSts.StartAsync();
        await using var f = await EngineFixture.CreateAsync(HostOptions(s3, sts));

        // The queue tables as a store from before roles had them, with a batch queued in it.
        await using (var old = f.DataSource.CreateCommand("""
            CREATE SCHEMA IF NOT EXISTS ingest;
            CREATE TABLE ingest.work_batch (batch_id uuid PRIMARY KEY, dataset jsonb NOT NULL, format jsonb NOT NULL,
                header_lines integer NOT NULL DEFAULT 0, max_record integer NOT NULL, submitted_at timestamptz NOT NULL DEFAULT now());
            CREATE TABLE ingest.work_file (batch_id uuid NOT NULL REFERENCES ingest.work_batch (batch_id) ON DELETE CASCADE,
                file_key text NOT NULL, location text NOT NULL, position integer NOT NULL, state text NOT NULL DEFAULT 'pending',
                worker text, lease_until timestamptz, attempts integer NOT NULL DEFAULT 0, error text, PRIMARY KEY (batch_id, file_key));
            CREATE INDEX work_file_claimable ON ingest.work_file (state, lease_until);
            INSERT INTO ingest.work_batch (batch_id, dataset, format, max_record) VALUES ('00000000-0000-0000-0000-000000000001', '{}', '{}', 1);
            """))
        {
            await old.ExecuteNonQueryAsync();
        }

        var id = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [])
        {
            S3 = new S3BatchSource { Bucket = bucket, Glob = "*.csv", RoleArn = RoleArn },
        });

        Assert.Equal([RoleArn], await f.RowsAsync($"SELECT role_arn FROM ingest.work_batch WHERE batch_id = '{id}'"));
        Assert.Equal(["NULL"], await f.RowsAsync("SELECT role_arn FROM ingest.work_batch WHERE batch_id = '00000000-0000-0000-0000-000000000001'"));
    }

    [SkippableFact]
    public async Task An_import_reads_as_its_role_in_a_session_named_after_the_batch_and_a_dry_run_without_an_id_names_itself_a_dry_run()
    {
        var s3 = await TestS3.GetServerAsync();
        var bucket = await s3.CreateBucketAsync("irole");
        await s3.PutAsync(bucket, "in/a.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(30)));
        await s3.PutAsync(bucket, "in/b.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(40, 100)));
        await using var sts = await FakeSts.StartAsync();
        await using var f = await EngineFixture.CreateAsync(HostOptions(s3, sts));
        var request = new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [])
        {
            S3 = new S3BatchSource { Bucket = bucket, Prefix = "in", Glob = "*.csv", RoleArn = RoleArn },
        };
        var id = Guid.NewGuid();

        var result = await f.Engine.ImportAsync(request with { BatchId = id });
        var imported = sts.Requests;
        var dryRun = await IngestEngine.DryRunAsync(request, HostOptions(s3, sts));
        var dryRunWithId = await IngestEngine.DryRunAsync(request with { BatchId = id }, HostOptions(s3, sts));

        // One session for the listing and both objects, named after the batch.
        Assert.True(result.Status == BatchStatus.Finished, result.Log);
        Assert.Equal(70, result.InsertCount);
        var session = Assert.Single(imported);
        Assert.Equal(($"ingest-{id:D}", RoleArn, ExternalId), (session["RoleSessionName"], session["RoleArn"], session["ExternalId"]));

        Assert.True(dryRun.Succeeded, dryRun.Report);
        Assert.True(dryRunWithId.Succeeded, dryRunWithId.Report);
        Assert.Equal(3, sts.Requests.Count);
        var dryRunSession = sts.Requests[1]["RoleSessionName"];
        Assert.StartsWith("ingest-dry-run-", dryRunSession, StringComparison.Ordinal);
        Assert.True(Guid.TryParse(dryRunSession["ingest-dry-run-".Length..], out var dryRunId) && dryRunId != Guid.Empty, dryRunSession);
        Assert.Equal($"ingest-{id:D}", sts.Requests[2]["RoleSessionName"]);
    }
}
