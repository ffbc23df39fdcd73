using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ingest.Status;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Ingest.Testing;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Ingest.Api.Tests;

/// <summary>The API host running in this process on 127.0.0.1 and a free port, on a fresh database, and a client with its token.</summary>
internal sealed class ApiHost : IAsyncDisposable
{
    public const string Plants = """
        { "name": "plants", "description": "ignored", "dataDescription": { "metadataSchema": {
            "plantHeight":   { "type": "number", "nullable": false, "signed": false },
            "plantIPv4":     { "type": "ip",     "nullable": true },
            "plantCultivar": { "type": "enum",   "nullable": true, "values": ["broccoli", "brussel sprouts", "cabbage"] } } } }
        """;

    public const string Format = """{"csv": {"entityId": 0, "timestamp": 1, "longitude": 2, "latitude": 3, "plantHeight": 4, "plantIPv4": 5, "plantCultivar": 6}}""";

    private readonly WebApplication _app;

    private ApiHost(WebApplication app, Uri address, ApiSettings settings)
    {
        _app = app;
        Settings = settings;
        Client = new HttpClient { BaseAddress = address };
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", settings.Token);
        Anonymous = new HttpClient { BaseAddress = address };
    }

    public ApiSettings Settings { get; }

    /// <summary>A client that sends the host's token.</summary>
    public HttpClient Client { get; }

    /// <summary>A client that sends no token.</summary>
    public HttpClient Anonymous { get; }

    public static async Task<ApiHost> StartAsync(bool allowPrivateNetworks = true, Func<ApiSettings, ApiSettings>? configure = null)
    {
        var settings = new ApiSettings
        {
            Token = Convert.ToHexString(Guid.NewGuid().ToByteArray()),
            ConnectionString = await TestPostgres.CreateDatabaseAsync(),
            AllowPrivateNetworks = allowPrivateNetworks,
            Engine = new IngestOptions
            {
                ProgressInterval = TimeSpan.FromMilliseconds(50),
                SnapshotInterval = TimeSpan.FromMilliseconds(200),
                AbortPollInterval = TimeSpan.FromMilliseconds(20),
            },
        };
        settings = configure?.Invoke(settings) ?? settings;
        var app = ApiApp.Build(["--urls", "http://127.0.0.1:0"], settings, b => b.Logging.ClearProviders());
        await ApiApp.PrepareAsync(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ApiHost(app, new Uri(address), settings);
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static string Rows(int count, int start = 0)
    {
        var text = new StringBuilder();
        for (var n = start; n < start + count; n++)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{Guid.NewGuid()},{1706196472302 + n},{(n % 359) - 179}.5,{(n % 180) - 90},{n},10.0.{n % 256}.1,cabbage\n");
        }

        return text.ToString();
    }

    /// <summary>Registers the plants dataset and returns its id.</summary>
    public async Task<string> RegisterPlantsAsync()
    {
        using var response = await Client.PostAsync("/v1/datasets", Json(Plants));
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    public static string BatchBody(string datasetId, params Uri[] urls) => new JsonObject
    {
        ["datasetId"] = datasetId,
        ["source"] = new JsonObject { ["urls"] = new JsonArray(urls.Select(u => (JsonNode)u.ToString()).ToArray()) },
        ["format"] = JsonNode.Parse(Format),
    }.ToJsonString();

    public async Task<BatchRecord> BatchAsync(Guid id) => StatusJson.DeserializeBatch(await Client.GetStringAsync($"/v1/import/batch/{id}"));

    /// <summary>Polls the batch until <paramref name="done"/> holds (bounded; fails if it never does).</summary>
    public async Task<BatchRecord> WaitAsync(Guid id, Func<BatchRecord, bool> done)
    {
        for (var i = 0; i < 600; i++)
        {
            var batch = await BatchAsync(id);
            if (done(batch))
            {
                return batch;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"Batch {id} never reached the expected state.");
        return null!;
    }

    /// <summary>The columns of <paramref name="table"/> in their order.</summary>
    public async Task<List<string>> ColumnsAsync(string table)
    {
        await using var connection = new Npgsql.NpgsqlConnection(Settings.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT column_name FROM information_schema.columns WHERE table_name = @t ORDER BY ordinal_position", connection);
        command.Parameters.AddWithValue("t", table);
        var columns = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            columns.Add(reader.GetString(0));
        }

        return columns;
    }

    public async Task<long> CountAsync(string sql)
    {
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(Settings.ConnectionString);
        await using var command = dataSource.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public static async Task<JsonElement> ErrorAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)response.StatusCode, body.GetProperty("status").GetInt32());
        return body;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Anonymous.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
