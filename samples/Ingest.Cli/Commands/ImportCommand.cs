using System.CommandLine;
using Ingest.Status;

namespace Ingest.Cli.Commands;

/// <summary><c>ingest import</c>: runs a batch to its end and prints its outcome.</summary>
internal static class ImportCommand
{
    public static Command Create(CliIO io)
    {
        var dataset = CommonOptions.Dataset();
        var schema = CommonOptions.Schema();
        var format = CommonOptions.Format();
        var streams = new Option<int>("--streams") { Description = "Parallel streams (PostgreSQL connections). Default 3.", DefaultValueFactory = _ => 3 };
        var batchId = new Option<string?>("--batch-id") { Description = "The batch id; an existing batch is resumed, loading only its files not yet loaded. Default: a new id." };
        var connection = CommonOptions.Connection();
        var headerLines = CommonOptions.HeaderLines();
        var maxRecord = CommonOptions.MaxRecordSize();
        var sources = CommonOptions.Sources();
        var json = CommonOptions.Json();
        var yieldCpu = CommonOptions.YieldCpu();
        var leaseWait = new Option<double>("--lease-wait")
        {
            Description = "Seconds to wait for a batch that another process holds (a run killed a moment ago holds it until the server notices) before refusing to run it. Default 15.",
            DefaultValueFactory = _ => 15,
        };
        var s3Endpoint = CommonOptions.S3Endpoint();
        var s3Role = CommonOptions.S3RoleArn();
        var s3ExternalId = CommonOptions.S3ExternalId();
        var rejectsPath = new Option<string?>("--rejects")
        {
            Description = "Append every invalid row (batch_id,file,line,field,reason) to this CSV file as it is found; the log and the result keep only the first ones. A file that rolls back or is retried lists its rows again when it loads.",
        };
        var command = new Command(
            "import",
            "Load CSV files into a dataset and print the batch's outcome.\n"
            + "For s3:// sources the batch record keeps the URLs and patterns as given, never a key, secret or token; the objects each pattern matched are kept with the batch (ingest.import_listing), so a resume loads those.")
        {
            dataset, schema, format, streams, batchId, connection, headerLines, maxRecord, yieldCpu, leaseWait, s3Endpoint, s3Role, s3ExternalId, rejectsPath, json, sources,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            var id = parse.GetValue(batchId) is { } text ? CommonOptions.ParseBatchId(text) : (Guid?)null;
            var request = CommonOptions.Request(parse.GetValue(dataset)!, parse.GetValue(schema)!, parse.GetValue(format)!, parse.GetValue(sources)!, id);
            var progress = new ProgressPrinter(io.Error);
            var options = new IngestOptions
            {
                Streams = parse.GetValue(streams),
                HeaderLines = parse.GetValue(headerLines),
                MaxRecordSize = parse.GetValue(maxRecord),
                YieldCpuToLocalServer = parse.GetValue(yieldCpu),
                LeaseWait = CommonOptions.Seconds(parse.GetValue(leaseWait), "--lease-wait"),

                // Ctrl+C, SIGTERM (a service manager, a supervisor) or SIGHUP (the terminal gone): stop at once and leave the batch to resume;
                // 'ingest abort' is how a user ends a batch for good.
                OnCancellation = CancellationMode.Interrupt,
                Source = CommonOptions.WithS3(new Sources.SourceOptions(), parse.GetValue(s3Endpoint), parse.GetValue(s3Role), parse.GetValue(s3ExternalId)),
                // Warnings as they happen, above the progress block; the error that ends a batch is printed
                // once, with the outcome below.
                OnLogLine = CommonOptions.Warnings(progress.Line),
            };
            options.Validate();
            var rejects = RejectsFile.Open(parse.GetValue(rejectsPath));
            await using var closeRejects = rejects;
            options = options with { OnInvalidRow = rejects is null ? null : rejects.Add };
            try
            {
                return await RunAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (parse.GetValue(json) && ex is Npgsql.NpgsqlException or LocalPostgres.PostgresUnavailableException)
            {
                // The CLI's handler says it on stderr (exit 1); a script reading --json gets the outcome too.
                await io.Out.WriteLineAsync(ResultJson.SerializeNotStarted(request.BatchId, request.Sources.Count, $"cannot use the database: {ex.Message}")).ConfigureAwait(false);
                throw;
            }

            async Task<int> RunAsync()
            {
                var conn = await CommonOptions.ConnectAsync(parse.GetValue(connection), io, cancellationToken).ConfigureAwait(false);
                await using (conn.ConfigureAwait(false))
                {
                    var engine = IngestEngine.Create(conn.ConnectionString, options);
                    await using (engine.ConfigureAwait(false))
                    {
                        var result = await engine.ImportAsync(request, progress, cancellationToken).ConfigureAwait(false);
                        progress.Done();
                        var ended = result.Interrupted ? "interrupted (resume it with the same --batch-id)" : result.Status.ToWord();
                        await io.Error.WriteLineAsync(
                            $"Batch {result.BatchId} {ended}: {result.InsertCount} rows inserted, {result.InvalidCount} invalid, {result.FilesLoaded} of {result.FilesTotal} files loaded.").ConfigureAwait(false);
                        if (result.Error is not null)
                        {
                            await io.Error.WriteLineAsync($"Error: {result.Error}").ConfigureAwait(false);
                        }

                        if (rejects is not null)
                        {
                            await rejects.DisposeAsync().ConfigureAwait(false);
                            if (rejects.Failure is { } failure)
                            {
                                await io.Error.WriteLineAsync($"ingest: warning: {failure}").ConfigureAwait(false);
                            }
                        }

                        await io.Out.WriteLineAsync(parse.GetValue(json) ? ResultJson.Serialize(result) : result.BatchId.ToString()).ConfigureAwait(false);
                        return result.Status == BatchStatus.Finished ? ExitCodes.Success : ExitCodes.Failed;
                    }
                }
            }
        });
        return command;
    }
}
