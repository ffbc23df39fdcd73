using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Status;

namespace Ingest.Api.Tests;

/// <summary>
/// The DFI object-store source through the API: <c>source.s3</c> on PUT (and its dry run), a caller's role, sources that
/// cannot be listed, and the trust policy. The host's own AWS credentials are this process's environment, set per test.
/// </summary>
public sealed class S3ApiTests
{
    private const string RoleArn = "arn:aws:iam::123456789012:role/importer";
    private const string HostKey = "AKIAAPIHOSTKEY000001";
    private const string HostSecret = "api-host-secret-value";

    [SkippableFact]
    public async Task The_trust_policy_names_the_hosts_principal_and_its_external_id_and_says_how_to_configure_one()
    {
        await using var configured = await ApiHost.StartAsync(configure: s => s with { AwsPrincipal = "arn:aws:iam::123456789012:role/ingest-host", AwsExternalId = "ext-42" });
        await using var bare = await ApiHost.StartAsync();

        var policy = await configured.Client.GetFromJsonAsync<JsonElement>("/v1/import/awsTrustPolicy");
        using var missing = await bare.Client.GetAsync("/v1/import/awsTrustPolicy");

        Assert.Equal("2012-10-17", policy.GetProperty("Version").GetString());
        var statement = policy.GetProperty("Statement")[0];
        Assert.Equal("Allow", statement.GetProperty("Effect").GetString());
        Assert.Equal("sts:AssumeRole", statement.GetProperty("Action").GetString());
        Assert.Equal("arn:aws:iam::123456789012:role/ingest-host", statement.GetProperty("Principal").GetProperty("AWS").GetString());
        Assert.Equal("ext-42", statement.GetProperty("Condition").GetProperty("StringEquals").GetProperty("sts:ExternalId").GetString());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("INGEST_API_AWS_PRINCIPAL", (await ApiHost.ErrorAsync(missing)).GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_source_s3_of_an_allowed_bucket_is_dry_run_and_loaded_and_another_bucket_needs_a_role()
    {
        var s3 = await TestS3.GetServerAsync();
        var bucket = await s3.CreateBucketAsync("api");
        await s3.PutAsync(bucket, "sample-data/a.csv", Encoding.UTF8.GetBytes(ApiHost.Rows(30)));
        await s3.PutAsync(bucket, "sample-data/deep/b.csv", Encoding.UTF8.GetBytes(ApiHost.Rows(20, 100)));

        // The host reads with its own credentials (the standard AWS environment) where the operator allows it.
        using var aws = await HostCredentialsAsync(S3rverServer.AccessKey, S3rverServer.SecretKey);
        await using var api = await ApiHost.StartAsync(configure: s => s with
        {
            S3Buckets = [bucket],
            Engine = s.Engine with { Source = s.Engine.Source with { S3 = s.Engine.Source.S3 with { Endpoint = s3.Endpoint } } },
        });
        var datasetId = await api.RegisterPlantsAsync();
        string Body(string bucketName, string? role = null) => S3Body(datasetId, bucketName, "sample-data", "**/*.csv", role);

        using var dryRun = await api.Client.PutAsync("/v1/import/batch?dryRun=true", ApiHost.Json(Body(bucket)));
        using var put = await api.Client.PutAsync("/v1/import/batch", ApiHost.Json(Body(bucket)));
        using var refused = await api.Client.PutAsync("/v1/import/batch", ApiHost.Json(Body("not-allowed-bucket")));
        using var url = await api.Client.PutAsync("/v1/import/batch", ApiHost.Json(ApiHost.BatchBody(datasetId, new Uri("s3://not-allowed-bucket/a.csv"))));

        var report = (await dryRun.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("report").GetString();
        Assert.Equal(HttpStatusCode.OK, dryRun.StatusCode);
        Assert.Contains("Valid rows: 20\n", report, StringComparison.Ordinal);
        Assert.Contains("Valid rows: 30\n", report, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Accepted, put.StatusCode);
        var created = StatusJson.DeserializeBatch(await put.Content.ReadAsStringAsync());
        var finished = await api.WaitAsync(created.Id, b => b.Status.IsTerminal());
        Assert.Equal((BatchStatus.Finished, 50L), (finished.Status, finished.InsertCount));
        Assert.Equal($"s3://{bucket}", finished.Source!.Value.GetProperty("s3").GetProperty("bucket").GetString());
        Assert.Equal("**/*.csv", finished.Source!.Value.GetProperty("s3").GetProperty("glob").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("names no role (credentials.RoleArn) for bucket 'not-allowed-bucket'", (await ApiHost.ErrorAsync(refused)).GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, url.StatusCode);
        Assert.Contains("INGEST_API_S3_BUCKETS", (await ApiHost.ErrorAsync(url)).GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_batch_with_a_role_is_listed_and_loaded_by_the_hosts_workers_as_that_role_in_a_session_naming_it()
    {
        var s3 = await TestS3.GetServerAsync();
        var bucket = await s3.CreateBucketAsync("apirole");
        await s3.PutAsync(bucket, "in/a.csv", Encoding.UTF8.GetBytes(ApiHost.Rows(30)));
        await s3.PutAsync(bucket, "in/b.csv", Encoding.UTF8.GetBytes(ApiHost.Rows(20, 100)));
        await using var sts = await FakeSts.StartAsync();

        // The host's own key is one s3rver refuses: objects read at all were read as the caller's role.
        using var aws = await HostCredentialsAsync(HostKey, HostSecret);
        await using var api = await ApiHost.StartAsync(configure: s => s with
        {
            AwsExternalId = "dfi-external-id-9",
            Engine = s.Engine with { Source = s.Engine.Source with { S3 = s.Engine.Source.S3 with { Endpoint = s3.Endpoint, StsEndpoint = sts.Endpoint, ExternalId = "dfi-external-id-9" } } },
        });
        var datasetId = await api.RegisterPlantsAsync();

        using var put = await api.Client.PutAsync("/v1/import/batch", ApiHost.Json(S3Body(datasetId, bucket, "in", "*.csv", RoleArn)));

        Assert.Equal(HttpStatusCode.Accepted, put.StatusCode);
        var id = StatusJson.DeserializeBatch(await put.Content.ReadAsStringAsync()).Id;
        var finished = await api.WaitAsync(id, b => b.Status.IsTerminal());
        Assert.True(finished.Status == BatchStatus.Finished, finished.Log);
        Assert.Equal(50, finished.InsertCount);
        Assert.Equal(RoleArn, finished.Source!.Value.GetProperty("s3").GetProperty("credentials").GetProperty("RoleArn").GetString());

        // Once to list at submit, once for this host's worker: both in a session naming the batch, with the host's external id.
        Assert.Equal(2, sts.Requests.Count);
        Assert.All(sts.Requests, r => Assert.Equal(($"ingest-{id:D}", RoleArn, "dfi-external-id-9"), (r["RoleSessionName"], r["RoleArn"], r["ExternalId"])));
    }

    [SkippableFact]
    public async Task A_source_that_cannot_be_listed_is_refused_with_its_reason_and_leaves_no_batch_behind()
    {
        var s3 = await TestS3.GetServerAsync();
        var bucket = await s3.CreateBucketAsync("apilist");
        await s3.PutAsync(bucket, "in/a.csv", Encoding.UTF8.GetBytes(ApiHost.Rows(5)));
        var missing = $"no-such-bucket-{Guid.NewGuid():N}"[..40];
        await using var sts = await FakeSts.StartAsync();
        sts.Issued = ("AKIAAPIREFUSED000001", "api-refused-issued-secret", "api-refused-issued-token"); // a key s3rver refuses

        using var aws = await HostCredentialsAsync(S3rverServer.AccessKey, S3rverServer.SecretKey);
        await using var api = await ApiHost.StartAsync(configure: s => s with
        {
            S3Buckets = [bucket, missing],
            Engine = s.Engine with { Source = s.Engine.Source with { S3 = s.Engine.Source.S3 with { Endpoint = s3.Endpoint, StsEndpoint = sts.Endpoint } } },
        });
        var closed = DroppingProxy.Start(s3.Endpoint);
        var unreachable = closed.Endpoint;
        await closed.DisposeAsync();
        await using var cut = await ApiHost.StartAsync(configure: s => s with
        {
            S3Buckets = [bucket],
            Engine = s.Engine with { Source = s.Engine.Source with { MaxAttempts = 1, S3 = s.Engine.Source.S3 with { Endpoint = unreachable } } },
        });
        var datasetId = await api.RegisterPlantsAsync();
        var cutDatasetId = await cut.RegisterPlantsAsync();

        using var nothing = await api.Client.PutAsync("/v1/import/batch", ApiHost.Json(S3Body(datasetId, bucket, "in", "*.parquet")));
        using var absent = await api.Client.PutAsync("/v1/import/batch", ApiHost.Json(S3Body(datasetId, missing, "in", "*.csv")));
        using var refused = await api.Client.PutAsync("/v1/import/batch", ApiHost.Json(S3Body(datasetId, bucket, "in", "*.csv", RoleArn)));
        using var unreached = await cut.Client.PutAsync("/v1/import/batch", ApiHost.Json(S3Body(cutDatasetId, bucket, "in", "*.csv")));

        var errors = new List<string>();
        foreach (var (response, status, says) in new[]
        {
            (nothing, HttpStatusCode.BadRequest, $"s3://{bucket}/in/*.parquet: the pattern matches no object"),
            (absent, HttpStatusCode.BadRequest, $"bucket '{missing}' does not exist"),
            (refused, HttpStatusCode.BadRequest, $"the credentials were refused for bucket '{bucket}'"),
            (unreached, HttpStatusCode.ServiceUnavailable, "try again later"),
        })
        {
            Assert.Equal(status, response.StatusCode);
            var error = (await ApiHost.ErrorAsync(response)).GetProperty("error").GetString()!;
            Assert.True(error.Contains(says, StringComparison.Ordinal), error);
            errors.Add(error);
        }

        foreach (var secret in (string[])[S3rverServer.AccessKey, "AKIAAPIREFUSED000001", "api-refused-issued-secret", "api-refused-issued-token"])
        {
            Assert.All(errors, e => Assert.DoesNotContain(secret, e, StringComparison.Ordinal));
        }

        foreach (var host in new[] { api, cut })
        {
            Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM ingest.import_batch"));
            Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM ingest.api_batch"));
        }
    }

    /// <summary>The host's own AWS credentials in this process's environment, put back as they were when the test ends.</summary>
    private static Task<EnvironmentScope> HostCredentialsAsync(string key, string secret) =>
        EnvironmentScope.SetAsync(("AWS_ACCESS_KEY_ID", key), ("AWS_SECRET_ACCESS_KEY", secret), ("AWS_SESSION_TOKEN", null), ("AWS_PROFILE", null));

    private static string S3Body(string datasetId, string bucket, string prefix, string glob, string? role = null) => new JsonObject
    {
        ["datasetId"] = datasetId,
        ["source"] = new JsonObject
        {
            ["s3"] = new JsonObject
            {
                ["bucket"] = $"s3://{bucket}",
                ["prefix"] = prefix,
                ["glob"] = glob,
                ["credentials"] = role is null ? null : new JsonObject { ["RoleArn"] = role },
            },
        },
        ["format"] = JsonNode.Parse(ApiHost.Format),
    }.ToJsonString();
}
