using System.Diagnostics;
using Ingest.Engine.Loading;
using Ingest.Status;

namespace Ingest.Engine.Run;

internal sealed partial class BatchRun
{
    /// <summary>How often a run asks again for a lease another process holds.</summary>
    private static readonly TimeSpan LeasePoll = TimeSpan.FromMilliseconds(100);

    public async Task<BatchResult> RunAsync(IProgress<BatchProgress>? progress, CancellationToken cancellationToken)
    {
        // Everything that can be wrong with the request is found before the batch exists or data moves.
        _encoder = new Copy.RowEncoder(_request.Dataset, _request.Format);
        _layout = _engine.Layout(_request);
        _csvOptions = new Csv.CsvReadOptions(_options.HeaderLines, _options.MaxRecordSize);
        (_files, var sourceWarnings) = BatchFiles.Distinct(_request.Sources, _options.MaxFilesPerBatch);

        // A run started while the database restarts, or has no free connection slot, waits for it as the streams would.
        var tableWarnings = await RideOutAsync(() => PrepareAsync(cancellationToken), cancellationToken).ConfigureAwait(false);
        var (lease, waited) = await RideOutAsync(() => AcquireLeaseAsync(cancellationToken), cancellationToken).ConfigureAwait(false);
        await using (lease.ConfigureAwait(false))
        {
            return await RunLeasedAsync([.. sourceWarnings, .. tableWarnings], waited, progress, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<IReadOnlyList<string>> PrepareAsync(CancellationToken cancellationToken)
    {
        await FileLedger.EnsureAsync(_dataSource, cancellationToken).ConfigureAwait(false);
        if (_recorder is PostgresStatusRecorder postgresRecorder)
        {
            await postgresRecorder.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        }

        BatchIdentity.Check(await _recorder.TryGetBatchAsync(_batchId, cancellationToken).ConfigureAwait(false), _request);
        return await _layout.EnsureAsync(_dataSource, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Takes the batch's lease, waiting up to <see cref="IngestOptions.LeaseWait"/> while another process holds it: a
    /// run killed a moment ago still holds it until the server notices its sessions are gone, and a supervisor that
    /// restarts it at once must not be refused for that. A run still holding it after the wait is live: refused.
    /// </summary>
    private async Task<(BatchLease Lease, TimeSpan Waited)> AcquireLeaseAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var announced = false;
        while (true)
        {
            if (await BatchLease.TryAcquireAsync(_dataSource, _batchId, cancellationToken).ConfigureAwait(false) is { } lease)
            {
                return (lease, announced ? Stopwatch.GetElapsedTime(started) : TimeSpan.Zero);
            }

            if (Stopwatch.GetElapsedTime(started) >= _options.LeaseWait)
            {
                throw new BatchAlreadyRunningException(_batchId);
            }

            if (!announced)
            {
                announced = true;
                Announce(BatchLogLevel.Warn, $"Batch {_batchId} is held by another process: waiting up to {_options.LeaseWait.TotalSeconds:0} s for it to let go (a run that has just stopped holds it until the server notices its sessions are gone)");
            }

            await Task.Delay(LeasePoll, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs a step of the start while the database is out of reach (a restart, no free connection slot), for up to
    /// <see cref="IngestOptions.DatabaseOutageTolerance"/> from the first such fault, saying so once.
    /// </summary>
    private async Task<T> RideOutAsync<T>(Func<Task<T>> step, CancellationToken cancellationToken)
    {
        long? since = null;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await step().ConfigureAwait(false);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && LoadPolicy.IsDatabaseUnavailable(ex)
                && Stopwatch.GetElapsedTime(since ??= Stopwatch.GetTimestamp()) < _options.DatabaseOutageTolerance)
            {
                if (attempt == 1)
                {
                    Announce(BatchLogLevel.Warn, $"The database is out of reach ({LoadPolicy.Describe(ex)}): trying again for up to {_options.DatabaseOutageTolerance.TotalSeconds:0} s");
                }

                await Task.Delay(Sources.Backoff.Delay(LoadPolicy.RetryInitial, LoadPolicy.OutageRetryMax, attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>A line for the host (<see cref="IngestOptions.OnLogLine"/>) before the batch's own log exists.</summary>
    private void Announce(BatchLogLevel level, string message) =>
        _options.OnLogLine?.Invoke(_batchId, level, BatchLog.FormatLine(level, Redactor.RedactText(message), DateTimeOffset.UtcNow));
}
