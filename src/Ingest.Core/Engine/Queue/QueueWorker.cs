using System.Collections.Concurrent;
using Ingest.Copy;
using Ingest.Csv;
using Ingest.Engine.Loading;
using Ingest.Schema;
using Ingest.Sources;
using Ingest.Sources.S3;
using Ingest.Status;
using Npgsql;

namespace Ingest.Engine.Queue;

/// <summary>
/// A worker: N streams that claim files of submitted batches from <see cref="WorkStore"/> and load each with the
/// same <see cref="FileLoad"/> unit as <c>ingest import</c>, the claim's end committed in the file's
/// transaction; they renew their leases while they load, and stop a file the moment its batch is aborted. The
/// worker that loads a batch's last file records <c>finished</c>; log lines name the worker.
/// </summary>
internal sealed partial class QueueWorker(IngestEngine engine, NpgsqlDataSource dataSource, PostgresStatusRecorder recorder, WorkerOptions options)
{
    private const int CachedBatches = 64;
    private readonly ConcurrentDictionary<Guid, Lazy<Task<BatchContext>>> _batches = new();
    private readonly Lock _trimGate = new();
    private readonly LoadPolicy _policy = new(engine.Options);

    // The batch whose file this stream's thread loads now: the streams share one opener, whose retries say which file
    // they read but not for which batch.
    private readonly AsyncLocal<BatchContext?> _loading = new();
    private int _idleStreams;
    // This worker's liveness lock, held while it runs (set at the start of RunAsync): the streams re-take it before a
    // claim, the watch of a claim before each renewal.
    private WorkerLiveness? _liveness;

    private PostgresStatusRecorder Recorder => recorder;

    /// <summary>The name this worker's lines and claims carry.</summary>
    private string Name => options.Name;

    private IngestOptions EngineOptions => engine.Options;

    /// <summary>Number of cached batch settings (for tests).</summary>
    internal int CachedBatchCount => _batches.Count;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // A worker started while the database restarts, or has no free connection slot (a supervisor starting
        // everything at once), waits for it as a run's start does, under the same policy.
        await _policy.RideOutAsync(() => EnsureTablesAsync(cancellationToken), announce: null, cancellationToken).ConfigureAwait(false);
        using var opener = new SourceOpener(engine.Options.Source);
        opener.Retrying += message =>
        {
            if (_loading.Value is { } loading)
            {
                SourceRetried(loading.BatchId, loading.Dataset, message);
            }
        };
        // Taken by the streams before their first claim (under the outage policy); kept while they load.
        var liveness = new WorkerLiveness(dataSource, options.Name);
        await using var livenessScope = liveness.ConfigureAwait(false);
        _liveness = liveness;
        using var keepStop = new CancellationTokenSource();
        var keeping = liveness.KeepAsync(keepStop.Token);

        // A stream that stops on a fault (the database out of reach past the tolerance) stops the others: their files
        // roll back and go back to the queue, and the worker ends with the fault instead of running on with fewer streams.
        using var stopAll = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var streams = new Task[options.Streams];
        for (var i = 0; i < streams.Length; i++)
        {
            streams[i] = Task.Factory.StartNew(() => RunStream(opener, stopAll), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }

        try
        {
            await Task.WhenAll(streams).ConfigureAwait(false);
        }
        finally
        {
            await keepStop.CancelAsync().ConfigureAwait(false);
            await keeping.ConfigureAwait(false);

            // The streams have stopped: the batches' own openers go (a later run loads a batch again when it needs it).
            // Stopped in order (not by a fault: the database may be out of reach), the lines this worker added to a batch's
            // log since its last record ('Stopped loading ...') reach its timeline now, not when another worker next
            // records something there.
            var orderly = !streams.Any(stream => stream.IsFaulted);
            foreach (var (batchId, entry) in _batches)
            {
                if (entry.IsValueCreated && entry.Value.IsCompletedSuccessfully)
                {
                    entry.Value.Result.Evict();
                    if (orderly)
                    {
                        Quietly(async () => await recorder.AppendStartedSnapshotAsync(batchId, TimeSpan.Zero).ConfigureAwait(false));
                    }
                }
            }
        }
    }

    private async Task EnsureTablesAsync(CancellationToken cancellationToken)
    {
        await FileLedger.EnsureAsync(dataSource, cancellationToken).ConfigureAwait(false);
        await recorder.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await WorkStore.EnsureAsync(dataSource, cancellationToken).ConfigureAwait(false);
    }

    private void RunStream(SourceOpener opener, CancellationTokenSource stopAll)
    {
        try
        {
            StreamLoop(opener, stopAll.Token);
        }
        catch
        {
            stopAll.Cancel();
            throw;
        }
    }

    /// <summary>
    /// One stream: claims a file of any running batch, loads it, and looks again (after a pause when there was none).
    /// A claim the database cannot answer is asked again under the <see cref="LoadPolicy"/>: past
    /// <see cref="IngestOptions.DatabaseOutageTolerance"/> the stream stops with the fault.
    /// </summary>
    private void StreamLoop(SourceOpener opener, CancellationToken cancellationToken)
    {
        using var stream = new LoadStream(dataSource);

        // The CPU is yielded to a local server while this stream has files to load, and given back when it finds none:
        // an idle worker must not keep its whole session (the shell it was started from) at the lowest priority.
        CpuYielder.Lease? yielding = null;
        try
        {
            StreamLoop(stream, opener, ref yielding, cancellationToken);
        }
        finally
        {
            yielding?.Dispose();
        }
    }

    private void StreamLoop(LoadStream stream, SourceOpener opener, ref CpuYielder.Lease? yielding, CancellationToken cancellationToken)
    {
        var idle = false;
        var failures = 0;
        long? outageSince = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            WorkClaim? claim;
            try
            {
                // Before a claim: one this worker holds must never look like a dead worker's. A lock lost with its session
                // (a database restart) is taken again here; while the database is away this throws, and nothing is claimed.
                _liveness!.Ensure();
                claim = WorkStore.TryClaim(stream.Open(announceTo: null), options.Name, options.Lease, _liveness.RetakenAt);
                (failures, outageSince) = (0, null);
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException)
            {
                // The store is unreachable for now: look again after the policy's backoff. Not idle: there may
                // be work this stream cannot see, so a worker told to exit when idle does not exit for it.
                stream.DropIfBroken();
                if (cancellationToken.IsCancellationRequested)
                {
                    return;
                }

                if (!_policy.Retries(ex, ++failures, ref outageSince, out var delay, out _))
                {
                    throw;
                }

                cancellationToken.WaitHandle.WaitOne(delay);
                continue;
            }

            if (claim is null)
            {
                yielding?.Dispose();
                yielding = null;
                SettleOrphans(stream);
                if (options.ExitWhenIdle)
                {
                    if (!idle)
                    {
                        idle = true;
                        Interlocked.Increment(ref _idleStreams);
                    }

                    if (Volatile.Read(ref _idleStreams) == options.Streams)
                    {
                        return;
                    }
                }

                cancellationToken.WaitHandle.WaitOne(options.PollInterval);
                continue;
            }

            yielding ??= CpuYielder.Process.TryEnter(engine.Options.YieldCpuToLocalServer, dataSource);
            if (idle)
            {
                idle = false;
                Interlocked.Decrement(ref _idleStreams);
            }

            Process(claim, stream, opener, cancellationToken);
        }
    }

    // A worker runs for months and sees batch after batch: it keeps the settings of the batches it worked on
    // most recently, not of every batch it ever saw. One dropped is read again if a file of it comes back.
    // The caller holds the context until it calls Exit, so a batch's own opener is not disposed under it.
    private BatchContext Context(Guid batchId, SourceOpener opener)
    {
        while (true)
        {
            var entry = _batches.GetOrAdd(batchId, id => new Lazy<Task<BatchContext>>(() => LoadContextAsync(id, opener)));
            var context = entry.Value.GetAwaiter().GetResult();
            if (context.TryEnter())
            {
                context.LastUsed = Environment.TickCount64;
                if (_batches.Count > CachedBatches)
                {
                    Trim();
                }

                return context;
            }

            // Dropped by a trim between the look-up and now: read the batch again.
            _batches.TryRemove(new KeyValuePair<Guid, Lazy<Task<BatchContext>>>(batchId, entry));
        }
    }

    private void Trim()
    {
        lock (_trimGate)
        {
            var loaded = _batches
                .Where(pair => pair.Value.IsValueCreated && pair.Value.Value.IsCompletedSuccessfully)
                .OrderBy(pair => pair.Value.Value.Result.LastUsed)
                .Take(_batches.Count - (CachedBatches / 2));
            foreach (var (batchId, _) in loaded)
            {
                Forget(batchId);
            }
        }
    }

    /// <summary>Drops a batch's settings; its own opener, if any, is disposed once no stream holds it.</summary>
    private void Forget(Guid batchId)
    {
        if (_batches.TryRemove(batchId, out var entry) && entry.IsValueCreated && entry.Value.IsCompletedSuccessfully)
        {
            entry.Value.Result.Evict();
        }
    }

    private async Task<BatchContext> LoadContextAsync(Guid batchId, SourceOpener opener)
    {
        var settings = await WorkStore.SettingsAsync(dataSource, batchId, CancellationToken.None).ConfigureAwait(false);
        var schema = DatasetSchema.Parse(settings.Dataset);
        var format = CsvFormat.Parse(settings.Format);
        var encoder = new RowEncoder(schema, format);
        var csvOptions = new CsvReadOptions(settings.HeaderLines, settings.MaxRecord);

        // A batch submitted with a role is read as that role, as 'ingest import' would read it, in a session naming
        // the batch: an opener of its own (its S3 client holds the role's credentials), kept with the batch's settings.
        // Without one, the worker's own credentials read it through the opener its streams share.
        var own = settings.RoleArn is { } role
            ? new SourceOpener(BatchFiles.SourceOptionsFor(EngineOptions.Source, role, S3Settings.SessionNameFor(batchId)))
            : null;
        if (own is not null)
        {
            own.Retrying += message => SourceRetried(batchId, schema.Name, message);
        }

        return new BatchContext(batchId, schema.Name, new FileCopier(encoder, new TableLayout(schema), csvOptions, own ?? opener), own);
    }

    /// <summary>What this worker keeps of a batch: its settings, ready to load files with.</summary>
    /// <param name="BatchId">The batch.</param>
    /// <param name="Dataset">Its dataset's name.</param>
    /// <param name="Copier">Loads one of its files.</param>
    /// <param name="OwnOpener">The opener of a batch read as its role (the copier's); null when it shares the worker's.</param>
    private sealed record BatchContext(Guid BatchId, string Dataset, FileCopier Copier, SourceOpener? OwnOpener)
    {
        private readonly Lock _joinGate = new();
        private readonly Lock _useGate = new();
        private bool _joined;
        private int _users;
        private bool _evicted;

        /// <summary>When this worker last took a file of the batch (<see cref="Environment.TickCount64"/>).</summary>
        public long LastUsed { get; set; }

        /// <summary>When this worker last asked for a <c>started</c> snapshot of the batch (<see cref="Environment.TickCount64"/>).</summary>
        public long LastSnapshot;

        /// <summary>Takes the context for one file; false when it was dropped (see <see cref="Evict"/>).</summary>
        public bool TryEnter()
        {
            lock (_useGate)
            {
                if (_evicted)
                {
                    return false;
                }

                _users++;
                return true;
            }
        }

        /// <summary>Gives back what <see cref="TryEnter"/> took.</summary>
        public void Exit()
        {
            lock (_useGate)
            {
                _users--;
                DisposeIfUnused();
            }
        }

        /// <summary>Dropped from the cache: no stream takes it again, and its own opener goes when the last one gives it back.</summary>
        public void Evict()
        {
            lock (_useGate)
            {
                _evicted = true;
                DisposeIfUnused();
            }
        }

        /// <summary>Runs <paramref name="join"/> once, the first time this worker takes a file of the batch; every stream waits for it before its file's lines.</summary>
        public void JoinOnce(Action join)
        {
            lock (_joinGate)
            {
                if (!_joined)
                {
                    join();
                    _joined = true;
                }
            }
        }

        private void DisposeIfUnused()
        {
            if (_evicted && _users == 0)
            {
                OwnOpener?.Dispose();
            }
        }
    }
}
