using System.Net;
using System.Text;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Status;
using Ingest.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Ingest.Api.Tests;

/// <summary>
/// The API host as a real process killed with SIGKILL mid-load and started again at once on the same database (a
/// supervisor's restart): a batch its queue worker was loading is taken over by the new host's worker, and a batch it
/// was running in process is resumed by a PUT with the batch's id once the dead run's lease is free. Each row once.
/// </summary>
public sealed class ApiCrashTests(ITestOutputHelper output)
{
    private const int Files = 6;
    private const int RowsPerFile = 3000;

    [SkippableFact]
    public async Task A_host_killed_mid_load_and_started_again_at_once_finishes_its_queued_batch_with_each_row_once()
    {
        var connection = await TestPostgres.CreateDatabaseAsync();
        await using var files = await LoopbackHttpServer.StartAsync();
        var urls = SlowFiles(files, "q");
        var token = Convert.ToHexString(Guid.NewGuid().ToByteArray());

        var first = await ApiProcess.StartAsync(connection, token);
        var datasetId = await first.RegisterPlantsAsync();
        var (accepted, id, _) = await first.PutAsync(datasetId, urls);
        Assert.Equal(HttpStatusCode.Accepted, accepted);
        await first.WaitAsync(id, b => b.InsertCount > 0, TimeSpan.FromMinutes(1));

        // Its files are the queue workers' while they load them: running it again here is refused.
        var (refused, _, _) = await first.PutAsync(datasetId, urls, id);
        Assert.Equal(HttpStatusCode.Conflict, refused);
        var dead = first.WorkerName;
        await first.DisposeAsync(); // SIGKILL: files in flight roll back with its sessions; nothing else is cleaned up.

        await using var second = await ApiProcess.StartAsync(connection, token);
        var finished = await second.WaitAsync(id, b => b.Status.IsTerminal(), TimeSpan.FromMinutes(1));

        output.WriteLine(finished.Log);
        Assert.Equal(BatchStatus.Finished, finished.Status);
        await AssertEachRowOnceAsync(connection, id);
        Assert.Contains($"from worker {dead}, whose lease ran out early: its process is gone", finished.Log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_batch_the_killed_host_ran_in_process_is_resumed_by_a_put_with_its_id_on_the_host_started_again_at_once()
    {
        var connection = await TestPostgres.CreateDatabaseAsync();
        await using var files = await LoopbackHttpServer.StartAsync();
        var urls = SlowFiles(files, "p");
        var token = Convert.ToHexString(Guid.NewGuid().ToByteArray());

        // A batch aborted part way and PUT again with its id: the host runs that resume in its own process.
        var first = await ApiProcess.StartAsync(connection, token);
        var datasetId = await first.RegisterPlantsAsync();
        var (_, id, _) = await first.PutAsync(datasetId, urls);
        await first.WaitAsync(id, b => b.InsertCount >= RowsPerFile, TimeSpan.FromMinutes(1));
        using (var abort = await first.Client.PatchAsync($"/v1/import/batch/{id}", ApiHost.Json("""{"status": "aborted"}""")))
        {
            Assert.Equal(HttpStatusCode.OK, abort.StatusCode);
        }

        var aborted = await first.WaitAsync(id, b => b.Status == BatchStatus.Aborted, TimeSpan.FromMinutes(1));
        var (resumed, _, resumeBody) = await first.PutAsync(datasetId, urls, id);
        Assert.True(resumed == HttpStatusCode.Accepted, resumeBody);
        await first.WaitAsync(id, b => b.Status == BatchStatus.Started && b.InsertCount > aborted.InsertCount, TimeSpan.FromMinutes(1));
        await first.DisposeAsync(); // SIGKILL mid-resume: the batch stays 'started', its lease held until the server notices.

        // At once, as a supervisor restarts it, and the client runs the batch again.
        await using var second = await ApiProcess.StartAsync(connection, token);
        var (again, _, againBody) = await second.PutAsync(datasetId, urls, id);
        Assert.True(again == HttpStatusCode.Accepted, $"{again}: {againBody}");
        var finished = await second.WaitAsync(id, b => b.Status.IsTerminal(), TimeSpan.FromMinutes(1));

        output.WriteLine(finished.Log);
        Assert.Equal(BatchStatus.Finished, finished.Status);
        await AssertEachRowOnceAsync(connection, id);
        Assert.Equal(2, finished.Log!.Split('\n').Count(l => l.Contains("INFO Resuming batch job: ", StringComparison.Ordinal)));
    }

    private static List<Uri> SlowFiles(LoopbackHttpServer server, string prefix)
    {
        var urls = new List<Uri>();
        for (var i = 0; i < Files; i++)
        {
            // About 2 s a file on one stream: the host is always killed with files in flight.
            server.AddFile($"/{prefix}{i}.csv", Encoding.UTF8.GetBytes(ApiHost.Rows(RowsPerFile, i * 10_000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(80), ChunkSize = 16 * 1024 });
            urls.Add(server.Url($"/{prefix}{i}.csv"));
        }

        return urls;
    }

    private static async Task AssertEachRowOnceAsync(string connection, Guid id)
    {
        await using var dataSource = NpgsqlDataSource.Create(connection);
        await using var command = dataSource.CreateCommand($"SELECT count(*), count(DISTINCT entity_id), (SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}' AND state = 'loaded') FROM plants");
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal(Files * RowsPerFile, reader.GetInt64(0));
        Assert.Equal(Files * RowsPerFile, reader.GetInt64(1));
        Assert.Equal(Files, reader.GetInt64(2));
    }
}
