using System.CommandLine;
using Ingest.Status;

namespace Ingest.Cli.Commands;

/// <summary><c>ingest status</c>, <c>ingest batch</c> and <c>ingest abort</c>: read or steer a batch through the PostgreSQL recorder.</summary>
internal static class BatchCommands
{
    public static Command Status(CliIO io) => Create(io, "status", "Print the batch's timeline as JSON, newest first.", async (engine, id, cancellationToken) =>
    {
        var timeline = await engine.Recorder.GetTimelineAsync(id, cancellationToken).ConfigureAwait(false);
        if (timeline[0].Status == BatchStatus.Started && await engine.CountsOfAbandonedAsync(id, cancellationToken).ConfigureAwait(false) is { } committed)
        {
            // A dead run's last live counts held rows that never committed: what did is shown.
            timeline = [timeline[0] with { InsertCount = committed.Inserted, InvalidCount = committed.Invalid }, .. timeline.Skip(1)];
        }

        await io.Out.WriteLineAsync(StatusJson.Serialize(timeline, indented: true)).ConfigureAwait(false);
        return ExitCodes.Success;
    });

    public static Command Batch(CliIO io) => Create(io, "batch", "Print the batch record as JSON.", async (engine, id, cancellationToken) =>
    {
        var batch = await engine.Recorder.GetBatchAsync(id, cancellationToken).ConfigureAwait(false);
        if (batch.Status == BatchStatus.Started && await engine.CountsOfAbandonedAsync(id, cancellationToken).ConfigureAwait(false) is { } committed)
        {
            batch = batch with { InsertCount = committed.Inserted, InvalidCount = committed.Invalid };
        }

        await io.Out.WriteLineAsync(StatusJson.Serialize(batch, indented: true)).ConfigureAwait(false);
        return ExitCodes.Success;
    });

    public static Command Abort(CliIO io) => Create(io, "abort", "Abort a running batch (also one run by another process).", async (engine, id, cancellationToken) =>
    {
        var recorder = engine.Recorder;
        var outcome = await engine.AbortAsync(id, cancellationToken).ConfigureAwait(false);
        switch (outcome)
        {
            case AbortOutcome.AlreadyEnded:
                var batch = await recorder.GetBatchAsync(id, cancellationToken).ConfigureAwait(false);
                await io.Error.WriteLineAsync($"Batch {id} already ended '{batch.Status.ToWord()}'; a batch that ended cannot be aborted.").ConfigureAwait(false);
                return ExitCodes.Failed;
            case AbortOutcome.AlreadyAborted:
                await io.Error.WriteLineAsync($"Batch {id} is already aborted.").ConfigureAwait(false);
                return ExitCodes.Success;
            case AbortOutcome.AbortedNow:
                await io.Error.WriteLineAsync($"Batch {id} is aborted; files in flight roll back. 'ingest import --batch-id {id}' resumes what is left.").ConfigureAwait(false);
                return ExitCodes.Success;
        }

        await io.Error.WriteLineAsync($"Abort requested for batch {id}; waiting for the process running it to roll back its files in flight...").ConfigureAwait(false);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var status = (await recorder.GetBatchAsync(id, cancellationToken).ConfigureAwait(false)).Status;
            if (status.IsTerminal())
            {
                await io.Error.WriteLineAsync($"Batch {id} is {status.ToWord()}.").ConfigureAwait(false);
                return status == BatchStatus.Aborted ? ExitCodes.Success : ExitCodes.Failed;
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }

        await io.Error.WriteLineAsync(
            $"Batch {id} has not acknowledged the abort within 30 s, though its process is alive; the request stays recorded and it stops at its next check.").ConfigureAwait(false);
        return ExitCodes.Failed;
    });

    private static Command Create(CliIO io, string name, string description, Func<IngestEngine, Guid, CancellationToken, Task<int>> action)
    {
        var batchId = CommonOptions.BatchId();
        var connection = CommonOptions.Connection();
        var command = new Command(name, description) { batchId, connection };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var id = CommonOptions.ParseBatchId(parse.GetValue(batchId)!);
            var conn = await CommonOptions.ConnectAsync(parse.GetValue(connection), io, cancellationToken).ConfigureAwait(false);
            await using (conn.ConfigureAwait(false))
            {
                var engine = IngestEngine.Create(conn.ConnectionString);
                await using (engine.ConfigureAwait(false))
                {
                    await ((PostgresStatusRecorder)engine.Recorder).EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
                    return await action(engine, id, cancellationToken).ConfigureAwait(false);
                }
            }
        });
        return command;
    }
}
