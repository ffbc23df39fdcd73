using System.Text;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Status;

namespace Ingest.Core.Tests.Engine;

public sealed class HttpImportTests
{
    [SkippableFact]
    public async Task Http_gzip_and_local_sources_load_together_and_the_log_names_urls_without_their_query()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/data/a.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(400)));
        server.AddFile("/data/b.csv.gz", EngineFixture.Gzip(EngineFixture.Rows(300, 1000)));
        server.AddFile("/data/c.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(200, 2000)), new HttpFault { GzipEncoded = true });
        var local = f.WriteFile("d.csv", EngineFixture.Rows(100, 3000));
        var signed = server.Url("/data/a.csv?X-Amz-Signature=TOPSECRET&X-Amz-Credential=AKIA").ToString();

        var result = await f.ImportAsync([signed, server.Url("/data/b.csv.gz").ToString(), server.Url("/data/c.csv").ToString(), local]);

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(1000, result.InsertCount);
        Assert.Equal(1000, await f.ScalarAsync("SELECT count(*) FROM plants"));
        var batch = await f.Recorder.GetBatchAsync(result.BatchId);
        Assert.Contains($"INFO Fetching url {server.Url("/data/a.csv")}", batch.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("TOPSECRET", batch.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("TOPSECRET", batch.Source.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, await f.ScalarAsync("SELECT count(*) FROM ingest.import_file WHERE file_key LIKE '%TOPSECRET%'"));
    }

    [SkippableFact]
    public async Task A_file_listed_twice_is_loaded_once_and_the_log_says_so_without_the_queries()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/data/a.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(30)));
        var local = f.WriteFile("b.csv", EngineFixture.Rows(20, 1000));
        var url = server.Url("/data/a.csv").ToString();

        var result = await f.ImportAsync([url + "?X-Amz-Signature=FIRST", local, url + "?X-Amz-Signature=SECOND", local]);

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(50, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(1, server.RequestCount("/data/a.csv"));
        Assert.Equal((2, 2), (result.FilesLoaded, result.FilesTotal));
        var log = (await f.Recorder.GetBatchAsync(result.BatchId)).Log;
        Assert.Contains($"WARN The batch lists {url} more than once, written differently", log, StringComparison.Ordinal);
        Assert.Contains($"WARN The batch lists {local} more than once: it is loaded once", log, StringComparison.Ordinal);
        Assert.DoesNotContain("FIRST", log, StringComparison.Ordinal);
        Assert.DoesNotContain("SECOND", log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_body_cut_without_range_support_restarts_the_file_and_loads_it_exactly_once()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        var rows = EngineFixture.Rows(20_000);
        server.AddFile("/cut.csv", Encoding.UTF8.GetBytes(rows), new HttpFault { DropAfterBytes = rows.Length / 2, DropFirst = 1, SupportsRange = false });

        var result = await f.ImportAsync([server.Url("/cut.csv").ToString()]);

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(20_000, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(20_000, await f.ScalarAsync("SELECT count(DISTINCT entity_id) FROM plants"));
        Assert.True(server.RequestCount("/cut.csv") >= 2);
        Assert.Contains("Retrying", (await f.Recorder.GetBatchAsync(result.BatchId)).Log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_file_read_again_from_its_start_does_not_make_the_live_count_go_down()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        var rows = EngineFixture.Rows(20_000);
        var half = rows.Length / 2;

        // A slow body (about 0.8 s a pass), cut at its middle once by a server that cannot resume: the next pass reads
        // the first half again while the live count is sampled every 50 ms.
        server.AddFile("/slow.csv", Encoding.UTF8.GetBytes(rows), new HttpFault
        {
            DropAfterBytes = half, DropFirst = 1, SupportsRange = false, ChunkSize = 32 * 1024, ChunkDelay = TimeSpan.FromMilliseconds(10),
        });
        var counts = new System.Collections.Concurrent.ConcurrentQueue<long>();

        var result = await f.Engine.ImportAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [server.Url("/slow.csv").ToString()]), new EngineFixture.CountRecording(counts));

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(20_000, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.True(server.RequestCount("/slow.csv") >= 2);
        var seen = counts.ToArray();
        Assert.Contains(seen, c => c > 0 && c < 20_000); // it did show the first pass's rows while they loaded
        for (var i = 1; i < seen.Length; i++)
        {
            Assert.True(seen[i] >= seen[i - 1], $"the live count went from {seen[i - 1]} down to {seen[i]}: {string.Join(", ", seen)}");
        }

        Assert.Equal(20_000, seen[^1]);
        var timeline = await f.Recorder.GetTimelineAsync(result.BatchId);
        var started = timeline.Where(r => r.Status == BatchStatus.Started).Select(r => r.InsertCount).Reverse().ToArray();
        Assert.Equal(started.Order(), started);
    }

    [SkippableFact]
    public async Task A_body_cut_with_range_support_resumes_and_loads_every_row_once()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        var rows = EngineFixture.Rows(20_000);
        server.AddFile("/resume.csv", Encoding.UTF8.GetBytes(rows), new HttpFault { DropAfterBytes = rows.Length / 3, DropFirst = 1 });

        var result = await f.ImportAsync([server.Url("/resume.csv").ToString()]);

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(20_000, await f.ScalarAsync("SELECT count(DISTINCT entity_id) FROM plants"));
        Assert.Equal(20_000, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Contains(server.Requests("/resume.csv"), r => r.Status == 206);
    }

    [SkippableFact]
    public async Task Http_404_is_a_file_error_naming_the_url_without_its_query()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();

        var result = await f.ImportAsync([server.Url("/missing.csv?sig=HUSH").ToString()]);

        Assert.Equal(BatchStatus.Error, result.Status);
        Assert.Contains(server.Url("/missing.csv").ToString(), result.Error, StringComparison.Ordinal);
        Assert.Contains("404", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("HUSH", (await f.Recorder.GetBatchAsync(result.BatchId)).Log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_server_asking_to_wait_longer_than_ingest_waits_ends_the_batch_saying_so_and_a_rerun_resumes_it()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/busy.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(50)), new HttpFault { FailFirst = 1, FailStatus = 503, RetryAfterSeconds = 600 });
        var url = server.Url("/busy.csv").ToString();

        var first = await f.ImportAsync([url + "?sig=HUSH"]);

        Assert.Equal(BatchStatus.Error, first.Status);
        Assert.Equal(1, server.RequestCount("/busy.csv")); // not hammered
        Assert.Contains("the server asked to wait 600 s (Retry-After), more than Ingest waits (SourceOptions.MaxRetryAfter, 120 s)", first.Error, StringComparison.Ordinal);
        var log = (await f.Recorder.GetBatchAsync(first.BatchId)).Log!;
        Assert.Contains($"{url}: HTTP 503 Service Unavailable: the server asked to wait 600 s", log, StringComparison.Ordinal);
        Assert.DoesNotContain("HUSH", log, StringComparison.Ordinal);

        var again = await f.ImportAsync([url + "?sig=HUSH"], first.BatchId);

        Assert.Equal(BatchStatus.Finished, again.Status);
        Assert.Equal(50, await f.ScalarAsync("SELECT count(*) FROM plants"));
    }

    [SkippableFact]
    public async Task An_untrusted_tls_certificate_ends_the_batch_with_the_reason_and_the_fix_in_the_error_and_the_log()
    {
        await using var f = await EngineFixture.CreateAsync();
        using var certificate = LoopbackHttpServer.SelfSignedCertificate();
        await using var server = await LoopbackHttpServer.StartAsync(certificate);
        server.AddFile("/a.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(10)));

        var result = await f.ImportAsync([server.Url("/a.csv").ToString()]);

        Assert.Equal(BatchStatus.Error, result.Status);
        Assert.Contains("UntrustedRoot", result.Error, StringComparison.Ordinal);
        Assert.Contains("SSL_CERT_FILE", result.Error, StringComparison.Ordinal);
        var log = (await f.Recorder.GetBatchAsync(result.BatchId)).Log!;
        var line = Assert.Single(log.Split('\n'), l => l.Contains(" ERROR ", StringComparison.Ordinal) && l.Contains(server.Url("/a.csv").ToString(), StringComparison.Ordinal));
        Assert.Contains("TLS handshake failed (The remote certificate is invalid because of errors in the certificate chain: UntrustedRoot)", line, StringComparison.Ordinal);
        Assert.DoesNotContain("see inner exception", log, StringComparison.Ordinal);
    }
}
