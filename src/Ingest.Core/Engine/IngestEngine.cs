using System.Text.Json;
using System.Text.Json.Nodes;
using Ingest.Copy;
using Ingest.Engine;
using Ingest.Engine.Loading;
using Ingest.Engine.Run;
using Ingest.Sources;
using Ingest.Status;
using Npgsql;

namespace Ingest;

/// <summary>
/// Loads import batches into PostgreSQL: streams each file, validates every row against the dataset,
/// and binary-COPYs the valid rows over parallel streams, one transaction per file together with its
/// ledger row. Keeps each batch's timeline in an <see cref="IStatusRecorder"/>. Thread-safe: one engine
/// can run several batches at once.
/// </summary>
public sealed class IngestEngine : IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;

    /// <summary>Makes an engine on <paramref name="dataSource"/> (not disposed by the engine).</summary>
    /// <param name="dataSource">The target database; the ledger <c>ingest.import_file</c> is kept there too.</param>
    /// <param name="recorder">Where timelines go. Default: a <see cref="PostgresStatusRecorder"/> on the same database.</param>
    /// <param name="options">Engine options. Default: <see cref="IngestOptions"/>'s defaults.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public IngestEngine(NpgsqlDataSource dataSource, IStatusRecorder? recorder = null, IngestOptions? options = null)
        : this(dataSource, recorder, options, ownsDataSource: false)
    {
    }

    private IngestEngine(NpgsqlDataSource dataSource, IStatusRecorder? recorder, IngestOptions? options, bool ownsDataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        Options = options ?? new IngestOptions();
        Options.Validate();
        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
        Recorder = recorder ?? new PostgresStatusRecorder(dataSource);
    }

    /// <summary>
    /// Makes an engine that owns a data source for <paramref name="connectionString"/>, recording timelines in the same
    /// database. The data source loads no types of the database's own (extensions, enums, composites): Ingest reads and
    /// writes built-in types only, and the type-loading query would cost every fresh process its first connection's time.
    /// </summary>
    /// <exception cref="ArgumentException">The connection string or an option is not valid.</exception>
    public static IngestEngine Create(string connectionString, IngestOptions? options = null, IStatusRecorder? recorder = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        var builder = new NpgsqlDataSourceBuilder(ConnectionStrings.Normalize(connectionString));
        builder.ConfigureTypeLoading(types => types.EnableTypeLoading(false));
        return new IngestEngine(builder.Build(), recorder, options, ownsDataSource: true);
    }

    /// <summary>The engine's options.</summary>
    public IngestOptions Options { get; }

    /// <summary>The recorder that keeps the timelines.</summary>
    public IStatusRecorder Recorder { get; }

    /// <summary>Test seams handed to every unit of work and worker this engine builds; <see cref="LoadHooks.None"/> but in tests.</summary>
    internal LoadHooks Hooks { get; set; } = LoadHooks.None;

    /// <summary>
    /// Runs a batch to its end: <c>finished</c>, <c>error</c> (a file error; files loaded before it stay) or
    /// <c>aborted</c> (an abort request from any process, or <paramref name="cancellationToken"/>). A batch id
    /// seen before resumes that batch, loading only its files not yet loaded.
    /// </summary>
    /// <exception cref="Schema.SchemaException">The format does not fit the dataset, or the table exists with other columns. Nothing was written.</exception>
    /// <exception cref="ArgumentException">A source is not a URL or path Ingest can read, or the batch id belongs to another dataset.</exception>
    public async Task<BatchResult> ImportAsync(ImportRequest request, IProgress<BatchProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var run = new BatchRun(this, _dataSource, request);
        return await run.RunAsync(progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Checks the first <see cref="IngestOptions.DryRunRows"/> rows of every file against the dataset and
    /// reports per file, and checks the dataset's table if it exists (a table with other columns is a schema
    /// error, as it would refuse the load); writes nothing anywhere.
    /// </summary>
    public Task<DryRunResult> DryRunAsync(ImportRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return DryRunner.RunAsync(this, _dataSource, request, cancellationToken);
    }

    /// <summary>
    /// Checks the first rows of every file against the dataset without an engine or a database: the dry
    /// run of SPEC §4, for hosts that only validate.
    /// </summary>
    public static Task<DryRunResult> DryRunAsync(ImportRequest request, IngestOptions? options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        options ??= new IngestOptions();
        options.Validate();
        return DryRunner.RunAsync(request, options, dataSource: null, cancellationToken);
    }

    /// <summary>
    /// Asks for a batch to be aborted. A batch running in any process sharing the recorder stops at once
    /// (its files in flight roll back) and records <c>aborted</c> itself. A batch left <c>started</c> by a
    /// process that died (no live process holds its lease) is marked <c>aborted</c> here, and can still be
    /// resumed later by running it again with the same id.
    /// </summary>
    /// <returns><see cref="AbortOutcome.AbortedNow"/> when the batch was marked aborted here.</returns>
    /// <exception cref="BatchNotFoundException">The batch is unknown.</exception>
    public async ValueTask<AbortOutcome> AbortAsync(Guid batchId, CancellationToken cancellationToken = default)
    {
        // A queued batch's status changes are made under its queue row lock; so is the abort, so a worker
        // recording 'started' at the same moment cannot land after it.
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var queued = await Engine.Queue.WorkStore.LockBatchAsync(connection, transaction, batchId, cancellationToken).ConfigureAwait(false);
                var outcome = await AbortLockedAsync(batchId, queued, cancellationToken).ConfigureAwait(false);
                if (queued && outcome is AbortOutcome.AbortedNow or AbortOutcome.AlreadyAborted)
                {
                    await Engine.Queue.WorkStore.ForgetLocationsAsync(connection, transaction, batchId, cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return outcome;
            }
        }
    }

    private async Task<AbortOutcome> AbortLockedAsync(Guid batchId, bool queued, CancellationToken cancellationToken)
    {
        var outcome = await Recorder.RequestAbortAsync(batchId, cancellationToken).ConfigureAwait(false);
        if (outcome != AbortOutcome.Requested || await LeaseOfNoLiveRunAsync(batchId, cancellationToken).ConfigureAwait(false) is not { } lease)
        {
            return outcome;
        }

        // Marked under the batch's lease, as a run of its own: a live run that lost the lease with its database session
        // (a restart) takes it back only after this, finds the batch aborted and records nothing; the run number goes up,
        // so a status write of that run still on its way is refused.
        await using (lease.ConfigureAwait(false))
        {
            if (Recorder is PostgresStatusRecorder postgres)
            {
                await postgres.BeginRunAsync(batchId, cancellationToken).ConfigureAwait(false);
            }

            // Counts from the ledger: rows of files that were in flight when the process died never committed.
            await FileLedger.EnsureAsync(_dataSource, cancellationToken).ConfigureAwait(false);
            var (inserted, invalid) = await FileLedger.TotalsAsync(_dataSource, batchId, cancellationToken).ConfigureAwait(false);

            // Queue workers may be appending lines right now (without the batch lock): append, never rewrite.
            var lines = BatchLog.FormatLines(
                BatchLogLevel.Info,
                DateTimeOffset.UtcNow,
                "Received abort instruction",
                queued
                    ? "Batch job aborted: queue workers roll back the files they are loading and take no more"
                    : "Batch job aborted: no process was running it (the process that started it had stopped)");
            await Recorder.AppendStatusLinesAsync(batchId, BatchStatus.Aborted, inserted, invalid, lines, cancellationToken).ConfigureAwait(false);
            return AbortOutcome.AbortedNow;
        }
    }

    /// <summary>
    /// After an abort was requested: the batch's lease when no live process is left to act on it (so it is marked
    /// here, under it); null when the run holding the batch records the abort itself, or the batch ended meanwhile. A
    /// lease held by a run that has just died (its sessions not yet ended) lets go within
    /// <see cref="IngestOptions.LeaseWait"/>; one still held then is live.
    /// </summary>
    private async Task<BatchLease?> LeaseOfNoLiveRunAsync(Guid batchId, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + Options.LeaseWait;
        while (true)
        {
            if (await BatchLease.TryAcquireAsync(_dataSource, batchId, cancellationToken).ConfigureAwait(false) is { } lease)
            {
                // A run that recorded its end let go of the lease after, so the status read now is final.
                if (!(await Recorder.GetBatchAsync(batchId, cancellationToken).ConfigureAwait(false)).Status.IsTerminal())
                {
                    return lease;
                }

                await lease.DisposeAsync().ConfigureAwait(false);
                return null;
            }

            if (DateTime.UtcNow >= deadline || (await Recorder.GetBatchAsync(batchId, cancellationToken).ConfigureAwait(false)).Status.IsTerminal())
            {
                return null;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits up to <see cref="IngestOptions.LeaseWait"/> for the batch's lease to be free (a run that has just died lets
    /// go of it once the server notices its sessions are gone); false when a live run still holds it then, or as soon as
    /// <paramref name="giveUp"/> says so.
    /// </summary>
    private async Task<bool> LeaseFreedAsync(Guid batchId, Func<Task<bool>>? giveUp, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + Options.LeaseWait;
        while (await IsRunningAsync(batchId, cancellationToken).ConfigureAwait(false))
        {
            if (DateTime.UtcNow >= deadline || (giveUp is not null && await giveUp().ConfigureAwait(false)))
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>
    /// Submits a batch without running it: its files go into the queue in PostgreSQL, for any number of
    /// <see cref="RunWorkerAsync"/> workers on any hosts. Needs the <see cref="PostgresStatusRecorder"/>.
    /// </summary>
    /// <returns>The batch id.</returns>
    /// <exception cref="Schema.SchemaException">The format does not fit the dataset, or the table exists with other columns.</exception>
    /// <exception cref="Sources.S3.SourceListingException">An <c>s3://</c> pattern or the S3 source matches nothing, or its bucket cannot be listed; nothing was created.</exception>
    /// <exception cref="NotSupportedException">The recorder is not the PostgreSQL recorder, which workers on other hosts must share.</exception>
    public Task<Guid> SubmitAsync(ImportRequest request, CancellationToken cancellationToken = default) =>
        SubmitAsync(request, progress: null, cancellationToken);

    /// <summary>
    /// Submits a batch like <see cref="SubmitAsync(ImportRequest, CancellationToken)"/>, and reports it once, as
    /// <c>created</c> with the number of files queued (its <c>s3://</c> patterns listed into objects).
    /// </summary>
    /// <returns>The batch id.</returns>
    /// <exception cref="Schema.SchemaException">The format does not fit the dataset, or the table exists with other columns.</exception>
    /// <exception cref="Sources.S3.SourceListingException">An <c>s3://</c> pattern or the S3 source matches nothing, or its bucket cannot be listed; nothing was created.</exception>
    /// <exception cref="NotSupportedException">The recorder is not the PostgreSQL recorder, which workers on other hosts must share.</exception>
    public async Task<Guid> SubmitAsync(ImportRequest request, IProgress<BatchProgress>? progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var recorder = Recorder as PostgresStatusRecorder
            ?? throw new NotSupportedException("Submitting batches to workers needs the PostgreSQL status recorder, which the workers share.");
        request.Format.Validate(request.Dataset);
        BatchFiles.CheckSources(request, Options.MaxFilesPerBatch);
        var id = request.BatchId ?? Guid.NewGuid();

        // Patterns are listed once, here, as the batch's role if it has one. The listing is kept with the batch, as
        // 'ingest import' keeps its own, so a resume of the batch loads these objects, not what the bucket holds later.
        var listings = new List<(string Pattern, IReadOnlyList<string> Objects)>();
        List<string> locations;
        using (var opener = new SourceOpener(BatchFiles.SourceOptionsFor(Options.Source, request, id)))
        {
            locations = await BatchFiles.LocationsAsync(request, async listing =>
            {
                var objects = await listing.List(opener, cancellationToken).ConfigureAwait(false);
                listings.Add((listing.Key, objects));
                return objects;
            }).ConfigureAwait(false);
        }

        var (distinct, sourceWarnings) = BatchFiles.Distinct(locations, Options.MaxFilesPerBatch);
        var files = distinct.Select(f => (f.Key, f.Location)).ToList();
        await FileLedger.EnsureAsync(_dataSource, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<string> warnings = [.. sourceWarnings, .. await Layout(request).EnsureAsync(_dataSource, cancellationToken).ConfigureAwait(false)];
        await recorder.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        await Engine.Queue.WorkStore.EnsureAsync(_dataSource, cancellationToken).ConfigureAwait(false);
        if (listings.Count > 0)
        {
            await BatchListing.EnsureAsync(_dataSource, cancellationToken).ConfigureAwait(false);
        }

        if (await Recorder.TryGetBatchAsync(id, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            throw new ArgumentException(
                $"Batch {id} already exists ({existing.Status.ToWord()}); submit with a new id, or resume it with 'ingest import --batch-id {id}'.");
        }

        // The role goes with the batch (its ARN; never a credential): each worker assumes it, with its own credentials.
        var settings = new Engine.Queue.QueuedSettings(
            request.Dataset.ToDocument(), FormatJson(request).GetRawText(), Options.HeaderLines, Options.MaxRecordSize, BatchFiles.RoleOf(Options.Source, request));
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                try
                {
                    await Engine.Queue.WorkStore.SubmitAsync(connection, transaction, id, settings, files, cancellationToken).ConfigureAwait(false);
                }
                catch (PostgresException ex) when (ex.SqlState == "23505")
                {
                    throw new ArgumentException($"Batch {id} was already submitted; submit with a new id.", ex);
                }

                foreach (var (pattern, objects) in listings)
                {
                    await BatchListing.SaveAsync(connection, transaction, id, pattern, objects, cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        // The batch appears last (workers only claim files of batches that exist), with its warnings in its
        // log from the start: written later, a worker starting the batch could overwrite them. They reach the
        // host through OnLogLine, as a running batch's lines do.
        var log = new BatchLog();
        if (Options.OnLogLine is { } onLogLine)
        {
            log.LineAdded += (level, line) => onLogLine(id, level, line);
        }

        foreach (var warning in warnings)
        {
            log.Warn(warning);
        }

        await Recorder.CreateBatchAsync(new NewBatch(id, request.Dataset.Name, FormatJson(request), SourceJson(request)) { Log = log.Text }, cancellationToken).ConfigureAwait(false);
        progress?.Report(new BatchProgress(id, BatchStatus.Created, files.Count, 0, 0, 0, 0, System.Diagnostics.Stopwatch.GetElapsedTime(started)));
        return id;
    }

    /// <summary>
    /// Runs a queue worker until <paramref name="cancellationToken"/> is cancelled (or, with
    /// <see cref="WorkerOptions.ExitWhenIdle"/>, until no work is left): claims files of submitted batches
    /// under leases and loads them exactly once. Any number of workers, in any processes and hosts, can share
    /// the queue; a file whose worker dies goes to another when its lease runs out.
    /// </summary>
    /// <exception cref="NotSupportedException">The recorder is not the PostgreSQL recorder.</exception>
    /// <exception cref="NpgsqlException">
    /// The database stayed out of reach longer than <see cref="IngestOptions.DatabaseOutageTolerance"/> when the worker
    /// started or looked for work (the worker's files in flight rolled back and went back to the queue).
    /// </exception>
    public Task RunWorkerAsync(WorkerOptions? options = null, CancellationToken cancellationToken = default)
    {
        var recorder = Recorder as PostgresStatusRecorder
            ?? throw new NotSupportedException("Queue workers need the PostgreSQL status recorder, which they share.");
        options ??= new WorkerOptions();
        options.Validate();
        return new Engine.Queue.QueueWorker(this, _dataSource, recorder, options).RunAsync(cancellationToken);
    }

    /// <summary>
    /// Ends a batch left <c>started</c> by a process that died (no live process holds its lease) with status
    /// <c>error</c>, counts from the ledger and a log line saying so. It can still be resumed by running it
    /// again with the same id.
    /// </summary>
    /// <returns>False when the batch is running in a live process, or is not <c>started</c>.</returns>
    /// <exception cref="BatchNotFoundException">The batch is unknown.</exception>
    public async Task<bool> MarkAbandonedAsync(Guid batchId, CancellationToken cancellationToken = default)
    {
        var batch = await Recorder.GetBatchAsync(batchId, cancellationToken).ConfigureAwait(false);
        if (batch.Status != BatchStatus.Started || await IsRunningAsync(batchId, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        await FileLedger.EnsureAsync(_dataSource, cancellationToken).ConfigureAwait(false);
        var (inserted, invalid) = await FileLedger.TotalsAsync(_dataSource, batchId, cancellationToken).ConfigureAwait(false);
        var line = BatchLog.FormatLine(BatchLogLevel.Error, "The process running this batch stopped without ending it (no live process holds its lease); marked error. Run it again with the same id to resume", DateTimeOffset.UtcNow);
        await Recorder.AppendStatusLinesAsync(batchId, BatchStatus.Error, inserted, invalid, line, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Whether a batch that has not ended may be run again now (<see cref="ImportAsync"/> with its id resumes it): false
    /// while queue workers have files of it to load, or a live process runs it. A run that has just died (<c>kill -9</c>,
    /// a host that crashed) holds the batch until the server notices its sessions are gone; this waits up to
    /// <see cref="IngestOptions.LeaseWait"/> for that, so a host restarted at once can take the batch over.
    /// </summary>
    public async Task<bool> CanResumeAsync(Guid batchId, CancellationToken cancellationToken = default)
    {
        if (await Engine.Queue.WorkStore.HasOpenWorkAsync(_dataSource, batchId, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        return await LeaseFreedAsync(batchId, giveUp: null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The counts of a batch left <c>started</c> by a process that died (<c>kill -9</c>, a crash, a machine gone): its
    /// record keeps the last live counts that process published, rows of files in flight included, which never
    /// committed; the ledger has what did. Null when the batch is not <c>started</c>, a live process runs it, queue
    /// workers have files of it to load (their live counts stand), or the ledger cannot be read (a role that may not).
    /// For a read to show; nothing is written.
    /// </summary>
    public async Task<(long Inserted, long Invalid)?> CountsOfAbandonedAsync(Guid batchId, CancellationToken cancellationToken = default)
    {
        try
        {
            if (await Recorder.TryGetBatchAsync(batchId, cancellationToken).ConfigureAwait(false) is not { Status: BatchStatus.Started }
                || await Engine.Queue.WorkStore.HasOpenWorkAsync(_dataSource, batchId, cancellationToken).ConfigureAwait(false)
                || await IsRunningAsync(batchId, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            return await FileLedger.TotalsAsync(_dataSource, batchId, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException)
        {
            return null; // No ledger yet, or a role that may read the status tables only: the record's counts stand.
        }
    }

    /// <summary>True when a live process (this one or another) is running the batch now.</summary>
    public Task<bool> IsRunningAsync(Guid batchId, CancellationToken cancellationToken = default) =>
        BatchLease.IsHeldAsync(_dataSource, batchId, cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    internal static JsonElement FormatJson(ImportRequest request) =>
        JsonNodes.ToElement(request.Format.ToNode());

    /// <summary>The batch record's <c>source</c>: <c>{"urls": [...]}</c>, and DFI's <c>"s3": {bucket, prefix, glob, credentials.RoleArn}</c> when given (nothing secret in either).</summary>
    internal static JsonElement SourceJson(ImportRequest request)
    {
        var source = new JsonObject();
        if (request.Sources.Count > 0 || request.S3 is null)
        {
            source["urls"] = JsonNodes.Strings(request.Sources.Select(SourceFile.Recorded));
        }

        if (request.S3 is { } s3)
        {
            source["s3"] = s3.ToNode();
        }

        return JsonNodes.ToElement(source);
    }

    internal TableLayout Layout(ImportRequest request) => new(request.Dataset);
}
