namespace Ingest.Diagnostics;

/// <summary>
/// Names of the <see cref="System.Diagnostics.Metrics.Meter"/> and <see cref="System.Diagnostics.ActivitySource"/>
/// Ingest publishes, for hosts that subscribe by name: with OpenTelemetry,
/// <c>.WithMetrics(m =&gt; m.AddMeter(IngestDiagnostics.MeterName))</c> and
/// <c>.WithTracing(t =&gt; t.AddSource(IngestDiagnostics.ActivitySourceName))</c>; no code in the library is needed.
/// </summary>
public static class IngestDiagnostics
{
    /// <summary>The meter's name: <c>Ingest</c>.</summary>
    public const string MeterName = "Ingest";

    /// <summary>The activity source's name: <c>Ingest</c>.</summary>
    public const string ActivitySourceName = "Ingest";

    /// <summary>Rows COPYed into the dataset's table (counter, <c>{row}</c>; counted when their file commits). Tag <c>ingest.dataset</c>.</summary>
    public const string RowsInserted = "ingest.rows.inserted";

    /// <summary>Rows skipped as invalid (counter, <c>{row}</c>; counted when their file commits). Tag <c>ingest.dataset</c>.</summary>
    public const string RowsInvalid = "ingest.rows.invalid";

    /// <summary>Bytes read from the sources, after decompression (counter, <c>By</c>). Tag <c>ingest.dataset</c>.</summary>
    public const string BytesFetched = "ingest.bytes.fetched";

    /// <summary>Retries (counter, <c>{retry}</c>). Tags <c>ingest.dataset</c> and <c>ingest.retry.kind</c> (<c>source</c>: a fetch retried; <c>file</c>: a whole file retried after a database fault).</summary>
    public const string Retries = "ingest.retries";

    /// <summary>Time of one file's load, from its claim to its commit (histogram, <c>s</c>). Tags <c>ingest.dataset</c> and <c>ingest.file.outcome</c> (<c>loaded</c>, <c>failed</c>).</summary>
    public const string CopyDuration = "ingest.copy.duration";

    /// <summary>Streams (PostgreSQL connections) loading a file right now (up-down counter, <c>{stream}</c>). Tag <c>ingest.dataset</c>.</summary>
    public const string ActiveStreams = "ingest.streams.active";

    /// <summary>The span of one batch run.</summary>
    public const string BatchActivity = "ingest.batch";

    /// <summary>The span of one file's load inside a batch span.</summary>
    public const string FileActivity = "ingest.file";
}
