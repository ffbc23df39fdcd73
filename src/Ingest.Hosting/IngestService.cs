using Ingest.Status;

namespace Ingest.Hosting;

/// <summary>
/// Ingest for a host: runs batches on the registered <see cref="IngestEngine"/> with their log lines mirrored
/// to <c>ILogger</c>, and watches any batch's status as it changes. Registered by <c>AddIngest</c>; thread-safe.
/// </summary>
public sealed partial class IngestService
{
    private readonly IngestHostOptions _options;
    private readonly BatchLogBridge? _bridge;
    private readonly TimeProvider _time;

    internal IngestService(IngestEngine engine, IngestHostOptions options, BatchLogBridge? bridge, TimeProvider time)
    {
        Engine = engine;
        _options = options;
        _time = time;
        _bridge = bridge;
    }

    /// <summary>The engine.</summary>
    public IngestEngine Engine { get; }

    /// <summary>The recorder that keeps the timelines.</summary>
    public IStatusRecorder Recorder => Engine.Recorder;

    /// <summary>
    /// Runs a batch to its end like <see cref="IngestEngine.ImportAsync"/>, writing its log lines to <c>ILogger</c>
    /// (category <c>Ingest.Batch</c>) with <c>BatchId</c> and <c>DatasetId</c> in scope as they reach the recorder.
    /// A request without a batch id gets a new one.
    /// </summary>
    /// <exception cref="Schema.SchemaException">The format does not fit the dataset, or the table exists with other columns. Nothing was written.</exception>
    /// <exception cref="ArgumentException">A source cannot be read by Ingest, or the batch id belongs to another dataset.</exception>
    public async Task<BatchResult> ImportAsync(ImportRequest request, IProgress<BatchProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.BatchId is null)
        {
            request = request with { BatchId = Guid.NewGuid() };
        }

        if (_bridge is null)
        {
            return await Engine.ImportAsync(request, progress, cancellationToken).ConfigureAwait(false);
        }

        using var tracking = _bridge.Track(request.BatchId.Value, request.Dataset.Name);
        return await Engine.ImportAsync(request, progress, cancellationToken).ConfigureAwait(false);
    }

}
