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
    private readonly Lock _lock = new();
    private readonly HashSet<int> _copied = [];
    private readonly ManualResetEventSlim _decided = new(false);
    private State _state = chunks <= 1 ? State.Open : State.Waiting;

    private enum State
    {
        Waiting,
        Open,
        Cancelled,
    }

    /// <summary>True once every chunk has copied: they commit now, whatever comes.</summary>
    public bool IsOpen
    {
        get
        {
            lock (_lock)
            {
                return _state == State.Open;
            }
        }
    }

    /// <summary>
    /// Says chunk <paramref name="index"/> has copied its rows and waits until all have; a retry of a chunk after the
    /// gate opened passes at once. The gate is decided once, under one lock: open (every chunk copied first) or
    /// cancelled (the batch stopped first), so no chunk commits while a sibling rolls back because of the same stop.
    /// </summary>
    /// <exception cref="OperationCanceledException">The batch stopped before the last chunk copied: roll back.</exception>
    public void Wait(int index, CancellationToken token)
    {
        lock (_lock)
        {
            switch (_state)
            {
                case State.Open:
                    return;
                case State.Cancelled:
                    throw new OperationCanceledException(token);
            }

            if (token.IsCancellationRequested)
            {
                Decide(State.Cancelled);
                throw new OperationCanceledException(token);
            }

            if (_copied.Add(index) && _copied.Count >= chunks)
            {
                Decide(State.Open);
                return;
            }
        }

        try
        {
            _decided.Wait(token);
        }
        catch (OperationCanceledException)
        {
            lock (_lock)
            {
                if (_state == State.Open)
                {
                    return; // Opened before the stop: the chunks commit together.
                }

                Decide(State.Cancelled);
            }

            throw;
        }

        lock (_lock)
        {
            if (_state == State.Cancelled)
            {
                throw new OperationCanceledException(token);
            }
        }
    }

    private void Decide(State state)
    {
        _state = state;
        _decided.Set();
    }
}
