using System.IO.Pipelines;
using Ingest.Sources;

namespace Ingest.Csv;

/// <summary>
/// Copies a source stream into a <see cref="Pipe"/> on its own task, so the network read (or the
/// decompression) of a file overlaps the parsing of the bytes already read. A failure of the source
/// completes the pipe with that exception, so it surfaces on the parsing side. An uncompressed local file
/// is instead read by the parsing thread itself (<see cref="FillOnce"/>): its reads are page-cache copies
/// that the kernel's read-ahead already overlaps with the disk, and a pump would add a thread-pool hop and
/// a wake-up per 64 KiB block (measured: 18% of the client's CPU time, bench/results/2026-11-29-inline-read.md).
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

    /// <summary>
    /// The pipe of a source read inline (<see cref="FillOnce"/>): the parser writes a block only when it has
    /// read everything before it, so at most one block waits and the writer never needs to pause.
    /// </summary>
    public static PipeOptions InlineOptions { get; } = new(
        pool: BlockMemoryPool.Instance,
        readerScheduler: PipeScheduler.Inline,
        writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: 0,
        minimumSegmentSize: SegmentSize,
        useSynchronizationContext: false);

    /// <summary>Reads one block of <paramref name="source"/> into the pipe on the calling thread; completes the pipe at the end.</summary>
    public static void FillOnce(GuardedDecompressionStream source, PipeWriter writer, Action<int>? bytesRead, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var read = source.ReadInline(writer.GetSpan(SegmentSize));
        if (read == 0)
        {
            writer.Complete();
            return;
        }

        writer.Advance(read);
        bytesRead?.Invoke(read);
        var flush = writer.FlushAsync(CancellationToken.None);
        if (!flush.IsCompleted)
        {
            throw new InvalidOperationException("An inline pipe never pauses its writer.");
        }

        flush.GetAwaiter().GetResult();
    }

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
