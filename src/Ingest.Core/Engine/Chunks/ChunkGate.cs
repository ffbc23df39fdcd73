namespace Ingest.Engine.Chunks;

/// <summary>
/// Where the chunks of one file meet before any of them commits, so the file stays whole, as SPEC §2 asks of
/// every file: an abort or a file error that comes while they copy rolls all of them back, not just the chunks
/// still copying. Once every chunk of the run has copied its rows, they commit one after another within
/// milliseconds, and nothing stops them then; only a crash in those milliseconds can leave some of the chunks
/// committed, and a resume loads the rest (their ledger rows say which).
/// </summary>
/// <remarks>
/// No deadlock: a file has at most as many chunks as the run has streams, its chunks are next to each other in
/// the run's queue, which the streams take in order, and a chunk retries on its own stream. So while some of a
/// file's chunks wait here, every chunk of an earlier file is already on a stream, and a stream that frees up
/// takes this file's next chunk.
/// </remarks>
/// <param name="chunks">How many chunks of the file this run loads (all of them, or on a resume the missing ones).</param>
internal sealed class ChunkGate(int chunks)
{
    private readonly HashSet<int> _copied = [];
    private readonly ManualResetEventSlim _open = new(chunks <= 1);

    /// <summary>True once every chunk has copied: they commit now, whatever comes.</summary>
    public bool IsOpen => _open.IsSet;

    /// <summary>
    /// Says chunk <paramref name="index"/> has copied its rows and waits until all have; a retry of a chunk after the
    /// gate opened passes at once.
    /// </summary>
    /// <exception cref="OperationCanceledException">The batch stopped before the last chunk copied: roll back.</exception>
    public void Wait(int index, CancellationToken token)
    {
        lock (_copied)
        {
            if (_copied.Add(index) && _copied.Count >= chunks)
            {
                _open.Set();
            }
        }

        if (!_open.IsSet)
        {
            _open.Wait(token);
        }
    }
}
