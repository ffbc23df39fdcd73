using System.IO.Pipelines;

namespace Ingest.Csv;

/// <summary>
/// Copies a source stream into a <see cref="Pipe"/> on its own task, so the network (or disk) read of
/// a file overlaps the parsing of the bytes already read. A failure of the source completes the pipe
/// with that exception, so it surfaces on the parsing side.
/// </summary>
internal static class SourcePump
{
    private const int SegmentSize = BlockMemoryPool.BlockSize;

    // Both continuations run inline: the reader's only sets an event (PipeTextReader), and the writer's
    // resumes the pump, which soon awaits its source again. Scheduling them on the thread pool would
    // allocate a work item per 64 KB block on the parsing thread.
    public static PipeOptions Options { get; } = new(
        pool: BlockMemoryPool.Instance,
        readerScheduler: PipeScheduler.Inline,
        writerScheduler: PipeScheduler.ThreadPool,
        pauseWriterThreshold: 1024 * 1024,
        resumeWriterThreshold: 512 * 1024,
        minimumSegmentSize: SegmentSize,
        useSynchronizationContext: false);

    public static async Task RunAsync(Stream source, PipeWriter writer, Action<int>? bytesRead, CancellationToken cancellationToken)
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                var memory = writer.GetMemory(SegmentSize);
                var read = await source.ReadAsync(memory, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                writer.Advance(read);
                bytesRead?.Invoke(read);
                var flush = await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex)
        {
            error = ex;
        }
        finally
        {
            await writer.CompleteAsync(error).ConfigureAwait(false);
        }
    }
}
