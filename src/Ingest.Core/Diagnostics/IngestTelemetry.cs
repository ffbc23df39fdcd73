using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Ingest.Diagnostics;

/// <summary>
/// The instruments behind <see cref="IngestDiagnostics"/>. Instruments cost next to nothing while no listener
/// is subscribed (<c>Add</c> returns at once), so the engine records unconditionally; but it records per file
/// or per published chunk, never per row. Where each is recorded (the engine places the calls):
/// <list type="bullet">
/// <item><see cref="RowsInserted"/>/<see cref="RowsInvalid"/>: once per file after its COMMIT in <c>FileLoad</c> (the one unit that loads a file under <c>import</c> and queue workers), with the file's counts.</item>
/// <item><see cref="BytesFetched"/>: in the unit's <c>FileObserver</c>, fed by the <c>CsvRecordReader</c> byte callback.</item>
/// <item><see cref="Retries"/>: in <c>SourceOpener.Retrying</c>'s handler (kind <c>source</c>) and in <c>FileLoad</c>'s retry (kind <c>file</c>).</item>
/// <item><see cref="CopyDuration"/>: per attempt of a file in <c>FileLoad</c>, when it commits (<c>loaded</c>) or not.</item>
/// <item><see cref="ActiveStreams"/>: +1 when a stream starts a file, -1 in a <c>finally</c> when it is done with it.</item>
/// <item><see cref="StartBatch"/>: around <c>BatchRun.RunAsync</c>; <see cref="StartFile"/>: around each attempt in <c>FileLoad</c>.</item>
/// </list>
/// </summary>
internal static class IngestTelemetry
{
    public const string DatasetTag = "ingest.dataset";
    public const string RetryKindTag = "ingest.retry.kind";
    public const string OutcomeTag = "ingest.file.outcome";

    private static readonly string? Version = typeof(IngestTelemetry).Assembly.GetName().Version?.ToString();

    public static readonly Meter Meter = new(IngestDiagnostics.MeterName, Version);

    public static readonly ActivitySource Source = new(IngestDiagnostics.ActivitySourceName, Version);

    public static readonly Counter<long> RowsInserted =
        Meter.CreateCounter<long>(IngestDiagnostics.RowsInserted, "{row}", "Rows COPYed into the dataset's table (counted when their file commits).");

    public static readonly Counter<long> RowsInvalid =
        Meter.CreateCounter<long>(IngestDiagnostics.RowsInvalid, "{row}", "Rows skipped as invalid (counted when their file commits).");

    public static readonly Counter<long> BytesFetched =
        Meter.CreateCounter<long>(IngestDiagnostics.BytesFetched, "By", "Bytes read from the sources, after decompression.");

    public static readonly Counter<long> Retries =
        Meter.CreateCounter<long>(IngestDiagnostics.Retries, "{retry}", "Fetches (source) and file loads (file) retried after a fault that may pass.");

    public static readonly Histogram<double> CopyDuration =
        Meter.CreateHistogram<double>(IngestDiagnostics.CopyDuration, "s", "Time of one file's load, from its claim to its commit.");

    public static readonly UpDownCounter<int> ActiveStreams =
        Meter.CreateUpDownCounter<int>(IngestDiagnostics.ActiveStreams, "{stream}", "Streams loading a file right now.");

    /// <summary>The dataset tag, e.g. <c>IngestTelemetry.RowsInserted.Add(n, IngestTelemetry.Dataset(name))</c>.</summary>
    public static KeyValuePair<string, object?> Dataset(string dataset) => new(DatasetTag, dataset);

    /// <summary>Records a retry of <paramref name="kind"/> (<c>source</c> or <c>file</c>).</summary>
    public static void Retry(string dataset, string kind) =>
        Retries.Add(1, new KeyValuePair<string, object?>(DatasetTag, dataset), new KeyValuePair<string, object?>(RetryKindTag, kind));

    /// <summary>Records one file's load time; <paramref name="loaded"/> false when it rolled back.</summary>
    public static void FileLoaded(string dataset, TimeSpan elapsed, bool loaded) =>
        CopyDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>(DatasetTag, dataset), new KeyValuePair<string, object?>(OutcomeTag, loaded ? "loaded" : "failed"));

    /// <summary>Starts the span of a batch run (<see langword="null"/> while nobody listens); dispose it when the run ends.</summary>
    public static Activity? StartBatch(Guid batchId, string dataset, int files)
    {
        var activity = Source.StartActivity(IngestDiagnostics.BatchActivity, ActivityKind.Internal);
        activity?.SetTag("ingest.batch.id", batchId.ToString());
        activity?.SetTag(DatasetTag, dataset);
        activity?.SetTag("ingest.batch.files", files);
        return activity;
    }

    /// <summary>
    /// Starts the span of one file (a child of the batch span when started on a thread that carries it: the
    /// stream workers are started inside the batch span, so <see cref="Activity.Current"/> flows to them).
    /// <paramref name="fileKey"/> is the file's key (URL without query), never the full URL.
    /// </summary>
    public static Activity? StartFile(string fileKey, string dataset)
    {
        var activity = Source.StartActivity(IngestDiagnostics.FileActivity, ActivityKind.Internal);
        activity?.SetTag("ingest.file", fileKey);
        activity?.SetTag(DatasetTag, dataset);
        return activity;
    }

    /// <summary>Ends a span with its outcome: the batch status word or the file's error.</summary>
    public static void End(Activity? activity, string outcome, bool failed)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("ingest.outcome", outcome);
        if (failed)
        {
            activity.SetStatus(ActivityStatusCode.Error, outcome);
        }

        activity.Dispose();
    }
}
