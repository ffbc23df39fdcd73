using Ingest.Engine.Loading;
using Ingest.Status;

namespace Ingest.Engine.Run;

internal sealed partial class BatchRun
{
    private bool _statusStoreDown;

    /// <summary>
    /// While the streams work: polls for an abort request (from any process sharing the recorder),
    /// publishes live counts to the batch record and the caller's progress, and appends a <c>started</c>
    /// snapshot to the timeline when counts changed and <see cref="IngestOptions.SnapshotInterval"/> passed (spaced out
    /// over a long run: <see cref="RecorderShared.SnapshotEvery"/>).
    /// </summary>
    /// <remarks>
    /// Stopped by disposing <paramref name="timer"/> (the loop then ends without an exception, which costs a fresh
    /// process milliseconds); <paramref name="cancellationToken"/> cuts short a status call still in flight.
    /// </remarks>
    private async Task MonitorAsync(IProgress<BatchProgress>? progress, PeriodicTimer timer, CancellationToken cancellationToken)
    {
        var lastProgress = TimeSpan.Zero;
        var lastSnapshot = _clock.Elapsed;
        (long, long) lastSnapshotCounts = (Interlocked.Read(ref _inserted), Interlocked.Read(ref _invalid));
        try
        {
            while (await timer.WaitForNextTickAsync(CancellationToken.None).ConfigureAwait(false))
            {
                // Nothing is asked of the batch before its lease is known held: an abort must see this run live.
                if (!await LeaseHeldThisTickAsync(cancellationToken).ConfigureAwait(false))
                {
                    continue;
                }

                await PollAbortAsync(cancellationToken).ConfigureAwait(false);
                var now = _clock.Elapsed;
                if (now - lastProgress < _options.ProgressInterval)
                {
                    continue;
                }

                lastProgress = now;
                progress?.Report(Snapshot(BatchStatus.Started));
                var counts = (Interlocked.Read(ref _inserted), Interlocked.Read(ref _invalid));
                await TryRecordAsync(() => _recorder.UpdateProgressAsync(_batchId, counts.Item1, counts.Item2, _log.Text, cancellationToken)).ConfigureAwait(false);
                if (now - lastSnapshot >= RecorderShared.SnapshotEvery(_options.SnapshotInterval, now) && counts != lastSnapshotCounts && !_stop.IsCancellationRequested)
                {
                    lastSnapshot = now;
                    lastSnapshotCounts = counts;
                    await TryRecordAsync(async () => await AppendAsync(BatchStatus.Started, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The streams are done.
        }
    }

    /// <summary>One tick's check of the lease (<see cref="KeepsLeaseAsync"/>): false while it cannot be known held, and once the batch is lost.</summary>
    private async Task<bool> LeaseHeldThisTickAsync(CancellationToken cancellationToken)
    {
        if (_superseded)
        {
            return false;
        }

        try
        {
            if (await KeepsLeaseAsync(cancellationToken).ConfigureAwait(false))
            {
                return true;
            }

            LoseBatch();
            return false;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The database is away: the streams ride it out; the next tick asks again.
            _ = ex;
            return false;
        }
    }

    private async Task PollAbortAsync(CancellationToken cancellationToken)
    {
        if (_abortRequested)
        {
            return;
        }

        try
        {
            if (await _recorder.IsAbortRequestedAsync(_batchId, cancellationToken).ConfigureAwait(false))
            {
                RequestStop(abort: true);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A status store blip must not stop the load; the next poll asks again.
            _ = ex;
        }
    }

    private async Task TryRecordAsync(Func<ValueTask> record)
    {
        try
        {
            await record().ConfigureAwait(false);
            _statusStoreDown = false;
        }
        catch (RunSupersededException)
        {
            // Another run has the batch (this one lost its lease with a database restart): it stops here.
            LoseBatch();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // One line per outage, not one per tick.
            if (!_statusStoreDown)
            {
                _statusStoreDown = true;
                _log.Warn($"Could not publish progress to the status store (retrying every tick): {LoadPolicy.Describe(ex)}");
            }
        }
    }
}
