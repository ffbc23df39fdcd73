using System.CommandLine;

namespace Ingest.Cli.Commands;

/// <summary><c>ingest dry-run</c>: checks the first rows of each file; prints the SPEC §4 result as JSON.</summary>
internal static class DryRunCommand
{
    public static Command Create(CliIO io)
    {
        var dataset = CommonOptions.Dataset();
        var schema = CommonOptions.Schema();
        var format = CommonOptions.Format();
        var rows = new Option<int>("--rows") { Description = "Rows of each file to check. Default 100.", DefaultValueFactory = _ => 100 };
        var connection = CommonOptions.Connection();
        var headerLines = CommonOptions.HeaderLines();
        var maxRecord = CommonOptions.MaxRecordSize();
        var sources = CommonOptions.Sources();
        var s3Endpoint = CommonOptions.S3Endpoint();
        var s3Role = CommonOptions.S3RoleArn();
        var s3ExternalId = CommonOptions.S3ExternalId();
        var command = new Command("dry-run", "Check the first rows of each file against the dataset; write nothing. Prints JSON.")
        {
            dataset, schema, format, rows, connection, headerLines, maxRecord, s3Endpoint, s3Role, s3ExternalId, sources,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            var request = CommonOptions.Request(parse.GetValue(dataset)!, parse.GetValue(schema)!, parse.GetValue(format)!, parse.GetValue(sources)!);
            var options = new IngestOptions
            {
                DryRunRows = parse.GetValue(rows),
                HeaderLines = parse.GetValue(headerLines),
                MaxRecordSize = parse.GetValue(maxRecord),
                Source = CommonOptions.WithS3(new Sources.SourceOptions(), parse.GetValue(s3Endpoint), parse.GetValue(s3Role), parse.GetValue(s3ExternalId)),
            };
            options.Validate();

            // With a database given, the dataset's table is checked there too, if it exists (the catalog is only
            // read). The embedded default is not started for a dry run: it would write a cluster to check nothing.
            DryRunResult result;
            if (CommonOptions.GivenConnection(parse.GetValue(connection)) is { } given)
            {
                await using var engine = IngestEngine.Create(given, options);
                result = await engine.DryRunAsync(request, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await io.Error.WriteLineAsync("ingest: no --connection or INGEST_CONNECTION given: the files are checked, the dataset's table is not").ConfigureAwait(false);
                result = await IngestEngine.DryRunAsync(request, options, cancellationToken).ConfigureAwait(false);
            }

            await io.Out.WriteLineAsync(ResultJson.Serialize(result)).ConfigureAwait(false);
            return result.Succeeded ? ExitCodes.Success : ExitCodes.Failed;
        });
        return command;
    }
}
