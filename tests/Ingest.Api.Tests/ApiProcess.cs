using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Status;

namespace Ingest.Api.Tests;

/// <summary>
/// The API host as a real process (<c>dotnet ingest-api.dll</c>) on 127.0.0.1 and a free port, configured through the
/// environment as in production, and a client with its token: for tests that kill it with SIGKILL and start it again.
/// </summary>
internal sealed class ApiProcess : IAsyncDisposable
{
    private ApiProcess(RealProcess process, Uri address, string token)
    {
        Process = process;
        Client = new HttpClient { BaseAddress = address };
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public RealProcess Process { get; }

    public HttpClient Client { get; }

    /// <summary>The name of the host's own queue worker in batch logs.</summary>
    public string WorkerName => $"{Environment.MachineName}:{Process.Id}/api";

    /// <summary>Starts the host on <paramref name="connection"/> and waits (bounded) until it answers.</summary>
    public static async Task<ApiProcess> StartAsync(string connection, string token)
    {
        var port = FreePort();
        var process = RealProcess.Start(BuiltApp.Api, ["--urls", $"http://127.0.0.1:{port}"], new Dictionary<string, string>
        {
            ["INGEST_API_TOKEN"] = token,
            ["INGEST_CONNECTION"] = connection,
            ["INGEST_ALLOW_PRIVATE_NETWORKS"] = "true",
            ["INGEST_STREAMS"] = "2",
        });
        var api = new ApiProcess(process, new Uri($"http://127.0.0.1:{port}"), token);
        for (var i = 0; i < 600; i++)
        {
            Assert.False(process.HasExited, $"the API host exited: {string.Join('\n', process.Error)}");
            try
            {
                using var response = await api.Client.GetAsync("/openapi/v1.json");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return api;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(50);
        }

        Assert.Fail("The API host never answered.");
        return null!;
    }

    public async Task<string> RegisterPlantsAsync()
    {
        using var response = await Client.PostAsync("/v1/datasets", ApiHost.Json(ApiHost.Plants));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    /// <summary>PUTs a batch (with <paramref name="id"/>: runs that batch again) and returns the answer's status and the batch id.</summary>
    public async Task<(HttpStatusCode Status, Guid Id, string Body)> PutAsync(string datasetId, IReadOnlyList<Uri> urls, Guid? id = null)
    {
        var body = JsonNode.Parse(ApiHost.BatchBody(datasetId, [.. urls]))!.AsObject();
        if (id is { } batchId)
        {
            body["id"] = batchId.ToString();
        }

        using var response = await Client.PutAsync("/v1/import/batch", ApiHost.Json(body.ToJsonString()));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, response.IsSuccessStatusCode ? StatusJson.DeserializeBatch(text).Id : Guid.Empty, text);
    }

    public async Task<BatchRecord> BatchAsync(Guid id) => StatusJson.DeserializeBatch(await Client.GetStringAsync($"/v1/import/batch/{id}"));

    /// <summary>Polls the batch until <paramref name="done"/> holds, at most <paramref name="bound"/>.</summary>
    public async Task<BatchRecord> WaitAsync(Guid id, Func<BatchRecord, bool> done, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        while (true)
        {
            var batch = await BatchAsync(id);
            if (done(batch))
            {
                return batch;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Batch {id} never reached the expected state; it is {batch.Status.ToWord()} with {batch.InsertCount} rows. Log:\n{batch.Log}");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Process.KillAsync();
        Process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
