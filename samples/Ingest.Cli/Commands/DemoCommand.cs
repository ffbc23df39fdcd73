using System.CommandLine;
using Ingest.Cli.Demo;
using Ingest.Schema;
using Ingest.Status;

namespace Ingest.Cli.Commands;

/// <summary><c>ingest demo</c>: makes sample data, serves part of it over loopback HTTP, imports it and prints the timeline.</summary>
internal static class DemoCommand
{
    public static Command Create(CliIO io)
    {
        var connection = CommonOptions.Connection();
        var rows = new Option<int>("--rows") { Description = "Rows per file. Default 20000.", DefaultValueFactory = _ => 20_000 };
        var command = new Command("demo", "Make sample point data, import it (two files over loopback HTTP, one gzip) and print the timeline.") { connection, rows };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var rowsPerFile = parse.GetValue(rows);
            var folder = Directory.CreateTempSubdirectory("ingest-demo-");
            try
            {
                var local = Path.Combine(folder.FullName, "plants-000.csv");
                var localGz = Path.Combine(folder.FullName, "plants-001.csv.gz");
                await File.WriteAllBytesAsync(local, DemoData.Csv(0, rowsPerFile), cancellationToken).ConfigureAwait(false);
                await File.WriteAllBytesAsync(localGz, DemoData.Gzip(DemoData.Csv(1, rowsPerFile)), cancellationToken).ConfigureAwait(false);
                var served = new Dictionary<string, byte[]>
                {
                    ["plants-002.csv"] = DemoData.Csv(2, rowsPerFile),
                    ["plants-003.csv.gz"] = DemoData.Gzip(DemoData.Csv(3, rowsPerFile)),
                };

                var server = await DemoFileServer.StartAsync(served, cancellationToken).ConfigureAwait(false);
                await using (server.ConfigureAwait(false))
                {
                    var request = new ImportRequest(
                        DatasetSchema.Parse(DemoData.DatasetDocument, "plants"),
                        CsvFormat.Parse(DemoData.Format),
                        [local, localGz, server.Url("plants-002.csv") + "?X-Amz-Signature=demo-secret-never-logged", server.Url("plants-003.csv.gz")]);
                    await io.Error.WriteLineAsync($"Demo: 4 files of {rowsPerFile:N0} rows (2 local, 2 over HTTP at {server.BaseUri}) into dataset 'plants'.").ConfigureAwait(false);
                    var conn = await CommonOptions.ConnectAsync(parse.GetValue(connection), io, cancellationToken).ConfigureAwait(false);
                    await using (conn.ConfigureAwait(false))
                    {
                        var engine = IngestEngine.Create(conn.ConnectionString);
                        await using (engine.ConfigureAwait(false))
                        {
                            var progress = new ProgressPrinter(io.Error);
                            var result = await engine.ImportAsync(request, progress, cancellationToken).ConfigureAwait(false);
                            await io.Error.WriteLineAsync($"Batch {result.BatchId} {result.Status.ToWord()}: {result.InsertCount:N0} rows inserted, {result.InvalidCount:N0} invalid.").ConfigureAwait(false);
                            foreach (var error in result.RowErrors.Take(3))
                            {
                                await io.Error.WriteLineAsync($"  invalid row: {error}").ConfigureAwait(false);
                            }

                            await io.Error.WriteLineAsync($"Timeline (also: ingest status {result.BatchId}):").ConfigureAwait(false);
                            var timeline = await engine.Recorder.GetTimelineAsync(result.BatchId, cancellationToken).ConfigureAwait(false);
                            await io.Out.WriteLineAsync(StatusJson.Serialize(timeline, indented: true)).ConfigureAwait(false);
                            return result.Status == BatchStatus.Finished ? ExitCodes.Success : ExitCodes.Failed;
                        }
                    }
                }
            }
            finally
            {
                folder.Delete(recursive: true);
            }
        });
        return command;
    }
}
