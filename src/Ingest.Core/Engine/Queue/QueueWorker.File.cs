using System.Diagnostics;
using Ingest.Csv;
using Ingest.Diagnostics;
using Ingest.Sources;
using Ingest.Status;
using Ingest.Validation;
using Npgsql;

namespace Ingest.Engine.Queue;

internal sealed partial class QueueWorker
{
    private void Process(WorkClaim claim, SourceOpener opener, CancellationToken stop)
    {
        SourceFile file;
        BatchContext context;
        try
        {
            file = SourceFile.Parse(claim.Location);
            context = Context(claim.BatchId, opener);
            EnsureStarted(claim.BatchId);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A failed settings load must not stay cached; a fault that may pass gives the file back.
            _batches.TryRemove(claim.BatchId, out _);
            if (BatchRun.IsTransient(ex) && claim.Attempts < options.MaxFileAttempts)
            {
                Quietly(() => WorkStore.ReleaseAsync(dataSource, claim, options.Name, null, CancellationToken.None));
                return;
            }

            var reason = $"{claim.FileKey}: {BatchRun.Describe(ex)}";
            Quietly(() => WorkStore.ReleaseAsync(dataSource, claim, options.Name, reason, CancellationToken.None));
            FailBatch(claim.BatchId, reason);
            return;
        }

        _ = context.Joined.Value;
        if (claim.TakenFrom is { } previous)
        {
            Log(claim.BatchId, BatchLogLevel.Warn, $"Taking over {file.Key} from worker {previous}, whose lease ran out (it stopped, or lost the database): whatever it loaded of the file rolled back");
        }

        Log(claim.BatchId, BatchLogLevel.Info, file.IsHttp ? $"Fetching url {file.Key}" : $"Reading file {file.Key}");
        using var fileStop = CancellationTokenSource.CreateLinkedTokenSource(stop);
        using var watchStop = new CancellationTokenSource();
        var watch = WatchAsync(claim, fileStop, watchStop.Token);
        var tag = IngestTelemetry.Dataset(context.Dataset);
        var started = Stopwatch.GetTimestamp();
        var span = IngestTelemetry.StartFile(file.Key, context.Dataset);
        var loaded = false;
        var observer = new Observer(this, claim.BatchId, context);
        IngestTelemetry.ActiveStreams.Add(1, tag);
        try
        {
            loaded = LoadFile(claim, file, context, observer, fileStop.Token);
            if (loaded)
            {
                TryFinish(claim.BatchId);
            }
        }
        catch (Exception) when (fileStop.IsCancellationRequested)
        {
            // Aborted batch, lost claim or worker stopping: the file rolled back; give the claim back.
            Quietly(() => WorkStore.ReleaseAsync(dataSource, claim, options.Name, null, CancellationToken.None));
            ForgetLocations(claim.BatchId); // Nothing while the batch runs; once it has ended, also when this worker is stopping.
            if (!stop.IsCancellationRequested)
            {
                Log(claim.BatchId, BatchLogLevel.Info, $"Stopped loading {file.Key}: the batch is no longer running; the file rolled back");
            }
        }
        catch (Exception ex) when (BatchRun.IsTransient(ex) && claim.Attempts < options.MaxFileAttempts)
        {
            IngestTelemetry.Retry(context.Dataset, "file");
            Quietly(() => WorkStore.ReleaseAsync(dataSource, claim, options.Name, null, CancellationToken.None));
            Log(claim.BatchId, BatchLogLevel.Warn, $"Giving {file.Key} back to the queue (attempt {claim.Attempts} of {options.MaxFileAttempts}) after: {BatchRun.Describe(ex)}");
            stop.WaitHandle.WaitOne(Backoff.Delay(BatchRun.FileRetryInitial, BatchRun.FileRetryMax, claim.Attempts));
        }
        catch (Exception ex)
        {
            var reason = ex is FileErrorException ? BatchRun.Describe(ex) : $"{file.Key}: {BatchRun.Describe(ex)}";
            Quietly(() => WorkStore.ReleaseAsync(dataSource, claim, options.Name, reason, CancellationToken.None));
            FailBatch(claim.BatchId, reason);
        }
        finally
        {
            watchStop.Cancel();
            Quietly(() => watch);
            if (!loaded)
            {
                observer.TakeBack();
            }

            IngestTelemetry.ActiveStreams.Add(-1, tag);
            IngestTelemetry.FileLoaded(context.Dataset, Stopwatch.GetElapsedTime(started), loaded);
            IngestTelemetry.End(span, loaded ? "loaded" : "not loaded", failed: !loaded);
        }
    }

    /// <summary>
    /// Loads the file in one transaction with its ledger row, the end of its claim and its log line (so the
    /// worker that records <c>finished</c> sees every file's line); false when the claim was lost.
    /// </summary>
    private bool LoadFile(WorkClaim claim, SourceFile file, BatchContext context, Observer observer, CancellationToken token)
    {
        using var connection = dataSource.OpenConnection();
        using var transaction = connection.BeginTransaction();
        var fresh = FileLedger.TryClaim(connection, transaction, claim.BatchId, file.Key);
        var (inserted, invalid) = fresh ? context.Copier.Copy(connection, file, observer, token) : (0L, 0L);
        if (!IsRunning(connection, transaction, claim.BatchId))
        {
            throw new OperationCanceledException("The batch is no longer running.");
        }

        if (fresh)
        {
            FileLedger.MarkLoaded(connection, transaction, claim.BatchId, file.Key, inserted, invalid);
        }

        if (!WorkStore.CompleteInTransaction(connection, transaction, claim, options.Name))
        {
            // Roll back before logging: the log line updates the batch row this transaction holds locked.
            transaction.Rollback();
            Log(claim.BatchId, BatchLogLevel.Warn, $"Lost the claim on {file.Key} (its lease ran out); another worker loads it");
            return false;
        }

        var outcome = fresh
            ? $"Loaded {file.Key}: {inserted} rows inserted, {invalid} invalid"
            : $"{file.Key} was already loaded in this batch; not loading it again";
        PostgresStatusRecorder.AppendLogInTransaction(connection, transaction, claim.BatchId, BatchLog.FormatLine(BatchLogLevel.Info, $"[{options.Name}] {outcome}", DateTimeOffset.UtcNow));
        transaction.Commit();
        observer.Progress(inserted, invalid);
        IngestTelemetry.RowsInserted.Add(inserted, IngestTelemetry.Dataset(context.Dataset));
        IngestTelemetry.RowsInvalid.Add(invalid, IngestTelemetry.Dataset(context.Dataset));
        return true;
    }

    /// <summary>
    /// The batch may still take rows. The row lock holds off an abort until this file's COMMIT, so the abort's
    /// counts include it; it is FOR NO KEY UPDATE, not FOR SHARE, because the transaction then appends the file's
    /// log line to that row: two streams upgrading shared locks would deadlock, these queue for the few
    /// milliseconds of a commit.
    /// </summary>
    private static bool IsRunning(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid batchId)
    {
        using var command = new NpgsqlCommand(
            "SELECT status IN ('created', 'started') AND NOT abort_requested FROM ingest.import_batch WHERE id = $1 FOR NO KEY UPDATE", connection, transaction);
        command.Parameters.AddWithValue(batchId);
        return command.ExecuteScalar() is true;
    }

    /// <summary>Adds the file's progress to the batch's live counts as deltas; <see cref="TakeBack"/> undoes them when the file rolls back.</summary>
    private sealed class Observer(QueueWorker worker, Guid batchId, BatchContext context) : ICopyObserver
    {
        private int _logged;
        private long _inserted;
        private long _invalid;

        public void Progress(long inserted, long invalid)
        {
            var (dInserted, dInvalid) = (inserted - _inserted, invalid - _invalid);
            (_inserted, _invalid) = (inserted, invalid);
            Quietly(async () => await worker.Recorder.AddProgressAsync(batchId, dInserted, dInvalid).ConfigureAwait(false));
            worker.Snapshot(batchId, context);
        }

        public void TakeBack() => Progress(0, 0);

        public void Invalid(SourceFile file, long line, int column, RowErrorKind kind, ref CsvRow row)
        {
            var logged = _logged < worker.EngineOptions.MaxRowErrorsLogged;
            var onInvalidRow = worker.EngineOptions.OnInvalidRow;
            if (!logged && onInvalidRow is null)
            {
                return;
            }

            var error = context.Copier.Describe(file, line, column, kind, ref row);
            onInvalidRow?.Invoke(batchId, error);
            if (logged)
            {
                foreach (var message in InvalidRowLog.Lines(error, ++_logged, worker.EngineOptions.MaxRowErrorsLogged))
                {
                    worker.Log(batchId, BatchLogLevel.Warn, message);
                }
            }
        }

        public void BytesRead(int count) => IngestTelemetry.BytesFetched.Add(count, IngestTelemetry.Dataset(context.Dataset));
    }
}
