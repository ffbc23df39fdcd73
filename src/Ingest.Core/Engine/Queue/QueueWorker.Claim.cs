using Ingest.Engine.Loading;
using Ingest.Sources;
using Ingest.Status;
using Ingest.Validation;
using Npgsql;

namespace Ingest.Engine.Queue;

internal sealed partial class QueueWorker
{
    /// <summary>Loads one claimed file with the shared unit, under a watch that renews its lease, then settles its claim and its batch.</summary>
    private void Process(WorkClaim claim, LoadStream stream, SourceOpener opener, CancellationToken stop)
    {
        SourceFile file;
        BatchContext? context = null;
        try
        {
            file = SourceFile.Parse(claim.Location);
            context = Context(claim.BatchId, opener);
            EnsureStarted(claim.BatchId);
            var connection = stream.Open(announceTo: null);
            context.JoinOnce(() => Join(claim.BatchId, connection));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A failed settings load must not stay cached; a fault that may pass gives the file back.
            context?.Exit();
            Forget(claim.BatchId);
            stream.DropIfBroken();
            long? outageSince = null;
            var decision = _policy.Decide(ex, claim.Attempts, claim.FileKey, ref outageSince);
            if (decision.ShouldRetry || decision.Failure == LoadFailure.DatabaseUnavailable)
            {
                Release(claim, failure: null);
                return;
            }

            var reason = $"{claim.FileKey}: {LoadPolicy.Describe(ex)}";
            Release(claim, reason);
            FailBatch(claim.BatchId, reason, LoadPolicy.WhatToFix(ex));
            return;
        }
        catch (OperationCanceledException)
        {
            context?.Exit();
            throw;
        }

        if (claim.TakenFrom is { } previous)
        {
            var why = claim.LeaseRanOut ? "(it stopped, or lost the database)" : "early: its process is gone (no session of it is left)";
            Log(claim.BatchId, BatchLogLevel.Warn, $"Taking over {file.Key} from worker {previous}, whose lease ran out {why}: whatever it loaded of the file rolled back");
        }

        try
        {
            Load(claim, file, context, stream, stop);
        }
        finally
        {
            context.Exit();
        }
    }

    private void Load(WorkClaim claim, SourceFile file, BatchContext context, LoadStream stream, CancellationToken stop)
    {
        using var fileStop = CancellationTokenSource.CreateLinkedTokenSource(stop);
        using var watchStop = new CancellationTokenSource();
        var site = new QueuedFile(this, context, claim);
        var lockWatch = new LockWaitWatch(dataSource, site.Log);
        var watch = WatchAsync(claim, fileStop, watchStop.Token);
        var lockWatching = lockWatch.RunAsync(() => site.Moved, () => stream.ProcessId is var id and not 0 ? [id] : [], watchStop.Token);
        LoadResult result;
        _loading.Value = context;
        try
        {
            result = new FileLoad(site, new Claim(file), _policy, engine.Hooks, EngineOptions).Run(stream, fileStop.Token);
        }
        finally
        {
            _loading.Value = null;
            watchStop.Cancel();
            Quietly(() => watch);
            Quietly(() => lockWatching);
        }

        Settle(claim, file, result, stop);
    }

    /// <summary>What a claim's outcome means for the queue and the batch: the worker that loads the last file records <c>finished</c>.</summary>
    private void Settle(WorkClaim claim, SourceFile file, LoadResult result, CancellationToken stop)
    {
        switch (result.Outcome)
        {
            case LoadOutcome.Loaded or LoadOutcome.AlreadyLoaded or LoadOutcome.CommittedBefore:
                TryFinish(claim.BatchId);
                break;
            case LoadOutcome.ClaimLost:
                // Logged after the rollback: the line updates the batch row the file's transaction held locked.
                Log(claim.BatchId, BatchLogLevel.Warn, $"Lost the claim on {file.Key} (its lease ran out); another worker loads it");
                break;
            case LoadOutcome.Stopped:
                // Aborted batch, lost claim or worker stopping: the file rolled back; give the claim back.
                Release(claim, failure: null);
                ForgetLocations(claim.BatchId); // Nothing while the batch runs; once it has ended, also when this worker is stopping.
                if (!stop.IsCancellationRequested)
                {
                    // Stopped while it retried a COMMIT whose answer was lost: the ledger says whether that COMMIT happened.
                    Log(claim.BatchId, BatchLogLevel.Info, IsLoaded(claim)
                        ? $"{file.Key} was committed before the connection was lost; not loading it again"
                        : $"Stopped loading {file.Key}: the batch is no longer running; the file rolled back");
                }
                else
                {
                    // The worker is stopping (SIGTERM, Ctrl+C, a host shutting down): the batch goes on with other workers.
                    Log(claim.BatchId, BatchLogLevel.Info, $"Stopped loading {file.Key}: this worker is stopping; the file rolled back and went back to the queue");
                }

                break;
            case LoadOutcome.Failed when result.Failure == LoadFailure.DatabaseUnavailable:
                // Not the file's fault, nor the batch's: another worker (or this one, once the database is back) takes it.
                Release(claim, failure: null);
                Log(claim.BatchId, BatchLogLevel.Warn, $"Giving {file.Key} back to the queue: {LoadPolicy.Describe(result.Error!)}");
                break;
            case LoadOutcome.Failed:
                var reason = LoadPolicy.Describe(result.Error!);
                Release(claim, reason);
                FailBatch(claim.BatchId, reason, LoadPolicy.WhatToFix(result.Error!));
                break;
        }
    }

    private bool IsLoaded(WorkClaim claim)
    {
        try
        {
            using var command = dataSource.CreateCommand("SELECT EXISTS (SELECT 1 FROM ingest.import_file WHERE batch_id = $1 AND file_key = $2 AND state = 'loaded')");
            command.Parameters.AddWithValue(claim.BatchId);
            command.Parameters.AddWithValue(claim.FileKey);
            return command.ExecuteScalar() is true;
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException)
        {
            return false;
        }
    }

    private void Release(WorkClaim claim, string? failure) =>
        Quietly(() => WorkStore.ReleaseAsync(dataSource, claim, options.Name, failure, CancellationToken.None));

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

    /// <summary>
    /// A claimed file of a queued batch as the site of its unit: live counts go to the shared batch record, lines
    /// name this worker, and the claim's end and the outcome line commit in the file's own transaction.
    /// </summary>
    private sealed class QueuedFile(QueueWorker worker, BatchContext context, WorkClaim claim) : ILoadSite
    {
        public Guid BatchId => claim.BatchId;

        public string Dataset => context.Dataset;

        public FileCopier Copier => context.Copier;

        public bool KeepsRowErrors => false;

        public void Log(BatchLogLevel level, string message) => worker.Log(claim.BatchId, level, message);

        private long _moved;

        /// <summary>Rows and bytes so far: grows while the file moves (for the lock watch).</summary>
        public long Moved => Interlocked.Read(ref _moved);

        public void Progress(long inserted, long invalid)
        {
            Interlocked.Add(ref _moved, inserted + invalid);
            Quietly(async () => await worker.Recorder.AddProgressAsync(claim.BatchId, inserted, invalid).ConfigureAwait(false));
            worker.Snapshot(claim.BatchId, context);
        }

        public void BytesRead(int count) => Interlocked.Add(ref _moved, count);

        public void InvalidRow(RowError error)
        {
        }

        public void InFlight(FileObserver file, bool started)
        {
        }

        public void Connected(NpgsqlConnection connection)
        {
        }

        public CommitGate BeforeCommit(NpgsqlConnection connection, NpgsqlTransaction transaction, string outcomeLine, bool withRows)
        {
            // Always taken, for the lock; a file found in the ledger settles its claim even in a batch that ended
            // meanwhile (another worker may record 'finished' between a COMMIT whose answer was lost and its retry).
            if (!IsRunning(connection, transaction, claim.BatchId) && withRows)
            {
                return CommitGate.BatchStopped;
            }

            if (!WorkStore.CompleteInTransaction(connection, transaction, claim, worker.Name))
            {
                return CommitGate.ClaimLost;
            }

            PostgresStatusRecorder.AppendLogInTransaction(connection, transaction, claim.BatchId, BatchLog.FormatLine(BatchLogLevel.Info, $"[{worker.Name}] {outcomeLine}", DateTimeOffset.UtcNow));
            return CommitGate.Commit;
        }

        public void Committed(string outcomeLine)
        {
        }
    }
}
