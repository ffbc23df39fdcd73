using System.Collections.Concurrent;
using Ingest.Core.Tests.Copy;
using Ingest.Status;
using Ingest.Validation;

namespace Ingest.Core.Tests.Engine;

/// <summary>Every invalid row reaches the host; the log names the first ones of every file, not only of the first files.</summary>
public sealed class InvalidRowReportTests
{
    private const string BadRow = "x,0,1,2,,5,,,\n";

    // Valid rows with 'count' invalid ones between them: invalid rows are on the even lines 2, 4, ...
    private static string Mixed(int count, int start) =>
        string.Concat(Enumerable.Range(0, count).Select(i => EngineFixture.Row(start + i) + BadRow));

    [SkippableFact]
    public async Task Each_file_logs_its_first_invalid_rows_and_the_host_gets_every_one()
    {
        var seen = new ConcurrentBag<(Guid Batch, RowError Error)>();
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 2, OnInvalidRow = (batch, error) => seen.Add((batch, error)) });
        var a = f.WriteFile("a.csv", Mixed(25, 0));
        var b = f.WriteFile("b.csv", Mixed(15, 1000));

        var result = await f.ImportAsync([a, b]);

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(40, result.InvalidCount);
        Assert.Equal(40, seen.Count);
        Assert.All(seen, s => Assert.Equal(result.BatchId, s.Batch));
        Assert.Equal(Enumerable.Range(1, 25).Select(i => 2L * i), seen.Where(s => s.Error.FileKey == a).Select(s => s.Error.Line).Order());
        Assert.Equal(Enumerable.Range(1, 15).Select(i => 2L * i), seen.Where(s => s.Error.FileKey == b).Select(s => s.Error.Line).Order());
        Assert.All(seen, s => Assert.Equal("entityId", s.Error.Field));

        var log = (await f.Recorder.GetBatchAsync(result.BatchId)).Log!.Split('\n');
        foreach (var file in (string[])[a, b])
        {
            Assert.Equal(10, log.Count(l => l.Contains($"WARN Invalid row skipped: {file} line ", StringComparison.Ordinal)));
            Assert.Single(log, l => l.EndsWith($"WARN Further invalid rows of {file} are skipped and counted without a log line each", StringComparison.Ordinal));
        }
    }

    [SkippableFact]
    public async Task A_queue_worker_gives_the_host_every_invalid_row_and_logs_the_first_of_each_file()
    {
        var seen = new ConcurrentBag<RowError>();
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { MaxRowErrorsLogged = 3, OnInvalidRow = (_, error) => seen.Add(error) });
        var a = f.WriteFile("a.csv", Mixed(6, 0));
        var b = f.WriteFile("b.csv", Mixed(2, 1000));
        var id = await f.Engine.SubmitAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [a, b]));

        await f.Engine.RunWorkerAsync(new WorkerOptions { Name = "w", Streams = 2, ExitWhenIdle = true, PollInterval = TimeSpan.FromMilliseconds(50) });

        Assert.Equal(8, seen.Count);
        var batch = await f.Recorder.GetBatchAsync(id);
        Assert.Equal(BatchStatus.Finished, batch.Status);
        var log = batch.Log!.Split('\n');
        Assert.Equal(3, log.Count(l => l.Contains($"[w] Invalid row skipped: {a} line ", StringComparison.Ordinal)));
        Assert.Single(log, l => l.EndsWith($"[w] Further invalid rows of {a} are skipped and counted without a log line each", StringComparison.Ordinal));
        Assert.Equal(2, log.Count(l => l.Contains($"[w] Invalid row skipped: {b} line ", StringComparison.Ordinal)));
        Assert.DoesNotContain(log, l => l.Contains($"Further invalid rows of {b}", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task The_cli_rejects_file_holds_every_invalid_row_and_a_resume_appends_to_it()
    {
        await using var f = await EngineFixture.CreateAsync();
        var a = f.WriteFile("a.csv", Mixed(12, 0));
        var missing = Path.Combine(f.Folder, "b, \"quoted\".csv");
        var rejects = Path.Combine(f.Folder, "rejects.csv");
        var id = Guid.NewGuid().ToString();
        string[] common = ["import", "--dataset", "rejects_plants", "--schema", RowEncoderTests.Plants, "--format", RowEncoderTests.PlantsFormat, "--streams", "1", "--batch-id", id, "--rejects", rejects, "--connection", f.ConnectionString];

        var first = await Ingest.Cli.CliApp.RunAsync([.. common, a, missing], new StringWriter(), new StringWriter());
        File.WriteAllText(missing, Mixed(2, 500));
        var second = await Ingest.Cli.CliApp.RunAsync([.. common, a, missing], new StringWriter(), new StringWriter());

        Assert.Equal((1, 0), (first, second));
        var lines = File.ReadAllLines(rejects);
        Assert.Equal("batch_id,file,line,field,reason", lines[0]);
        Assert.Equal(1 + 12 + 2, lines.Length);
        Assert.Equal($"{id},{a},2,entityId,'x' is not a UUID", lines[1]);
        Assert.Equal($"{id},\"{missing.Replace("\"", "\"\"", StringComparison.Ordinal)}\",4,entityId,'x' is not a UUID", lines[^1]);
    }

    [SkippableTheory]
    [InlineData("/dev/null", null)]
    [InlineData("/dev/full", "--rejects: writing /dev/full failed (")]
    public async Task A_rejects_file_that_is_a_device_or_runs_out_of_room_never_fails_the_load(string rejects, string? warning)
    {
        Skip.IfNot(File.Exists(rejects), $"{rejects} is not on this machine");
        await using var f = await EngineFixture.CreateAsync();
        var stderr = new StringWriter();

        var exit = await Ingest.Cli.CliApp.RunAsync(
            ["import", "--dataset", "dev_plants", "--schema", RowEncoderTests.Plants, "--format", RowEncoderTests.PlantsFormat, "--rejects", rejects, "--connection", f.ConnectionString, f.WriteFile("a.csv", Mixed(3000, 0))],
            new StringWriter(),
            stderr);

        Assert.True(exit == 0, stderr.ToString());
        Assert.Equal(3000, await f.ScalarAsync("SELECT count(*) FROM dev_plants"));
        if (warning is null)
        {
            Assert.DoesNotContain("--rejects", stderr.ToString(), StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains($"ingest: warning: {warning}", stderr.ToString(), StringComparison.Ordinal);
            Assert.Contains("): it is incomplete, at least ", stderr.ToString(), StringComparison.Ordinal);
        }
    }
}
