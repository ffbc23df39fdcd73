using Ingest.Engine.Loading;
using Ingest.Status;
using Npgsql;

namespace Ingest.Engine.Queue;

internal sealed partial class QueueWorker
{
    /// <summary>Appends one line, naming this worker, to the batch's shared log (and sets live counts when given).</summary>
    private void Log(Guid batchId, BatchLogLevel level, string message, long? inserted = null, long? invalid = null) =>
        Quietly(async () =>
        {
            var line = BatchLog.FormatLine(level, $"[{options.Name}] {message}", DateTimeOffset.UtcNow);
            await recorder.AppendLogAsync(batchId, line, inserted, invalid).ConfigureAwait(false);
        });

    /// <summary>
    /// A read of a batch's file tried again (an HTTP 503, a dropped S3 connection): a warning line in the batch's log, as
    /// <c>ingest import</c> writes it, so a slow file on a shared queue says why.
    /// </summary>
    private void SourceRetried(Guid batchId, string dataset, string message)
    {
        Log(batchId, BatchLogLevel.Warn, message);
        Diagnostics.IngestTelemetry.Retry(dataset, "source");
    }

    /// <summary>The first file this worker takes of a batch: the batch's log says who joined, with how many streams, on which database.</summary>
    private void Join(Guid batchId, NpgsqlConnection connection)
    {
        var lines = BatchLog.FormatLines(
            BatchLogLevel.Info,
            DateTimeOffset.UtcNow,
            $"[{options.Name}] Using {options.Streams} parallel streams",
            $"[{options.Name}] Connected to database '{connection.Database}' at {connection.Host} with user '{connection.UserName}'");
        Quietly(async () => await recorder.AppendLogAsync(batchId, lines, null, null).ConfigureAwait(false));
    }

    /// <summary>
    /// At most every <see cref="IngestOptions.SnapshotInterval"/>: a <c>started</c> record of the batch's live counts
    /// and log on its timeline, so 'ingest status' shows a queued batch grow while workers load it. The
    /// recorder skips it when another worker's record is newer than the interval, or nothing changed.
    /// </summary>
    private void Snapshot(Guid batchId, BatchContext context)
    {
        var interval = engine.Options.SnapshotInterval;
        var now = Environment.TickCount64;
        var last = Volatile.Read(ref context.LastSnapshot);
        if (now - last < (long)interval.TotalMilliseconds || Interlocked.CompareExchange(ref context.LastSnapshot, now, last) != last)
        {
            return;
        }

        Quietly(async () => await recorder.AppendStartedSnapshotAsync(batchId, interval).ConfigureAwait(false));
    }

    private (long Inserted, long Invalid) Totals(Guid batchId)
    {
        return FileLedger.TotalsAsync(dataSource, batchId, CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <summary>The first worker to touch a created batch records <c>started</c> (once: under the batch's queue row lock).</summary>
    private void EnsureStarted(Guid batchId) => UnderBatchLock(batchId, batch =>
    {
        if (batch.Status != BatchStatus.Created)
        {
            return;
        }

        AppendStatus(batchId, BatchStatus.Started, 0, 0, BatchLogLevel.Info, "Starting batch job", "Starting import: files are shared by the workers of the queue");
    });

    /// <summary>The worker that sees no file left records <c>finished</c>, with counts from the ledger.</summary>
    private void TryFinish(Guid batchId) => UnderBatchLock(batchId, batch =>
    {
        using var command = dataSource.CreateCommand("SELECT count(*) FROM ingest.work_file WHERE batch_id = $1 AND state <> 'done'");
        command.Parameters.AddWithValue(batchId);
        if (batch.Status != BatchStatus.Started || (long)command.ExecuteScalar()! != 0)
        {
            return;
        }

        var (inserted, invalid) = Totals(batchId);
        AppendStatus(batchId, BatchStatus.Finished, inserted, invalid, BatchLogLevel.Info, $"Finished batch job. Inserted: {inserted}, Invalid: {invalid}");
    });

    /// <summary>
    /// With nothing to claim: records the end of batches whose last worker died before it could (every file done or
    /// failed, none pending or in flight, yet still <c>started</c>).
    /// </summary>
    private void SettleOrphans(LoadStream stream)
    {
        List<(Guid BatchId, string? Failure)> settled;
        try
        {
            settled = WorkStore.Settled(stream.Open(announceTo: null));
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException)
        {
            stream.DropIfBroken();
            return;
        }

        foreach (var (batchId, failure) in settled)
        {
            if (failure is null)
            {
                TryFinish(batchId);
            }
            else
            {
                FailBatch(batchId, failure);
            }
        }
    }

    private void FailBatch(Guid batchId, string reason, string fix = LoadPolicy.FixTheFile) => UnderBatchLock(batchId, batch =>
    {
        if (batch.Status.IsTerminal())
        {
            return;
        }

        var (inserted, invalid) = Totals(batchId);
        AppendStatus(batchId, BatchStatus.Error, inserted, invalid, BatchLogLevel.Error, reason, $"Batch job failed. Inserted: {inserted}, Invalid: {invalid}. {fix} and submit the rest again");
        ForgetLocations(batchId);
    });

    /// <summary>The batch has ended: its files' locations lose their credentials (<see cref="WorkStore.ForgetLocationsAsync"/>).</summary>
    private void ForgetLocations(Guid batchId) => Quietly(async () =>
    {
        var connection = await dataSource.OpenConnectionAsync().ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await WorkStore.ForgetLocationsAsync(connection, null, batchId, CancellationToken.None).ConfigureAwait(false);
        }
    });

    /// <summary>
    /// Records a status with lines (naming this worker) appended to the shared log in the same statement, so
    /// lines other streams and workers append meanwhile, without the batch lock, are kept.
    /// </summary>
    private void AppendStatus(Guid batchId, BatchStatus status, long inserted, long invalid, BatchLogLevel level, params string[] messages)
    {
        var text = BatchLog.FormatLines(level, DateTimeOffset.UtcNow, messages.Select(message => $"[{options.Name}] {message}"));
        recorder.AppendStatusLinesAsync(batchId, status, inserted, invalid, text).AsTask().GetAwaiter().GetResult();
    }

    // The batch's status changes ride out a database that is briefly away (a restart), as a run's end does, under the
    // same policy: the worker that loaded the last file is the only one that records 'finished'.
    private void UnderBatchLock(Guid batchId, Action<BatchRecord> action) => Quietly(() => _policy.RideOutAsync(async () =>
    {
        var connection = await dataSource.OpenConnectionAsync().ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                using var command = new NpgsqlCommand("SELECT 1 FROM ingest.work_batch WHERE batch_id = $1 FOR UPDATE", connection, transaction);
                command.Parameters.AddWithValue(batchId);
                await command.ExecuteScalarAsync().ConfigureAwait(false);
                var batch = await recorder.GetBatchAsync(batchId).ConfigureAwait(false);
                engine.Hooks.AfterBatchRead?.Invoke(batchId);
                action(batch);
                await transaction.CommitAsync().ConfigureAwait(false);
            }
        }
    }, announce: null, CancellationToken.None));

    /// <summary>While a file loads: renews its lease, and stops it when the batch stops running or the claim is lost.</summary>
    private async Task WatchAsync(WorkClaim claim, CancellationTokenSource fileStop, CancellationToken cancellationToken)
    {
        var renewEvery = options.Lease / 3;
        var lastRenew = DateTime.UtcNow;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
                if (!await BatchRunningAsync(claim.BatchId, cancellationToken).ConfigureAwait(false))
                {
                    await fileStop.CancelAsync().ConfigureAwait(false);
                    return;
                }

                if (DateTime.UtcNow - lastRenew >= renewEvery)
                {
                    // Renewed only while this worker holds its liveness lock: a claim renewed since a restart proves its
                    // worker took its lock again (WorkStore.TryClaim).
                    await _liveness!.EnsureAsync(cancellationToken).ConfigureAwait(false);
                    if (!await WorkStore.RenewAsync(dataSource, claim, options.Name, options.Lease, cancellationToken).ConfigureAwait(false))
                    {
                        await fileStop.CancelAsync().ConfigureAwait(false);
                        return;
                    }

                    lastRenew = DateTime.UtcNow;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException)
            {
                // The store is briefly unreachable: keep watching; the lease has room for missed renewals.
            }
        }
    }

    private async Task<bool> BatchRunningAsync(Guid batchId, CancellationToken cancellationToken)
    {
        using var command = dataSource.CreateCommand("SELECT status IN ('created', 'started') AND NOT abort_requested FROM ingest.import_batch WHERE id = $1");
        command.Parameters.AddWithValue(batchId);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
    }

    /// <summary>Status bookkeeping must not kill a stream: a failure here is retried by the next file or worker.</summary>
    private static void Quietly(Func<Task> action)
    {
        try
        {
            action().GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or InvalidOperationException or OperationCanceledException or BatchNotFoundException)
        {
            _ = ex;
        }
    }
}
