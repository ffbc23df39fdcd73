using System.Text;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Status;
using Ingest.Testing;

namespace Ingest.Api.Tests;

/// <summary>The API host stopped under load and started again on the same database: its batches finish, each row once.</summary>
public sealed class RestartApiTests
{
    [SkippableFact]
    public async Task A_host_restarted_under_load_finishes_its_batch_with_each_row_once()
    {
        var connection = await TestPostgres.CreateDatabaseAsync();
        await using var files = await LoopbackHttpServer.StartAsync();
        var urls = new List<Uri>();
        for (var i = 0; i < 4; i++)
        {
            files.AddFile($"/r{i}.csv", Encoding.UTF8.GetBytes(ApiHost.Rows(3000, i * 10_000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(40), ChunkSize = 16 * 1024 });
            urls.Add(files.Url($"/r{i}.csv"));
        }

        var first = await ApiHost.StartAsync(configure: s => s with { ConnectionString = connection });
        Guid id;
        try
        {
            var datasetId = await first.RegisterPlantsAsync();
            using var put = await first.Client.PutAsync("/v1/import/batch", ApiHost.Json(ApiHost.BatchBody(datasetId, [.. urls])));
            id = StatusJson.DeserializeBatch(await put.Content.ReadAsStringAsync()).Id;
            await first.WaitAsync(id, b => b.InsertCount > 0);
        }
        finally
        {
            await first.DisposeAsync(); // The host stops with files in flight: they roll back and go back to the queue.
        }

        await using var second = await ApiHost.StartAsync(configure: s => s with { ConnectionString = connection });
        var finished = await second.WaitAsync(id, b => b.Status.IsTerminal());

        Assert.Equal(BatchStatus.Finished, finished.Status);
        Assert.Equal(12_000, finished.InsertCount);
        Assert.Equal(12_000, await second.CountAsync("SELECT count(*) FROM plants"));
        Assert.Equal(12_000, await second.CountAsync("SELECT count(DISTINCT entity_id) FROM plants"));
        Assert.Equal(4, await second.CountAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}'"));
    }
}
