using System.CommandLine;

namespace Ingest.Cli.Commands;

/// <summary><c>ingest submit</c> and <c>ingest worker</c>: batches shared by workers through PostgreSQL (SPEC §5, issue [6]).</summary>
internal static class QueueCommands
{
    public static Command Submit(CliIO io)
    {
        var dataset = CommonOptions.Dataset();
        var schema = CommonOptions.Schema();
        var format = CommonOptions.Format();
        var streams = new Option<int>("--streams") { Description = "Accepted for symmetry with import; workers choose their own streams.", DefaultValueFactory = _ => 3 };
        var batchId = new Option<string?>("--batch-id") { Description = "The batch id. Default: a new id." };
        var connection = CommonOptions.Connection();
        var headerLines = CommonOptions.HeaderLines();
        var maxRecord = CommonOptions.MaxRecordSize();
        var sources = CommonOptions.Sources();
        var s3Endpoint = CommonOptions.S3Endpoint();
        var s3Role = CommonOptions.S3RoleArn();
        var s3ExternalId = CommonOptions.S3ExternalId();
        var command = new Command("submit", "Queue a batch for 'ingest worker' processes (on any hosts) and print its id. s3:// patterns are listed here, once.")
        {
            dataset, schema, format, streams, batchId, connection, headerLines, maxRecord, s3Endpoint, s3Role, s3ExternalId, sources,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            var id = parse.GetValue(batchId) is { } text ? CommonOptions.ParseBatchId(text) : (Guid?)null;
            var request = CommonOptions.Request(parse.GetValue(dataset)!, parse.GetValue(schema)!, parse.GetValue(format)!, parse.GetValue(sources)!, id);
            var options = new IngestOptions
            {
                HeaderLines = parse.GetValue(headerLines),
                MaxRecordSize = parse.GetValue(maxRecord),
                OnLogLine = CommonOptions.Warnings(io.Error.WriteLine),
                Source = CommonOptions.WithS3(new Sources.SourceOptions(), parse.GetValue(s3Endpoint), parse.GetValue(s3Role), parse.GetValue(s3ExternalId)),
            };
            options.Validate();
            var conn = await CommonOptions.ConnectAsync(parse.GetValue(connection), io, cancellationToken).ConfigureAwait(false);
            await using (conn.ConfigureAwait(false))
            {
                var engine = IngestEngine.Create(conn.ConnectionString, options);
                await using (engine.ConfigureAwait(false))
                {
                    var queued = new Queued();
                    var submitted = await engine.SubmitAsync(request, queued, cancellationToken).ConfigureAwait(false);
                    await io.Error.WriteLineAsync($"Batch {submitted} submitted with {queued.Files} file(s); start workers with: ingest worker").ConfigureAwait(false);
                    await io.Out.WriteLineAsync(submitted.ToString()).ConfigureAwait(false);
                    return ExitCodes.Success;
                }
            }
        });
        return command;
    }

    /// <summary>The files a submit queued (its patterns listed into objects), reported as it returns: synchronously, unlike <see cref="Progress{T}"/>.</summary>
    private sealed class Queued : IProgress<BatchProgress>
    {
        public int Files { get; private set; }

        public void Report(BatchProgress value) => Files = value.FilesTotal;
    }

    public static Command Worker(CliIO io)
    {
        var connection = CommonOptions.Connection();
        var streams = new Option<int>("--streams") { Description = "Files this worker loads at once. Default 3.", DefaultValueFactory = _ => 3 };
        var lease = new Option<int>("--lease-seconds") { Description = "Claim lease; a dead worker's files go to others after it. Default 30.", DefaultValueFactory = _ => 30 };
        var exitWhenIdle = new Option<bool>("--exit-when-idle") { Description = "Exit once no submitted work is left (default: wait for more until Ctrl+C)." };
        var yieldCpu = CommonOptions.YieldCpu();
        var s3Endpoint = CommonOptions.S3Endpoint();
        var workerExternalId = CommonOptions.S3ExternalId();
        var command = new Command("worker", "Load files of submitted batches until stopped; run as many as you like, on any hosts. s3:// files are read with this worker's own AWS credentials, or as the role a batch was submitted with (assumed with them, in a session named after the batch).")
        {
            connection, streams, lease, exitWhenIdle, yieldCpu, s3Endpoint, workerExternalId,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new WorkerOptions
            {
                Streams = parse.GetValue(streams),
                Lease = TimeSpan.FromSeconds(parse.GetValue(lease)),
                ExitWhenIdle = parse.GetValue(exitWhenIdle),
            };
            options.Validate();
            var source = CommonOptions.WithS3(new Sources.SourceOptions(), parse.GetValue(s3Endpoint), roleArn: null, parse.GetValue(workerExternalId), rolesFromBatches: true);
            var conn = await CommonOptions.ConnectAsync(parse.GetValue(connection), io, cancellationToken).ConfigureAwait(false);
            await using (conn.ConfigureAwait(false))
            {
                var engine = IngestEngine.Create(conn.ConnectionString, new IngestOptions
                {
                    YieldCpuToLocalServer = parse.GetValue(yieldCpu),
                    Source = source,
                });
                await using (engine.ConfigureAwait(false))
                {
                    await io.Error.WriteLineAsync($"Worker {options.Name} with {options.Streams} streams, lease {options.Lease.TotalSeconds:0} s; Ctrl+C to stop.").ConfigureAwait(false);
                    try
                    {
                        await engine.RunWorkerAsync(options, cancellationToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        // Stopped: files in flight rolled back and went back to the queue.
                    }

                    await io.Error.WriteLineAsync($"Worker {options.Name} stopped.").ConfigureAwait(false);
                    return ExitCodes.Success;
                }
            }
        });
        return command;
    }
}
