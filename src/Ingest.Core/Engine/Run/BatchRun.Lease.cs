using System.Diagnostics;
using Ingest.Status;

namespace Ingest.Engine.Run;

internal sealed partial class BatchRun
{
    private BatchLease _lease = null!;

    /// <summary>
    /// True while this run holds its batch's lease: asked every tick of the monitor (so after a database restart the run
    /// takes the lease again within a tick of the server's return, and <c>ingest abort</c> sees it live) and before the
    /// run records its end. A lease lost with its session is taken again; one another process holds meanwhile (an abort
    /// marking the batch, a resume) is waited for as a start waits (<see cref="IngestOptions.LeaseWait"/>). Taken again,
    /// the batch must still be this run's: an abort may have found no run holding it and marked it <c>aborted</c>, or
    /// another run may have started it. False: this run has lost the batch and records nothing more. Throws while the
    /// database is out of reach.
    /// </summary>
    private async Task<bool> KeepsLeaseAsync(CancellationToken cancellationToken)
    {
        var state = await _lease.EnsureAsync(cancellationToken).ConfigureAwait(false);
        if (state == SessionLockState.Held)
        {
            return true;
        }

        var started = Stopwatch.GetTimestamp();
        while (state == SessionLockState.HeldElsewhere)
        {
            if (Stopwatch.GetElapsedTime(started) >= _options.LeaseWait)
            {
                return false;
            }

            await Task.Delay(LeasePoll, cancellationToken).ConfigureAwait(false);
            state = await _lease.EnsureAsync(cancellationToken).ConfigureAwait(false);
        }

        if (!await IsStillThisRunsAsync(cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        _log.Warn("The database session that held the batch's lease was lost (a database restart, or its backend was ended); took the lease again");
        return true;
    }

    private async Task<bool> IsStillThisRunsAsync(CancellationToken cancellationToken) =>
        _recorder is PostgresStatusRecorder postgres
            ? await postgres.IsCurrentRunAsync(_batchId, cancellationToken).ConfigureAwait(false)
            : await _recorder.TryGetBatchAsync(_batchId, cancellationToken).ConfigureAwait(false) is { } batch && !batch.Status.IsTerminal();

    /// <summary>The run has lost its batch to another process while it was cut off from the database: it stops, recording nothing.</summary>
    private void LoseBatch()
    {
        if (!_superseded)
        {
            _superseded = true;
            _log.Warn(Superseded);
        }

        RequestStop(abort: false);
    }
}
