using Ingest.Engine.Loading;
using Ingest.Status;
using Ingest.Validation;
using Npgsql;

namespace Ingest.Engine.Run;

/// <summary>The run's streams, and the run as the <see cref="ILoadSite"/> of every file it loads.</summary>
internal sealed partial class BatchRun : ILoadSite
{
    Guid ILoadSite.BatchId => _batchId;

    string ILoadSite.Dataset => _request.Dataset.Name;

    FileCopier ILoadSite.Copier => _copier;

    bool ILoadSite.KeepsRowErrors
    {
        get
        {
            lock (_gate)
            {
                return _rowErrors.Count < _options.MaxRowErrorsKept;
            }
        }
    }

    /// <summary>One stream: takes files from the run's queue until it is empty or the batch stops.</summary>
    private void StreamLoop()
    {
        var token = _stop.Token;
        using var stream = new LoadStream(_dataSource);
        _streams.TryAdd(stream, 0);
        try
        {
            LoadQueued(stream, token);
        }
        finally
        {
            _streams.TryRemove(stream, out _);
        }
    }

    /// <summary>The server processes of the streams' open connections: where the lock watch looks for waits.</summary>
    private int[] StreamSessions() => [.. _streams.Keys.Select(s => s.ProcessId).Where(id => id != 0)];

    private void LoadQueued(LoadStream stream, CancellationToken token)
    {
        while (!token.IsCancellationRequested && _queue.TryDequeue(out var claim))
        {
            var result = new FileLoad(this, claim, _policy, _engine.Hooks, _options).Run(stream, token);
            switch (result.Outcome)
            {
                case LoadOutcome.Loaded or LoadOutcome.CommittedBefore or LoadOutcome.AlreadyLoaded when claim.Group is not null:
                    Interlocked.Add(ref _filesDone, result.GroupFilesDone);
                    break;
                case LoadOutcome.Loaded when result.FileLoaded:
                case LoadOutcome.CommittedBefore when claim.Chunk is null:
                    Interlocked.Increment(ref _filesDone);
                    break;
                case LoadOutcome.Failed:
                    // A database out of reach is not the file's fault: the batch ends error saying so, and resuming it is the remedy.
                    Fail(result.Error!);
                    return;
                case LoadOutcome.Stopped:
                    return; // The batch is stopping (abort or another stream's file error): this file rolled back.
            }
        }
    }

    void ILoadSite.Log(BatchLogLevel level, string message) => _log.Add(level, message);

    void ILoadSite.Progress(long inserted, long invalid)
    {
        Interlocked.Add(ref _inserted, inserted);
        Interlocked.Add(ref _invalid, invalid);
    }

    void ILoadSite.BytesRead(int count) => Interlocked.Add(ref _bytes, count);

    void ILoadSite.InvalidRow(RowError error)
    {
        lock (_gate)
        {
            if (_rowErrors.Count < _options.MaxRowErrorsKept)
            {
                _rowErrors.Add(error);
            }
        }
    }

    void ILoadSite.InFlight(FileObserver file, bool started)
    {
        if (started)
        {
            _inFlight[file.FileKey] = file;
        }
        else
        {
            _inFlight.TryRemove(file.FileKey, out _);
        }
    }

    void ILoadSite.Connected(NpgsqlConnection connection)
    {
        if (Interlocked.Exchange(ref _connectedLogged, 1) == 0)
        {
            _log.Info($"Connected to database '{connection.Database}' at {connection.Host} with user '{connection.UserName}'");
        }
    }

    // An in-process run owns its files outright: nothing to check before a commit, and the line is logged after it.
    CommitGate ILoadSite.BeforeCommit(NpgsqlConnection connection, NpgsqlTransaction transaction, string outcomeLine, bool withRows) => CommitGate.Commit;

    void ILoadSite.Committed(string outcomeLine) => _log.Info(outcomeLine);
}
