using System.Collections.Concurrent;
using System.Diagnostics;
using Ingest.Copy;
using Ingest.Csv;
using Ingest.Diagnostics;
using Ingest.Engine.Loading;
using Ingest.Sources;
using Ingest.Status;
using Ingest.Validation;
using Npgsql;

namespace Ingest.Engine.Run;

/// <summary>One run of one batch: the queue of files, the stream workers, live counts and the timeline.</summary>
internal sealed partial class BatchRun
{
    private readonly IngestEngine _engine;
    private readonly NpgsqlDataSource _dataSource;
    private readonly ImportRequest _request;
    private readonly IngestOptions _options;
    private IStatusRecorder _recorder;
    private readonly LoadPolicy _policy;
    private readonly Guid _batchId;
    private readonly ConcurrentQueue<Claim> _queue = new();
    private readonly ConcurrentDictionary<string, FileObserver> _inFlight = new(StringComparer.Ordinal);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private readonly List<RowError> _rowErrors = [];
    private CancellationTokenSource _stop = new();
    private RowEncoder _encoder = null!;
    private TableLayout _layout = null!;
    private CsvReadOptions _csvOptions = null!;
    private SourceOpener _opener = null!;
    private FileCopier _copier = null!;
    private BatchLog _log = null!;
    private List<SourceFile> _files = [];
    private long _inserted;
    private long _invalid;
    private long _bytes;
    private readonly ConcurrentDictionary<LoadStream, byte> _streams = new();
    private int _filesDone;
    private int _connectedLogged;
    private Exception? _fatal;
    private volatile bool _abortRequested;
    private volatile bool _interrupted;
    private volatile bool _superseded;
    private System.Diagnostics.Activity? _activity;

    public BatchRun(IngestEngine engine, NpgsqlDataSource dataSource, ImportRequest request)
    {
        _engine = engine;
        _dataSource = dataSource;
        _request = request;
        _options = engine.Options;
        _recorder = engine.Recorder;
        _policy = new LoadPolicy(_options);
        _batchId = request.BatchId ?? Guid.NewGuid();
    }

    private async Task<BatchResult> RunLeasedAsync(IReadOnlyList<string> warnings, BatchRecord? existed, bool readUnderLease, TimeSpan waitedForLease, IProgress<BatchProgress>? progress, CancellationToken cancellationToken)
    {
        // Under the lease, the batch's record is read again (created meanwhile by another run?), then the ledger: one
        // after another on the start's session, where side by side they opened a session of their own for one query.
        var existing = await ExistingUnderLeaseAsync(existed, readUnderLease, cancellationToken).ConfigureAwait(false);
        var ledger = await FileLedger.ReadAsync(_dataSource, _batchId, cancellationToken).ConfigureAwait(false);
        BatchIdentity.Check(existing, _request);
        // A batch that was listed before: its listings are read once, for the files and for what a resume leaves out.
        Dictionary<string, List<string>>? stored = null;
        if (BatchIdentity.MayHaveListing(existing))
        {
            await BatchListing.EnsureAsync(_dataSource, cancellationToken).ConfigureAwait(false);
            stored = await BatchListing.LoadAsync(_dataSource, _batchId, cancellationToken).ConfigureAwait(false);
        }

        var (sourceWarnings, listed, listingLines) = await ResolveFilesAsync(stored, cancellationToken).ConfigureAwait(false);
        var loaded = ledger.Loaded;
        IReadOnlyList<string> allWarnings = [.. sourceWarnings, .. warnings, .. MadeAfterLoads(loaded.Count)];

        BatchIdentity.CheckNoneLeftOut(existing, _files, loaded, [.. stored?.Values.SelectMany(objects => objects) ?? []]);
        var pending = _files.Where(f => !loaded.ContainsKey(f.Key)).ToList();
        (_inserted, _invalid) = (ledger.Inserted, ledger.Invalid);
        _filesDone = _files.Count - pending.Count;

        if (existing is { Status: BatchStatus.Finished } && pending.Count == 0)
        {
            return Result(existing.Status, existing.Log, error: null);
        }

        _log = new BatchLog(existing?.Log);
        if (_options.OnLogLine is { } onLogLine)
        {
            _log.LineAdded += (level, line) => onLogLine(_batchId, level, line);
        }

        if (existing is null)
        {
            BatchRecord? madeMeanwhile = null;
            try
            {
                await _recorder.CreateBatchAsync(new NewBatch(_batchId, _request.Dataset.Name, IngestEngine.FormatJson(_request), IngestEngine.SourceJson(_request)), cancellationToken).ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                // The id exists now: made since it was read by something that does not take the lease (`ingest submit`,
                // an API host's POST) or by a killed run's last statement landing late. Nothing is queued or written
                // yet: the run starts over under the lease as a run of the batch that is there (checked, fenced).
                madeMeanwhile = await _recorder.TryGetBatchAsync(_batchId, cancellationToken).ConfigureAwait(false);
                if (madeMeanwhile is null)
                {
                    throw;
                }
            }

            if (madeMeanwhile is not null)
            {
                return await RunLeasedAsync(warnings, madeMeanwhile, readUnderLease: true, waitedForLease, progress, cancellationToken).ConfigureAwait(false);
            }

            FenceToFirstRun();
            _log.Info("Starting batch job");
        }
        else if (existing.Status == BatchStatus.Created && loaded.Count == 0)
        {
            // Created ahead of its run (by a host that records batches before running them): a first start.
            _log.Info("Starting batch job");
        }
        else
        {
            await _recorder.ClearAbortRequestAsync(_batchId, cancellationToken).ConfigureAwait(false);
            _log.Info($"Resuming batch job: {_filesDone} of {_files.Count} files already loaded, {pending.Count} to load");
        }

        if (waitedForLease > TimeSpan.Zero)
        {
            _log.Warn($"Waited {waitedForLease.TotalSeconds:0.0} s for the batch's lease: the run before this one had stopped, but its database sessions, which held the lease, had not ended yet");
        }

        foreach (var line in listingLines)
        {
            _log.Info(line);
        }

        // Files a listing gave are recorded by their pattern; those named one by one are recorded one by one.
        if (BatchIdentity.Unlisted(existing, [.. _files.Where(f => !listed.Contains(f.Location))]) is { Count: > 0 } unlisted)
        {
            var shown = string.Join(", ", unlisted.Take(3).Select(f => f.Key)) + (unlisted.Count > 3 ? $" and {unlisted.Count - 3} more" : "");
            _log.Info($"Adding {unlisted.Count} file(s) the batch did not list before: {shown}");
            await _recorder.AddSourceUrlsAsync(_batchId, [.. unlisted.Select(f => SourceFile.Recorded(f.Location))], cancellationToken).ConfigureAwait(false);
        }

        foreach (var warning in allWarnings)
        {
            _log.Warn(warning);
        }

        await AppendAsync(BatchStatus.Started, CancellationToken.None).ConfigureAwait(false);
        _log.Info($"Using {_options.Streams} parallel streams");
        _log.Info("Starting import");
        var pieces = Pieces(pending, ledger.Partial);
        foreach (var piece in pieces)
        {
            _queue.Enqueue(piece);
        }

        var streams = Math.Max(1, Math.Min(_options.Streams, pieces.Count));

        using var hostCancel = cancellationToken.Register(OnHostCancel);

        // Started before the streams, so each file's span is a child of the batch's.
        _activity = IngestTelemetry.StartBatch(_batchId, _request.Dataset.Name, _files.Count);
        FileLedger.State? ended;
        {
            _copier = new FileCopier(_encoder, _layout, _csvOptions, _opener);
            using var monitorStop = new CancellationTokenSource();
            var timer = new PeriodicTimer(_options.AbortPollInterval < _options.ProgressInterval ? _options.AbortPollInterval : _options.ProgressInterval);
            var monitor = MonitorAsync(progress, timer, monitorStop.Token);
            var lockWatch = new LockWaitWatch(_dataSource, _log.Add);
            var lockWatching = lockWatch.RunAsync(() => Interlocked.Read(ref _inserted) + Interlocked.Read(ref _invalid) + Interlocked.Read(ref _bytes), StreamSessions, monitorStop.Token);
            var yielding = CpuYielder.Process.TryEnter(_options.YieldCpuToLocalServer, _dataSource);
            using (yielding)
            {
                if (yielding is not null)
                {
                    _log.Info(yielding.Message);
                }

                ended = await RunStreamsAsync(streams).ConfigureAwait(false);
            }

            if (yielding?.RestoreError is { } restoreError)
            {
                _log.Warn(restoreError);
            }

            timer.Dispose();
            await monitorStop.CancelAsync().ConfigureAwait(false);
            await monitor.ConfigureAwait(false);
            await lockWatching.ConfigureAwait(false);
        }

        return await FinishAsync(progress, ended).ConfigureAwait(false);
    }

    /// <summary>
    /// A resumed batch whose table had to be made again (dropped, or renamed, since files of the batch loaded into it):
    /// the ledger still holds those files as loaded, so they are not loaded again, and the user must hear of it.
    /// </summary>
    private IEnumerable<string> MadeAfterLoads(int loadedFiles)
    {
        if (_layout.Created && loadedFiles > 0)
        {
            yield return $"Table {_layout.QualifiedName} was not there and has been made again, empty, but ingest.import_file records {loadedFiles} file(s) of this batch "
                + "as loaded into it: they are not loaded again. To load them again, import them as a new batch (another --batch-id)";
        }
    }

    /// <summary>
    /// The streams until the queue is empty, then once more for any file the ledger does not hold: a COMMIT a server
    /// acknowledged can be lost when it crashes with <c>synchronous_commit = off</c> (or <c>fsync = off</c>), and a batch
    /// must never end <c>finished</c> without every file in its ledger.
    /// </summary>
    /// <returns>The ledger as the last pass left it; null when the run stopped before reading it.</returns>
    private async Task<FileLedger.State?> RunStreamsAsync(int streams)
    {
        for (var pass = 1; ; pass++)
        {
            var workers = new Task[streams];
            for (var i = 0; i < workers.Length; i++)
            {
                workers[i] = Task.Factory.StartNew(StreamLoop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            }

            await Task.WhenAll(workers).ConfigureAwait(false);
            if (_stop.IsCancellationRequested || pass == 3)
            {
                return null;
            }

            var ledger = await _policy.RideOutAsync(() => FileLedger.ReadAsync(_dataSource, _batchId, CancellationToken.None), announce: null, CancellationToken.None).ConfigureAwait(false);
            var missing = _files.Where(f => !ledger.Loaded.ContainsKey(f.Key)).ToList();
            if (missing.Count == 0)
            {
                return ledger;
            }

            _log.Warn($"{missing.Count} file(s) committed earlier are not in the ledger now (the server lost acknowledged commits in a crash: is synchronous_commit or fsync off?); loading them again: {string.Join(", ", missing.Take(3).Select(f => f.Key))}");
            Volatile.Write(ref _filesDone, _files.Count - missing.Count);
            var again = Pieces(missing, ledger.Partial);
            foreach (var piece in again)
            {
                _queue.Enqueue(piece);
            }

            // Streams for what is left: up to the option's, and one for each chunk of a file cut now (they wait for each other).
            streams = Math.Max(1, Math.Min(_options.Streams, again.Count));
        }
    }

    private async Task<BatchResult> FinishAsync(IProgress<BatchProgress>? progress, FileLedger.State? ended)
    {
        // The ledger is the truth: counts of files that committed, whatever happened to the others (as the streams' last
        // pass read it after they all ended, or read now). The server may be coming back from a restart: the end of the
        // batch rides it out as the start and the streams do.
        // When the streams gave up on the database, the end still rides it out saying so (the ledger, not this process's
        // counts, says what committed), and when it stays away the run ends with the way on instead of an exception.
        var databaseGone = _fatal is DatabaseUnavailableException;
        FileLedger.State ledger;
        try
        {
            ledger = ended ?? await _policy.RideOutAsync(() => FileLedger.ReadAsync(_dataSource, _batchId, CancellationToken.None), announce: databaseGone ? _log.Warn : null, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (databaseGone && LoadPolicy.IsDatabaseUnavailable(ex))
        {
            return Unrecorded(progress);
        }

        (_inserted, _invalid) = (ledger.Inserted, ledger.Invalid);
        _filesDone = _files.Count(f => ledger.Loaded.ContainsKey(f.Key));
        BatchStatus status;
        string? error = null;
        if (_interrupted && !_abortRequested && _fatal is null && _filesDone < _files.Count)
        {
            return await InterruptedAsync(progress).ConfigureAwait(false);
        }

        if (_abortRequested)
        {
            status = BatchStatus.Aborted;
            _log.Info($"Batch job aborted. Inserted: {_inserted}, Invalid: {_invalid}; {_filesDone} of {_files.Count} files loaded, files in flight rolled back");
        }
        else if (_fatal is not null)
        {
            status = BatchStatus.Error;
            error = LoadPolicy.Describe(_fatal);
            _log.Error(error);
            var remedy = _fatal is DatabaseUnavailableException
                ? "When the database is back, run the batch again with the same id to load the rest"
                : $"{LoadPolicy.WhatToFix(_fatal)} and run the batch again with the same id to load the rest";
            _log.Error($"Batch job failed. Inserted: {_inserted}, Invalid: {_invalid}; {_filesDone} of {_files.Count} files loaded. {remedy}");
        }
        else if (_filesDone < _files.Count)
        {
            // Never 'finished' without every file in the ledger (see RunStreamsAsync).
            status = BatchStatus.Error;
            error = $"{_files.Count - _filesDone} file(s) are not in the ledger after 3 passes: the server keeps losing acknowledged commits";
            _log.Error(error);
            _log.Error($"Batch job failed. Inserted: {_inserted}, Invalid: {_invalid}; {_filesDone} of {_files.Count} files loaded. Make the server durable and run the batch again with the same id to load the rest");
        }
        else
        {
            status = BatchStatus.Finished;
            _log.Info($"Finished batch job. Inserted: {_inserted}, Invalid: {_invalid}");
        }

        if (!await RecordEndAsync(status).ConfigureAwait(false))
        {
            (status, error) = (BatchStatus.Error, Superseded);
        }

        IngestTelemetry.End(_activity, status.ToWord(), status == BatchStatus.Error);
        progress?.Report(Snapshot(status));
        return Result(status, _log.Text, error);
    }

    /// <summary>
    /// The database is still out of reach at the end: the batch's end cannot be recorded (it shows <c>started</c>, its
    /// counts as last published) and the ledger cannot be read, so the counts are this process's (a server that lost
    /// acknowledged commits in its outage may hold fewer). The caller gets the error and how to go on.
    /// </summary>
    private BatchResult Unrecorded(IProgress<BatchProgress>? progress)
    {
        var error = $"{LoadPolicy.Describe(_fatal!)}; the database is still out of reach, so the batch's end could not be recorded "
            + "(it shows 'started' until then). When the database is back, run the batch again with the same id to load the rest";
        _log.Error(error);
        IngestTelemetry.End(_activity, BatchStatus.Error.ToWord(), failed: true);
        progress?.Report(Snapshot(BatchStatus.Error));
        return Result(BatchStatus.Error, _log.Text, error);
    }

    private BatchResult Result(BatchStatus status, string? log, string? error)
    {
        lock (_gate)
        {
            return new BatchResult
            {
                BatchId = _batchId,
                Status = status,
                InsertCount = _inserted,
                InvalidCount = _invalid,
                FilesLoaded = _filesDone,
                FilesTotal = _files.Count,
                RowErrors = [.. _rowErrors],
                Error = error,
                Log = log,
            };
        }
    }

    private ValueTask<StatusRecord> AppendAsync(BatchStatus status, CancellationToken cancellationToken) =>
        _recorder.AppendStatusAsync(_batchId, status, Interlocked.Read(ref _inserted), Interlocked.Read(ref _invalid), _log.Text, cancellationToken);

    private BatchProgress Snapshot(BatchStatus status) => new(
        _batchId, status, _files.Count, Volatile.Read(ref _filesDone), Interlocked.Read(ref _inserted), Interlocked.Read(ref _invalid), Interlocked.Read(ref _bytes), _clock.Elapsed)
    {
        InFlight = [.. _inFlight.Values.Select(f => f.Snapshot()).OrderBy(f => f.FileKey, StringComparer.Ordinal)],
    };

    private void OnHostCancel()
    {
        if (_options.OnCancellation == CancellationMode.Interrupt)
        {
            _interrupted = true;
            RequestStop(abort: false);
        }
        else
        {
            RequestStop(abort: true);
        }
    }

    /// <summary>The host stopped the run: the batch stays <c>started</c>, with a line saying how to go on.</summary>
    private async Task<BatchResult> InterruptedAsync(IProgress<BatchProgress>? progress)
    {
        _log.Info($"Run interrupted: files in flight rolled back; {_filesDone} of {_files.Count} files loaded. Run the batch again with the same id to load the rest");
        var recorded = await RecordEndAsync(BatchStatus.Started).ConfigureAwait(false);
        IngestTelemetry.End(_activity, "interrupted", failed: false);
        progress?.Report(Snapshot(BatchStatus.Started));
        return Result(BatchStatus.Started, _log.Text, recorded ? null : Superseded) with { Interrupted = true };
    }

    private const string Superseded = "the batch was taken over while this run was cut off from the database (its lease ended with its session): an abort marked it, or another run started it again; this run records nothing more";

    /// <summary>Records the run's last status, riding out a brief outage; false when another run has taken the batch over.</summary>
    private async Task<bool> RecordEndAsync(BatchStatus status)
    {
        if (_superseded)
        {
            return false;
        }

        try
        {
            // The end is recorded only under the lease: a run that lost it with its session (a database restart) may
            // have lost the batch too, to an abort that then found no run holding it and recorded the end itself.
            if (!await _policy.RideOutAsync(() => KeepsLeaseAsync(CancellationToken.None), announce: null, CancellationToken.None).ConfigureAwait(false))
            {
                LoseBatch();
                return false;
            }

            await _policy.RideOutAsync(async () => await AppendAsync(status, CancellationToken.None).ConfigureAwait(false), announce: null, CancellationToken.None).ConfigureAwait(false);
            return true;
        }
        catch (RunSupersededException)
        {
            return false;
        }
    }

    private void RequestStop(bool abort)
    {
        if (abort && !_abortRequested && _fatal is null)
        {
            _abortRequested = true;
            _log.Info("Received abort instruction");
        }

        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void Fail(Exception exception)
    {
        lock (_gate)
        {
            if (_fatal is not null || _abortRequested)
            {
                return;
            }

            _fatal = exception;
        }

        RequestStop(abort: false);
    }
}
