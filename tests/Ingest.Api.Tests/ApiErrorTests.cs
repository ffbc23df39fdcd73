using System.Net;
using System.Text;
using Ingest.Core.Tests.Infrastructure;

namespace Ingest.Api.Tests;

public sealed class ApiErrorTests
{
    [SkippableFact]
    public async Task Bad_requests_get_JSON_errors_that_say_what_to_fix()
    {
        await using var api = await ApiHost.StartAsync();
        var datasetId = await api.RegisterPlantsAsync();
        var url = new Uri("http://127.0.0.1:1/a.csv");

        await Expect(HttpStatusCode.BadRequest, "not valid JSON", await api.Client.PostAsync("/v1/datasets", ApiHost.Json("{ nope")));
        await Expect(HttpStatusCode.BadRequest, "plantHeight", await api.Client.PostAsync("/v1/datasets", ApiHost.Json("""{"name": "x", "dataDescription": {"metadataSchema": {"plantHeight": {"type": "float"}}}}""")));
        await Expect(HttpStatusCode.NotFound, "was not found", await api.Client.GetAsync($"/v1/datasets/{Guid.NewGuid()}/schema"));
        await Expect(HttpStatusCode.NotFound, "was not found", await api.Client.PutAsync("/v1/import/batch", ApiHost.Json(ApiHost.BatchBody(Guid.NewGuid().ToString(), url))));
        await Expect(HttpStatusCode.BadRequest, "source.urls", await api.Client.PutAsync("/v1/import/batch", ApiHost.Json("{\"datasetId\": \"" + datasetId + "\", \"format\": {\"csv\": {}}}")));
        await Expect(HttpStatusCode.BadRequest, "\"datasetId\" must be a string, the id POST /v1/datasets returned; found a number", await api.Client.PutAsync("/v1/import/batch", ApiHost.Json(ApiHost.BatchBody(datasetId, url).Replace($"\"{datasetId}\"", "5", StringComparison.Ordinal))));
        await Expect(HttpStatusCode.BadRequest, "The dataset document has no \"name\"", await api.Client.PostAsync("/v1/datasets", ApiHost.Json("""{"dataDescription": {"metadataSchema": {}}}""")));
        await Expect(HttpStatusCode.BadRequest, "dryRun must be", await api.Client.PutAsync("/v1/import/batch?dryRun=maybe", ApiHost.Json(ApiHost.BatchBody(datasetId, url))));
        await Expect(HttpStatusCode.BadRequest, "dryRun must be", await api.Client.PutAsync("/v1/import/batch?dryRun=0", new StringContent(ApiHost.BatchBody(datasetId, url))));
        await Expect(HttpStatusCode.BadRequest, "http(s)", await api.Client.PutAsync("/v1/import/batch", ApiHost.Json(ApiHost.BatchBody(datasetId, new Uri("file:///etc/passwd")))));

        // A refused source is named without what a presigned URL's query holds, whatever its scheme, or if it is no URL.
        foreach (var source in (string[])["ftp://x/y.csv?X-Amz-Signature=secret123", "y.csv?X-Amz-Signature=secret123", "gs://b/y.csv#secret123"])
        {
            var body = ApiHost.BatchBody(datasetId, url).Replace(url.ToString(), source, StringComparison.Ordinal);
            var refused = await api.Client.PutAsync("/v1/import/batch", ApiHost.Json(body));
            var text = await refused.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("is not an http(s) URL", text, StringComparison.Ordinal);
            Assert.DoesNotContain("secret123", text, StringComparison.Ordinal);
        }
        var unmapped = ApiHost.BatchBody(datasetId, url).Replace("\"plantHeight\":4", "\"height\":4", StringComparison.Ordinal);
        await Expect(HttpStatusCode.BadRequest, "'height'", await api.Client.PutAsync("/v1/import/batch", ApiHost.Json(unmapped)));
        await Expect(HttpStatusCode.NotFound, "was not found", await api.Client.GetAsync($"/v1/import/batch/{Guid.NewGuid()}"));
        await Expect(HttpStatusCode.NotFound, "was not found", await api.Client.GetAsync("/v1/import/batch/not-a-uuid/status"));
        await Expect(HttpStatusCode.BadRequest, "status\": \"aborted", await api.Client.PatchAsync($"/v1/import/batch/{Guid.NewGuid()}", ApiHost.Json("""{"status": "finished"}""")));
    }

    [SkippableFact]
    public async Task With_the_SSRF_guard_on_a_loopback_source_is_refused_before_a_batch_exists()
    {
        await using var api = await ApiHost.StartAsync(allowPrivateNetworks: false);
        await using var files = await LoopbackHttpServer.StartAsync();
        files.AddFile("/a.csv", Encoding.UTF8.GetBytes(ApiHost.Rows(5)));
        var datasetId = await api.RegisterPlantsAsync();

        await Expect(HttpStatusCode.BadRequest, "INGEST_ALLOW_PRIVATE_NETWORKS=true", await api.Client.PutAsync("/v1/import/batch", ApiHost.Json(ApiHost.BatchBody(datasetId, files.Url("/a.csv")))));

        Assert.Equal(0, files.RequestCount("/a.csv"));
        Assert.Equal(0, await api.CountAsync("SELECT count(*) FROM ingest.import_batch"));
    }

    [Fact]
    public void The_host_refuses_to_start_without_a_token_or_a_connection()
    {
        var noToken = Assert.Throws<ApiConfigurationException>(() => ApiSettings.FromEnvironment(_ => null));
        var noConnection = Assert.Throws<ApiConfigurationException>(() => ApiSettings.FromEnvironment(name => name == "INGEST_API_TOKEN" ? "t" : null));
        var badFlag = Assert.Throws<ApiConfigurationException>(() => ApiSettings.FromEnvironment(name => name switch { "INGEST_ALLOW_PRIVATE_NETWORKS" => "sure", "INGEST_API_TOKEN" or "INGEST_CONNECTION" => "x", _ => null }));

        Assert.Contains("INGEST_API_TOKEN is not set", noToken.Message, StringComparison.Ordinal);
        Assert.Contains("INGEST_CONNECTION is not set", noConnection.Message, StringComparison.Ordinal);
        Assert.Contains("INGEST_ALLOW_PRIVATE_NETWORKS must be true or false", badFlag.Message, StringComparison.Ordinal);
        Assert.False(ApiSettings.FromEnvironment(name => name is "INGEST_API_TOKEN" or "INGEST_CONNECTION" ? "x" : null).AllowPrivateNetworks);
    }

    private static async Task Expect(HttpStatusCode status, string inError, HttpResponseMessage response)
    {
        using (response)
        {
            Assert.Equal(status, response.StatusCode);
            var error = (await ApiHost.ErrorAsync(response)).GetProperty("error").GetString();
            Assert.Contains(inError, error, StringComparison.Ordinal);
        }
    }
}
