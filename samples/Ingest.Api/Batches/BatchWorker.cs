using Ingest.Hosting;
using Ingest.Status;

namespace Ingest.Api.Batches;

/// <summary>
/// Runs queued batches in the background, <see cref="ApiSettings.ConcurrentBatches"/> at a time. A batch the engine
/// refuses before it starts (e.g. its table exists with other columns) is recorded <c>error</c> with the reason;
/// on shutdown, running batches are aborted (files in flight roll back) and queued ones are marked <c>aborted</c>.
/// </summary>
internal sealed partial class BatchWorker(BatchQueue queue, IngestService ingest, ApiSettings settings, ILogger<BatchWorker> logger) : BackgroundService
{
    private static readonly TimeSpan WorkerRestartDelay = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var loops = Enumerable.Range(0, settings.ConcurrentBatches).Select(_ => Task.Run(() => LoopAsync(stoppingToken), CancellationToken.None));
        await Task.WhenAll([.. loops, Task.Run(() => QueueWorkerAsync(stoppingToken), CancellationToken.None)]);
        await AbortQueuedAsync();
    }

    /// <summary>
    /// This host's queue worker: loads submitted batches' files (with the API's source guards) beside any other workers.
    /// A worker that stops on a fault (the database out of reach past <see cref="IngestOptions.DatabaseOutageTolerance"/>)
    /// is started again after a pause: the host keeps serving, and loads again once the database is back.
    /// </summary>
    private async Task QueueWorkerAsync(CancellationToken stoppingToken)
    {
        var name = $"{Environment.MachineName}:{Environment.ProcessId}/api";
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ingest.Engine.RunWorkerAsync(
                    new WorkerOptions { Streams = settings.Engine.Streams, PollInterval = TimeSpan.FromMilliseconds(250), Name = name },
                    stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // Shutting down: files in flight rolled back and went back to the queue for any worker.
                return;
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or IOException or TimeoutException)
            {
                WorkerStopped(logger, name, ex);
                try
                {
                    await Task.Delay(WorkerRestartDelay, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task LoopAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var job in queue.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await RunAsync(job, stoppingToken);
                }
                finally
                {
                    queue.Done(job);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    private async Task RunAsync(BatchJob job, CancellationToken stoppingToken)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, job.Cancel.Token);
        try
        {
            // Aborted while it waited: a new batch that ended before it started must not start now.
            var batch = await ingest.Recorder.GetBatchAsync(job.BatchId, stoppingToken);
            if (cancel.IsCancellationRequested || (!job.Resume && batch.Status.IsTerminal()))
            {
                return;
            }

            var result = await ingest.ImportAsync(job.Request, null, cancel.Token);
            BatchEnded(logger, job.BatchId, result.Status.ToWord(), result.InsertCount, result.InvalidCount);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            await TryAbortAsync(job.BatchId);
        }
        catch (BatchAlreadyRunningException ex)
        {
            // Another host took the batch between the PUT's check and this run: it is running, not failed.
            BatchHeldElsewhere(logger, job.BatchId, ex);
        }
        catch (Exception ex)
        {
            BatchFailed(logger, job.BatchId, ex);
            await RecordErrorAsync(job.BatchId, ex);
        }
    }

    /// <summary>The engine threw before the batch could run: the timeline says why, so a client polling it is not left at <c>created</c>.</summary>
    private async Task RecordErrorAsync(Guid batchId, Exception exception)
    {
        try
        {
            var batch = await ingest.Recorder.GetBatchAsync(batchId);
            if (!batch.Status.IsTerminal())
            {
                var log = new BatchLog(batch.Log);
                log.Error(exception.Message);
                await ingest.Recorder.AppendStatusAsync(batchId, BatchStatus.Error, batch.InsertCount, batch.InvalidCount, log.Text);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            BatchFailed(logger, batchId, ex);
        }
    }

    private async Task AbortQueuedAsync()
    {
        while (queue.Reader.TryRead(out var job))
        {
            await TryAbortAsync(job.BatchId);
            queue.Done(job);
        }
    }

    private async Task TryAbortAsync(Guid batchId)
    {
        try
        {
            await ingest.Recorder.RequestAbortAsync(batchId);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            BatchFailed(logger, batchId, ex);
        }
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Batch {BatchId} ended {Status}: {Inserted} inserted, {Invalid} invalid")]
    private static partial void BatchEnded(ILogger logger, Guid batchId, string status, long inserted, long invalid);

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "Batch {BatchId} was not resumed here: another process runs it")]
    private static partial void BatchHeldElsewhere(ILogger logger, Guid batchId, Exception exception);

    [LoggerMessage(EventId = 12, Level = LogLevel.Error, Message = "Queue worker {Worker} stopped on a database fault; starting it again in 5 s")]
    private static partial void WorkerStopped(ILogger logger, string worker, Exception exception);

    [LoggerMessage(EventId = 11, Level = LogLevel.Error, Message = "Batch {BatchId} could not run")]
    private static partial void BatchFailed(ILogger logger, Guid batchId, Exception exception);
}
