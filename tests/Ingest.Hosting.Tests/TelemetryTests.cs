using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Ingest.Diagnostics;
using Ingest.Status;
using Ingest.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Ingest.Hosting.Tests;

public sealed class TelemetryTests
{
    // Enable once the engine records through Ingest.Diagnostics.IngestTelemetry (the calls are listed on that class).

    [SkippableFact]
    public async Task A_batch_records_rows_bytes_copy_time_and_a_span_per_batch_and_per_file()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync();
        await using var provider = new ServiceCollection().AddIngest(o => o.ConnectionString = connectionString).BuildServiceProvider();
        // The meter is static and tests run in parallel: count only this test's dataset.
        const string dataset = "plants_telemetry";
        var request = Plants.Request(Plants.File(Plants.Rows(300) + "bad,row\n"), Plants.File(Plants.Rows(200))) with
        {
            Dataset = Ingest.Schema.DatasetSchema.Parse(Plants.Document, dataset),
        };
        var measurements = new ConcurrentDictionary<string, double>();
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == IngestDiagnostics.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        static bool Ours(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "ingest.dataset" && (string?)tag.Value == dataset)
                {
                    return true;
                }
            }

            return false;
        }

        meters.SetMeasurementEventCallback<long>((i, value, tags, _) =>
        {
            if (Ours(tags))
            {
                measurements.AddOrUpdate(i.Name, value, (_, sum) => sum + value);
            }
        });
        meters.SetMeasurementEventCallback<int>((i, value, tags, _) =>
        {
            if (Ours(tags))
            {
                measurements.AddOrUpdate(i.Name, value, (_, sum) => sum + value);
            }
        });
        meters.SetMeasurementEventCallback<double>((i, _, tags, _) =>
        {
            if (Ours(tags))
            {
                measurements.AddOrUpdate(i.Name + ".count", 1, (_, n) => n + 1);
            }
        });
        meters.Start();
        var spans = new ConcurrentQueue<Activity>();
        using var activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == IngestDiagnostics.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                if ((string?)a.GetTagItem("ingest.dataset") == dataset)
                {
                    spans.Enqueue(a);
                }
            },
        };
        ActivitySource.AddActivityListener(activities);

        var result = await provider.GetRequiredService<IngestService>().ImportAsync(request);

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(500, measurements[IngestDiagnostics.RowsInserted]);
        Assert.Equal(1, measurements[IngestDiagnostics.RowsInvalid]);
        Assert.True(measurements[IngestDiagnostics.BytesFetched] > 0);
        Assert.Equal(2, measurements[IngestDiagnostics.CopyDuration + ".count"]);
        Assert.Equal(0, measurements.GetValueOrDefault(IngestDiagnostics.ActiveStreams));
        var batch = Assert.Single(spans, s => s.OperationName == IngestDiagnostics.BatchActivity);
        var files = spans.Where(s => s.OperationName == IngestDiagnostics.FileActivity).ToList();
        Assert.Equal(2, files.Count);
        Assert.All(files, f => Assert.Equal(batch.SpanId, f.ParentSpanId));
    }
}
