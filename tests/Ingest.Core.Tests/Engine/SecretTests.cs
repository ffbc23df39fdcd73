using System.Text;
using Ingest.Cli;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Status;
using Npgsql;

namespace Ingest.Core.Tests.Engine;

public sealed class SecretTests
{
    private const string Password = "Hunter2-Secret-Pw";
    private const string Signature = "SIG-5ecret-value";

    [SkippableFact]
    public async Task No_password_signature_or_url_user_info_reaches_a_log_a_status_record_or_an_error()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/ok.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(50)));
        var withPassword = new NpgsqlConnectionStringBuilder(f.ConnectionString) { Password = Password }.ConnectionString;
        var signed = server.Url($"/ok.csv?X-Amz-Signature={Signature}&X-Amz-Credential=AKIA{Signature}").ToString();
        var userInfo = $"http://reader:{Password}@{server.BaseUri.Authority}/missing.csv?token={Signature}";

        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await CliApp.RunAsync(
            ["import", "--dataset", "secret_plants", "--schema", Copy.RowEncoderTests.Plants, "--format", Copy.RowEncoderTests.PlantsFormat, "--connection", withPassword, signed, userInfo],
            stdout,
            stderr);
        var id = Guid.Parse(stdout.ToString().Trim());
        var timeline = await f.Recorder.GetTimelineAsync(id);
        var batch = await f.Recorder.GetBatchAsync(id);
        var ledger = await f.RowsAsync("SELECT file_key FROM ingest.import_file");

        Assert.Equal(1, exit);
        Assert.Equal(BatchStatus.Error, batch.Status);
        var everything = string.Join("\n", [stdout.ToString(), stderr.ToString(), StatusJson.Serialize(timeline), StatusJson.Serialize(batch), .. ledger]);
        Assert.Contains("missing.csv", everything, StringComparison.Ordinal);
        Assert.Contains("Fetching url", everything, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(Signature, everything, StringComparison.Ordinal);
        Assert.DoesNotContain("reader:", everything, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Ingest_abort_from_the_command_line_stops_a_running_batch()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/slow.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(20_000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(50), ChunkSize = 4096 });
        var id = Guid.NewGuid();
        var run = f.ImportAsync([server.Url("/slow.csv").ToString()], id);
        for (var i = 0; i < 600 && (await f.Recorder.TryGetBatchAsync(id))?.InsertCount is null or 0; i++)
        {
            await Task.Delay(50);
        }

        var exit = await CliApp.RunAsync(["abort", id.ToString(), "--connection", f.ConnectionString], new StringWriter(), new StringWriter());
        var result = await run;

        Assert.Equal(0, exit);
        Assert.Equal(BatchStatus.Aborted, result.Status);
        Assert.Equal(0, await f.ScalarAsync("SELECT count(*) FROM plants"));
    }
}
