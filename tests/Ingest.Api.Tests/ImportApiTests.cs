using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Status;

namespace Ingest.Api.Tests;

public sealed class ImportApiTests
{
    [SkippableFact]
    public async Task A_registered_dataset_is_dry_run_imported_in_the_background_and_its_status_ends_finished()
    {
        await using var api = await ApiHost.StartAsync();
        await using var files = await LoopbackHttpServer.StartAsync();
        files.AddFile("/a.csv", Encoding.UTF8.GetBytes("not-a-uuid,1,2,3,4,,\n" + ApiHost.Rows(300)));
        files.AddFile("/b.csv", Encoding.UTF8.GetBytes(ApiHost.Rows(200, 300)));
        var datasetId = await api.RegisterPlantsAsync();

        var schema = await api.Client.GetFromJsonAsync<JsonObject>($"/v1/datasets/{datasetId}/schema");
        Assert.Equal("plants", schema!["name"]!.GetValue<string>());
        Assert.Equal(datasetId, schema["id"]!.GetValue<string>());

        var body = ApiHost.BatchBody(datasetId, files.Url("/a.csv"), files.Url("/b.csv?sig=secret"));
        using (var dryRun = await api.Client.PutAsync("/v1/import/batch?dryRun=true", ApiHost.Json(body)))
        {
            Assert.Equal(HttpStatusCode.OK, dryRun.StatusCode);
            var result = await dryRun.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("success", result.GetProperty("status").GetString());
            Assert.Contains("Invalid rows dropped: 1", result.GetProperty("report").GetString(), StringComparison.Ordinal);
        }

        using (var dryRun = await api.Client.PutAsync("/v1/import/batch?dryRun=5", ApiHost.Json(body)))
        {
            Assert.Contains("Valid rows: 5\n", (await dryRun.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("report").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(0, await api.CountAsync("SELECT count(*) FROM pg_tables WHERE tablename = 'plants'"));

        using var put = await api.Client.PutAsync("/v1/import/batch", ApiHost.Json(body));
        Assert.Equal(HttpStatusCode.Accepted, put.StatusCode);
        var created = StatusJson.DeserializeBatch(await put.Content.ReadAsStringAsync());
        Assert.Equal(datasetId, created.DatasetId);
        Assert.DoesNotContain("secret", created.Source.ToString(), StringComparison.Ordinal);

        var finished = await api.WaitAsync(created.Id, b => b.Status.IsTerminal());
        Assert.Equal((BatchStatus.Finished, 500L, 1L), (finished.Status, finished.InsertCount, finished.InvalidCount));
        Assert.Equal(datasetId, finished.DatasetId);
        Assert.Equal(500, await api.CountAsync("SELECT count(*) FROM plants"));

        // The filter fields' columns come in the document's order (jsonb would sort them by length: plantIPv4 first).
        Assert.Equal(
            ["entity_id", "timestamp", "longitude", "latitude", "altitude", "metadata_id", "plantHeight", "plantIPv4", "plantCultivar"],
            await api.ColumnsAsync("plants"));
        Assert.Equal(
            ["plantHeight", "plantIPv4", "plantCultivar"],
            schema["dataDescription"]!["metadataSchema"]!.AsObject().Select(field => field.Key));

        var timeline = StatusJson.DeserializeTimeline(await api.Client.GetStringAsync($"/v1/import/batch/{created.Id}/status"));
        Assert.Equal(BatchStatus.Finished, timeline[0].Status);
        Assert.Equal(BatchStatus.Created, timeline[^1].Status);
        Assert.Contains("Finished batch job. Inserted: 500, Invalid: 1", timeline[0].Log, StringComparison.Ordinal);

        using var abort = await api.Client.PatchAsync($"/v1/import/batch/{created.Id}", ApiHost.Json("""{"status": "aborted"}"""));
        Assert.Equal(HttpStatusCode.Conflict, abort.StatusCode);
        Assert.Contains("already ended with status 'finished'", (await ApiHost.ErrorAsync(abort)).GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_running_batch_is_aborted_with_nothing_half_loaded()
    {
        await using var api = await ApiHost.StartAsync();
        await using var files = await LoopbackHttpServer.StartAsync();
        files.AddFile("/slow.csv", Encoding.UTF8.GetBytes(ApiHost.Rows(20_000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(50), ChunkSize = 4096 });
        var datasetId = await api.RegisterPlantsAsync();
        using var put = await api.Client.PutAsync("/v1/import/batch", ApiHost.Json(ApiHost.BatchBody(datasetId, files.Url("/slow.csv"))));
        var id = StatusJson.DeserializeBatch(await put.Content.ReadAsStringAsync()).Id;
        await api.WaitAsync(id, b => b.InsertCount > 0);

        using var abort = await api.Client.PatchAsync($"/v1/import/batch/{id}", ApiHost.Json("""{"status": "aborted"}"""));

        Assert.Equal(HttpStatusCode.OK, abort.StatusCode);
        Assert.Equal(id, StatusJson.DeserializeBatch(await abort.Content.ReadAsStringAsync()).Id);
        var aborted = await api.WaitAsync(id, b => b.Status.IsTerminal());
        Assert.Equal((BatchStatus.Aborted, 0L), (aborted.Status, aborted.InsertCount));
        Assert.Contains("Received abort instruction", aborted.Log, StringComparison.Ordinal);
        Assert.Equal(0, await api.CountAsync("SELECT count(*) FROM plants"));
    }

    [SkippableFact]
    public async Task Requests_without_the_token_get_401_and_the_OpenAPI_document_is_open()
    {
        await using var api = await ApiHost.StartAsync();

        using var none = await api.Anonymous.GetAsync($"/v1/import/batch/{Guid.NewGuid()}");
        using var wrong = new HttpRequestMessage(HttpMethod.Post, "/v1/datasets") { Content = ApiHost.Json(ApiHost.Plants) };
        wrong.Headers.Authorization = new("Bearer", "wrong");
        using var wrongResponse = await api.Anonymous.SendAsync(wrong);

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("Bearer", none.Headers.WwwAuthenticate.ToString());
        Assert.Contains("bearer token", (await ApiHost.ErrorAsync(none)).GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongResponse.StatusCode);
        Assert.Equal(0, await api.CountAsync("SELECT count(*) FROM ingest.dataset"));
        var openApi = await api.Anonymous.GetStringAsync("/openapi/v1.json");
        Assert.Contains("/v1/import/batch/{id}/status", openApi, StringComparison.Ordinal);
    }
}
