using System.Diagnostics.Metrics;
using System.Text;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Diagnostics;
using Ingest.Status;

namespace Ingest.Core.Tests.Engine;

public sealed class RetryMetricTests
{
    [SkippableFact]
    public async Task A_retried_fetch_is_counted_on_the_retries_metric()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { Streams = 1 });
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/flaky.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(50)), new HttpFault { FailFirst = 2, FailStatus = 503 });
        var dataset = $"retry_{Guid.NewGuid():N}";
        long retries = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == IngestDiagnostics.MeterName && instrument.Name == IngestDiagnostics.Retries)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == IngestTelemetry.DatasetTag && (string?)tag.Value == dataset)
                {
                    Interlocked.Add(ref retries, value);
                }
            }
        });
        listener.Start();

        var result = await f.Engine.ImportAsync(new ImportRequest(EngineFixture.Plants(dataset), EngineFixture.PlantsFormat, [server.Url("/flaky.csv").ToString()]));

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(2, Interlocked.Read(ref retries));
    }

    [Fact]
    public async Task An_uncompressed_local_file_knows_its_size_for_the_per_file_ETA_and_a_gzip_one_does_not()
    {
        var folder = Directory.CreateTempSubdirectory("ingest-size-").FullName;
        try
        {
            var plain = Path.Combine(folder, "a.csv");
            await File.WriteAllTextAsync(plain, EngineFixture.Rows(100));
            var gzip = Path.Combine(folder, "a.csv.gz");
            await File.WriteAllBytesAsync(gzip, EngineFixture.Gzip(EngineFixture.Rows(100)));
            using var opener = new Ingest.Sources.SourceOpener(new Ingest.Sources.SourceOptions());

            await using var plainStream = await opener.OpenAsync(Ingest.Sources.SourceFile.Parse(plain));
            await using var gzipStream = await opener.OpenAsync(Ingest.Sources.SourceFile.Parse(gzip));

            Assert.Equal(new FileInfo(plain).Length, ((Ingest.Sources.GuardedDecompressionStream)plainStream).ExpectedLength);
            Assert.Null(((Ingest.Sources.GuardedDecompressionStream)gzipStream).ExpectedLength);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
