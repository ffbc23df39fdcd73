using System.Runtime.CompilerServices;
using Ingest.Status;

namespace Ingest.Hosting;

public sealed partial class IngestService
{
    /// <summary>
    /// Watches a batch from any process sharing the recorder: yields each timeline entry (oldest first, starting with
    /// those already recorded), and between entries a record with the live counts whenever they changed, until an
    /// entry with a terminal status (<c>finished</c>, <c>error</c>, <c>aborted</c>), which is the last item. A batch
    /// not created yet is waited for (it may be about to start); cancel <paramref name="cancellationToken"/> to stop.
    /// Polls every <see cref="IngestHostOptions.WatchInterval"/>.
    /// </summary>
    /// <remarks>Live records carry the batch's current log and the time they were seen as <see cref="StatusRecord.UpdatedAt"/>.</remarks>
    public async IAsyncEnumerable<StatusRecord> WatchAsync(Guid batchId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var seen = 0;
        StatusRecord? last = null;
        while (true)
        {
            var batch = await Recorder.TryGetBatchAsync(batchId, cancellationToken).ConfigureAwait(false);
            if (batch is not null)
            {
                var timeline = await Recorder.GetTimelineAsync(batchId, cancellationToken).ConfigureAwait(false);

                // Newest first: the unseen entries are the first Count - seen.
                for (var i = timeline.Count - 1 - seen; i >= 0; i--)
                {
                    seen++;
                    last = timeline[i];
                    yield return last;
                    if (last.Status.IsTerminal())
                    {
                        yield break;
                    }
                }

                if (last is not null && !batch.Status.IsTerminal()
                    && (batch.InsertCount != last.InsertCount || batch.InvalidCount != last.InvalidCount))
                {
                    last = new StatusRecord(batchId, batch.Status, batch.InsertCount, batch.InvalidCount, batch.Log, _time.GetUtcNow());
                    yield return last;
                }
            }

            await Task.Delay(_options.WatchInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }
}
