using System.Diagnostics;
using Ingest.Diagnostics;
using Ingest.Engine.Loading;
using Ingest.Sources;
using Ingest.Status;

namespace Ingest.Engine.Run;

internal sealed partial class BatchRun
{
    /// <summary>How often a run asks again for a lease another process holds.</summary>
    private static readonly TimeSpan LeasePoll = TimeSpan.FromMilliseconds(100);

    public async Task<BatchResult> RunAsync(IProgress<BatchProgress>? progress, CancellationToken cancellationToken)
    {
        // Everything that can be wrong with the request is found before the batch exists or data moves.
        _encoder = new Copy.RowEncoder(_request.Dataset, _request.Format);
        _layout = _engine.Layout(_request);
        _csvOptions = new Csv.CsvReadOptions(_options.HeaderLines, _options.MaxRecordSize);
        BatchFiles.CheckSources(_request, _options.MaxFilesPerBatch);

        // The sessions the run will need are opened side by side while the start's queries run: each new PostgreSQL
        // session is a backend fork, paid one after another otherwise. The start's queries and the lease open their own
        // two; the first stream takes over the start's session once its queries are done, the others' (one per file, up
        // to Streams) are warmed in the pool. Warming the first stream's too cost a fresh 1,000-row import about 20 ms
        // (174 against 195 ms, medians of 15, interleaved): one more backend fork on 2 cores while the others start.
        WarmPool(Math.Min(_options.Streams, _request.S3 is null && _request.Sources.All(s => !SourceFile.IsPattern(s)) ? _request.Sources.Count : _options.Streams) - 1);

        // The checks and the lease side by side; a run started while the database restarts, or has no free connection
        // slot, waits for it as the streams would.
        var (tableWarnings, existing, readUnderLease, lease, waited) = await PrepareAndLeaseAsync(cancellationToken).ConfigureAwait(false);
        _lease = lease;
        await using (lease.ConfigureAwait(false))
        {
            // One opener for the batch: its connections are pooled across files, and its role session names the batch.
            using (_opener = new SourceOpener(BatchFiles.SourceOptionsFor(_options.Source, _request, _batchId)))
            {
                _opener.Retrying += message =>
                {
                    if (_log is null)
                    {
                        Announce(BatchLogLevel.Warn, message); // Listing, before the batch's log exists.
                    }
                    else
                    {
                        _log.Warn(message);
                    }

                    IngestTelemetry.Retry(_request.Dataset.Name, "source");
                };
                return await RunLeasedAsync(tableWarnings, existing, readUnderLease, waited, progress, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The batch's files under its lease: its URLs and paths, and the objects of its <c>s3://</c> patterns as they were
    /// listed when the batch first started (a resume reads the stored listing; only a pattern never listed is listed
    /// now, and kept). Returns the files, the repeats dropped, the locations that came from listings, and log lines.
    /// <paramref name="stored"/>: the batch's stored listings when already read; else they are read when a pattern needs them.
    /// </summary>
    private async Task<(List<string> Warnings, HashSet<string> Listed, List<string> Lines)> ResolveFilesAsync(Dictionary<string, List<string>>? stored, CancellationToken cancellationToken)
    {
        var listed = new HashSet<string>(StringComparer.Ordinal);
        var lines = new List<string>();
        var locations = await BatchFiles.LocationsAsync(_request, async listing =>
        {
            if (stored is null)
            {
                await BatchListing.EnsureAsync(_dataSource, cancellationToken).ConfigureAwait(false);
                stored = await BatchListing.LoadAsync(_dataSource, _batchId, cancellationToken).ConfigureAwait(false);
            }

            IReadOnlyList<string> objects;
            if (stored.TryGetValue(listing.Key, out var kept))
            {
                objects = kept;
                lines.Add($"Using the {kept.Count} object(s) {listing.Key} matched when the batch first started");
            }
            else
            {
                objects = await listing.List(_opener, cancellationToken).ConfigureAwait(false);
                await BatchListing.SaveAsync(_dataSource, _batchId, listing.Key, objects, cancellationToken).ConfigureAwait(false);
                lines.Add($"Listed {objects.Count} object(s) matching {listing.Key}");
            }

            listed.UnionWith(objects);
            return objects;
        }).ConfigureAwait(false);
        (_files, var warnings) = BatchFiles.Distinct(locations, _options.MaxFilesPerBatch);
        return (warnings, listed, lines);
    }

    /// <summary>
    /// The start's checks (<see cref="PrepareAsync"/>) and the batch's lease, side by side: each costs round trips on a
    /// session of its own. A check that fails gives up the lease (or stops waiting for it) before it throws.
    /// <c>ReadUnderLease</c>: the batch's record was read after the lease was granted, so no other run can have created
    /// the batch since (see <see cref="ExistingUnderLeaseAsync"/>).
    /// </summary>
    private async Task<(IReadOnlyList<string> Warnings, BatchRecord? Existing, bool ReadUnderLease, BatchLease Lease, TimeSpan Waited)> PrepareAndLeaseAsync(CancellationToken cancellationToken)
    {
        using var leaseCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // The checks and the lease ride out an outage side by side: the user hears of it once, not once from each.
        var outageAnnounced = 0;
        void AnnounceOnce(string message)
        {
            if (Interlocked.Exchange(ref outageAnnounced, 1) == 0)
            {
                AnnounceWarning(message);
            }
        }

        var leasing = _policy.RideOutAsync(() => AcquireLeaseAsync(leaseCancel.Token), AnnounceOnce, leaseCancel.Token);
        try
        {
            var (warnings, existing, readUnderLease) = await _policy.RideOutAsync(() => PrepareAsync(leasing, cancellationToken), AnnounceOnce, cancellationToken).ConfigureAwait(false);
            var (lease, waited) = await leasing.ConfigureAwait(false);
            return (warnings, existing, readUnderLease, lease, waited);
        }
        catch
        {
            await leaseCancel.CancelAsync().ConfigureAwait(false);
            try
            {
                var (lease, _) = await leasing.ConfigureAwait(false);
                await lease.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                _ = ex; // The check's failure is what the caller hears of, whatever became of the lease.
            }

            throw;
        }
    }

    /// <summary>
    /// Before anything is written: the ledger's tables, the batch's record, then the dataset's table checked (and made
    /// when missing) once the request is known to fit the batch, so a refused resume leaves no empty table behind.
    /// Returns the table's warnings, the batch record as it was, and whether <paramref name="leasing"/> had already
    /// granted the lease when the record was asked for (the lease is taken on its own session, side by side). One after
    /// another on one session: checked side by side on two, a fresh 1,000-row import took 207 ms against 181 ms (medians
    /// of 15, interleaved): each new session is a backend fork on the server's cores.
    /// </summary>
    private async Task<(IReadOnlyList<string> Warnings, BatchRecord? Existing, bool ReadUnderLease)> PrepareAsync(Task leasing, CancellationToken cancellationToken)
    {
        // The recorder's tables are asked about in the ledger's catalog query when they live in the same database.
        var postgres = _recorder is PostgresStatusRecorder shared && shared.Shares(_dataSource) ? shared : null;
        if (await FileLedger.EnsureAsync(_dataSource, postgres is null ? null : PostgresStatusRecorder.SchemaPresentSql, cancellationToken).ConfigureAwait(false))
        {
            postgres!.SchemaFound();
        }

        var readUnderLease = leasing.IsCompletedSuccessfully;
        var existing = await _recorder.TryGetBatchAsync(_batchId, cancellationToken).ConfigureAwait(false);
        BatchIdentity.Check(existing, _request);
        var warnings = await _layout.EnsureAsync(_dataSource, cancellationToken).ConfigureAwait(false);
        return (warnings, existing, readUnderLease);
    }

    /// <summary>
    /// Takes the batch's lease, waiting up to <see cref="IngestOptions.LeaseWait"/> while another process holds it: a
    /// run killed a moment ago still holds it until the server notices its sessions are gone, and a supervisor that
    /// restarts it at once must not be refused for that. A run still holding it after the wait is live: refused.
    /// </summary>
    private async Task<(BatchLease Lease, TimeSpan Waited)> AcquireLeaseAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var announced = false;
        while (true)
        {
            if (await BatchLease.TryAcquireAsync(_dataSource, _batchId, cancellationToken).ConfigureAwait(false) is { } lease)
            {
                return (lease, announced ? Stopwatch.GetElapsedTime(started) : TimeSpan.Zero);
            }

            if (Stopwatch.GetElapsedTime(started) >= _options.LeaseWait)
            {
                throw new BatchAlreadyRunningException(_batchId);
            }

            if (!announced)
            {
                announced = true;
                Announce(BatchLogLevel.Warn, $"Batch {_batchId} is held by another process: waiting up to {_options.LeaseWait.TotalSeconds:0} s for it to let go (a run that has just stopped holds it until the server notices its sessions are gone)");
            }

            await Task.Delay(LeasePoll, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The batch's record under the lease, with the run fenced (<see cref="BeginRunAsync"/>) when the batch exists. A
    /// batch that did not exist when it was read before the lease was granted is read once more; a run number is taken
    /// only if another run created it meanwhile (a new batch's first run is fenced to its number 0 as it creates it).
    /// Read after the lease was granted, a missing batch is not read again: a run creates its batch only under the
    /// lease. One made without it since (`ingest submit`, an API host's POST, a killed run's late statement) shows up
    /// as the create's conflict, and the run then takes it over (<see cref="RunLeasedAsync"/>).
    /// </summary>
    private async Task<BatchRecord?> ExistingUnderLeaseAsync(BatchRecord? existed, bool readUnderLease, CancellationToken cancellationToken)
    {
        if (existed is null && (readUnderLease || await _recorder.TryGetBatchAsync(_batchId, cancellationToken).ConfigureAwait(false) is null))
        {
            return null;
        }

        await BeginRunAsync(cancellationToken).ConfigureAwait(false);
        return await _recorder.TryGetBatchAsync(_batchId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A batch this run has just created is at run number 0: its writes are fenced to it, with no round trip.</summary>
    private void FenceToFirstRun()
    {
        if (_engine.Recorder is PostgresStatusRecorder postgres)
        {
            _recorder = postgres.FencedTo(_batchId, 0);
        }
    }

    /// <summary>
    /// Under the lease: a new run number for the batch, and from now on a recorder fenced to it (PostgreSQL), so a
    /// status write of a killed run still in flight on the server cannot land over this run's.
    /// </summary>
    private async Task BeginRunAsync(CancellationToken cancellationToken)
    {
        if (_engine.Recorder is PostgresStatusRecorder postgres && await postgres.BeginRunAsync(_batchId, cancellationToken).ConfigureAwait(false) is { } run)
        {
            _recorder = postgres.FencedTo(_batchId, run);
        }
    }

    /// <summary>Opens <paramref name="count"/> connections at once and gives them back to the pool; a failure is left to the steps that need them.</summary>
    private void WarmPool(int count)
    {
        for (var i = 0; i < count; i++)
        {
            _ = WarmOneAsync();
        }

        async Task WarmOneAsync()
        {
            try
            {
                var connection = await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or IOException or TimeoutException or InvalidOperationException)
            {
                _ = ex; // The start's own steps report (and ride out) what is wrong with the database.
            }
        }
    }

    /// <summary>A line for the host (<see cref="IngestOptions.OnLogLine"/>) before the batch's own log exists.</summary>
    private void Announce(BatchLogLevel level, string message) =>
        _options.OnLogLine?.Invoke(_batchId, level, BatchLog.FormatLine(level, Redactor.RedactText(message), DateTimeOffset.UtcNow));

    private void AnnounceWarning(string message) => Announce(BatchLogLevel.Warn, message);
}
