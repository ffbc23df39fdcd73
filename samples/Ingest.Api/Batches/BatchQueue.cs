using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Ingest.Api.Batches;

/// <summary>One batch waiting for (or in) a worker of this process.</summary>
internal sealed record BatchJob(Guid BatchId, ImportRequest Request, bool Resume)
{
    public CancellationTokenSource Cancel { get; } = new();
}

/// <summary>
/// The batches of this process: a bounded queue for the workers, and each queued or running batch's
/// cancellation, so an abort asked here stops it at once (other processes' aborts arrive through the recorder).
/// </summary>
internal sealed class BatchQueue(ApiSettings settings)
{
    private readonly Channel<BatchJob> _channel = Channel.CreateBounded<BatchJob>(new BoundedChannelOptions(settings.QueueCapacity) { FullMode = BoundedChannelFullMode.Wait });
    private readonly ConcurrentDictionary<Guid, BatchJob> _live = new();

    public ChannelReader<BatchJob> Reader => _channel.Reader;

    /// <summary>Queues a job; false when the same batch is already queued or running here, or the queue is full.</summary>
    public bool TryEnqueue(BatchJob job)
    {
        if (!_live.TryAdd(job.BatchId, job))
        {
            return false;
        }

        if (_channel.Writer.TryWrite(job))
        {
            return true;
        }

        _live.TryRemove(job.BatchId, out _);
        return false;
    }

    public bool IsLive(Guid batchId) => _live.ContainsKey(batchId);

    /// <summary>Cancels the batch if this process queues or runs it (the engine then records it <c>aborted</c>).</summary>
    public void CancelLocal(Guid batchId)
    {
        if (_live.TryGetValue(batchId, out var job))
        {
            job.Cancel.Cancel();
        }
    }

    public void Done(BatchJob job)
    {
        _live.TryRemove(new KeyValuePair<Guid, BatchJob>(job.BatchId, job));
        job.Cancel.Dispose();
    }
}
