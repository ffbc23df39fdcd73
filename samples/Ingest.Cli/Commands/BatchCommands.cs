using System.CommandLine;
using Ingest.Status;

namespace Ingest.Cli.Commands;

/// <summary><c>ingest status</c>, <c>ingest batch</c> and <c>ingest abort</c>: read or steer a batch through the PostgreSQL recorder.</summary>
internal static class BatchCommands
{
    public static Command Status(CliIO io) => Create(io, "status", "Print the batch's timeline as JSON, newest first.", async (recorder, id, cancellationToken) =>
    {
        var timeline = await recorder.GetTimelineAsync(id, cancellationToken).ConfigureAwait(false);
        await io.Out.WriteLineAsync(StatusJson.Serialize(timeline, indented: true)).ConfigureAwait(false);
        return ExitCodes.Success;
    });

    public static Command Batch(CliIO io) => Create(io, "batch", "Print the batch record as JSON.", async (recorder, id, cancellationToken) =>
    {
        var batch = await recorder.GetBatchAsync(id, cancellationToken).ConfigureAwait(false);
        await io.Out.WriteLineAsync(StatusJson.Serialize(batch, indented: true)).ConfigureAwait(false);
        return ExitCodes.Success;
    });

    public static Command Abort(CliIO io) => Create(io, "abort", "Abort a running batch (also one run by another process).", async (recorder, id, cancellationToken) =>
    {
        var outcome = await recorder.RequestAbortAsync(id, cancellationToken).ConfigureAwait(false);
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
                await io.Error.WriteLineAsync($"Batch {id} had not started; it is aborted.").ConfigureAwait(false);
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
            $"Batch {id} has not acknowledged the abort within 30 s. Its process may have died; the request stays recorded, so it stops as soon as it is resumed or looks again.").ConfigureAwait(false);
        return ExitCodes.Failed;
    });

    private static Command Create(CliIO io, string name, string description, Func<IStatusRecorder, Guid, CancellationToken, Task<int>> action)
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
                var recorder = PostgresStatusRecorder.Create(conn.ConnectionString);
                await using (recorder.ConfigureAwait(false))
                {
                    await recorder.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
                    return await action(recorder, id, cancellationToken).ConfigureAwait(false);
                }
            }
        });
        return command;
    }
}
