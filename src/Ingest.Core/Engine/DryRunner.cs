using System.Text;
using Ingest.Copy;
using Ingest.Csv;
using Ingest.Sources;
using Ingest.Status;
using Ingest.Validation;
using Npgsql;

namespace Ingest.Engine;

/// <summary>
/// Checks the first rows of every file against the dataset without writing anything (SPEC §4). The
/// same reader and encoder as a real load run, so a dry run finds exactly what a load would skip.
/// </summary>
internal static class DryRunner
{
    /// <summary>The dry run, with the dataset's table (when it exists) checked in <paramref name="dataSource"/>'s database.</summary>
    public static async Task<DryRunResult> RunAsync(IngestEngine engine, NpgsqlDataSource dataSource, ImportRequest request, CancellationToken cancellationToken) =>
        await RunAsync(request, engine.Options, dataSource, cancellationToken).ConfigureAwait(false);

    /// <summary>The dry run; with <paramref name="dataSource"/>, the dataset's table is checked too, reading the catalog only.</summary>
    public static async Task<DryRunResult> RunAsync(ImportRequest request, IngestOptions options, NpgsqlDataSource? dataSource, CancellationToken cancellationToken)
    {
        var log = new BatchLog();
        log.Info(request.S3 is null
            ? $"Starting dry run of {request.Sources.Count} source(s), first {options.DryRunRows} rows of each file"
            : $"Starting dry run of {request.Sources.Count} source(s) and the objects of the s3 source, first {options.DryRunRows} rows of each file");
        var problems = request.Format.Check(request.Dataset);
        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                log.Error(problem);
            }

            return new DryRunResult { Status = "error", Report = "Schema errors:\n" + string.Join("\n", problems), Log = log.Text ?? string.Empty };
        }

        if (dataSource is not null && await TableMismatchAsync(request, dataSource, log, cancellationToken).ConfigureAwait(false) is { } mismatch)
        {
            log.Error(mismatch);
            return new DryRunResult { Status = "error", Report = "Schema errors:\n" + mismatch, Log = log.Text ?? string.Empty };
        }

        BatchFiles.CheckCount(request.Sources.Count, options.MaxFilesPerBatch);

        var encoder = new RowEncoder(request.Dataset, request.Format);
        var csvOptions = new CsvReadOptions(options.HeaderLines, options.MaxRecordSize);
        var blocks = new List<string>();
        var failed = false;
        var sessionName = request.BatchId is { } batchId ? Sources.S3.S3Settings.SessionNameFor(batchId) : Sources.S3.S3Settings.DryRunSessionName();
        using var opener = new SourceOpener(BatchFiles.SourceOptionsFor(options.Source, BatchFiles.RoleOf(options.Source, request), sessionName));
        opener.Retrying += log.Warn;

        // A pattern (or the s3 source) that cannot be listed is a block of its own; the other files are still checked.
        var locations = await BatchFiles.LocationsAsync(request, async listing =>
        {
            try
            {
                var objects = await listing.List(opener, cancellationToken).ConfigureAwait(false);
                log.Info($"Listed {objects.Count} object(s) matching {listing.Key}");
                return objects;
            }
            catch (Sources.S3.SourceListingException ex)
            {
                failed = true;
                log.Error(ex.Message);
                blocks.Add($"Valid rows: 0\nInvalid rows dropped: 0\n\nErrors:\nFile error: {Redactor.RedactText(ex.Reason)}\nSource: {ex.Pattern}");
                return [];
            }
        }).ConfigureAwait(false);
        BatchFiles.CheckCount(locations.Count, options.MaxFilesPerBatch);
        if (locations.Count != request.Sources.Count || request.S3 is not null)
        {
            log.Info($"Checking {locations.Count} file(s)"); // Patterns listed: the files are not the sources given.
        }

        foreach (var location in locations)
        {
            SourceFile file;
            try
            {
                file = SourceFile.Parse(location);
            }
            catch (ArgumentException ex)
            {
                // The reason only: ArgumentException appends " (Parameter 'locationOrPath')", a name of the code, not of the input.
                var reason = ex.ParamName is { } name ? ex.Message.Replace($" (Parameter '{name}')", string.Empty, StringComparison.Ordinal) : ex.Message;
                failed = true;
                log.Error(reason);
                blocks.Add($"Valid rows: 0\nInvalid rows dropped: 0\n\nErrors:\nFile error: {Redactor.RedactText(reason)}\nSource: {Redactor.RedactUrl(location)}");
                continue;
            }

            log.Info(file.IsHttp || file.IsS3 ? $"Fetching url {file.Key}" : $"Reading file {file.Key}");
            var block = await CheckFileAsync(file, opener, encoder, csvOptions, options.DryRunRows, cancellationToken).ConfigureAwait(false);
            if (block.Error is not null)
            {
                failed = true;
                log.Error(block.Error);
            }
            else
            {
                log.Info($"Checked {file.Key}: {block.Valid} valid, {block.Invalid} invalid rows");
            }

            blocks.Add(block.ToString());
        }

        log.Info($"Finished dry run: {(failed ? "error" : "success")}");
        return new DryRunResult { Status = failed ? "error" : "success", Report = string.Join("\n\n", blocks), Log = log.Text ?? string.Empty };
    }

    // A table that exists with other columns would refuse the load: a schema error of the dry run. A database
    // out of reach does not stop the check of the files; the log says the table went unchecked.
    private static async Task<string?> TableMismatchAsync(ImportRequest request, NpgsqlDataSource dataSource, BatchLog log, CancellationToken cancellationToken)
    {
        var layout = new TableLayout(request.Dataset);
        try
        {
            return await layout.MismatchAsync(dataSource, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            log.Warn($"Could not check table {layout.QualifiedName} in the database ({Redactor.RedactText(ex.Message)}): only the files were checked");
            return null;
        }
    }

    private static async Task<FileReport> CheckFileAsync(SourceFile file, SourceOpener opener, RowEncoder encoder, CsvReadOptions csvOptions, int rows, CancellationToken cancellationToken)
    {
        var report = new FileReport(file.Key, encoder);
        var scratch = new byte[encoder.MaxRowBytes];
        try
        {
            var source = await opener.OpenAsync(file, cancellationToken).ConfigureAwait(false);
            await using (source.ConfigureAwait(false))
            {
                // Parsing is synchronous (it blocks on the pipe): keep it off the caller's thread.
                await Task.Run(
                    () =>
                    {
                        using var reader = new CsvRecordReader(source, file.Key, csvOptions, null, cancellationToken);
                        while (report.Valid + report.Invalid < rows && reader.Read())
                        {
                            var row = reader.Row;
                            if (encoder.Encode(ref row, scratch, out var column, out var kind) >= 0)
                            {
                                report.Valid++;
                                continue;
                            }

                            // SPEC §4 lists, per field, the rows invalid for it: every bad field of the row, not only the first.
                            report.Invalid++;
                            report.Add(reader.Line, column, Describe(encoder, ref row, column, kind));
                            for (var next = column + 1; next < encoder.ColumnCount; next++)
                            {
                                if (encoder.Check(ref row, next, scratch) is { } nextKind)
                                {
                                    report.Add(reader.Line, next, Describe(encoder, ref row, next, nextKind));
                                }
                            }
                        }
                    },
                    cancellationToken).ConfigureAwait(false);
            }
        }
        catch (FileErrorException ex)
        {
            report.Error = Redactor.RedactText(ex.Message);
        }

        return report;
    }

    private static string Describe(RowEncoder encoder, ref CsvRow row, int column, RowErrorKind kind)
    {
        var source = encoder.SourceAt(column);
        var value = source >= 0 && source < row.FieldCount ? row.GetField(source) : [];
        return RowError.Describe(kind, encoder.FieldAt(column), source, row.FieldCount, value);
    }

    private sealed class FileReport(string fileKey, RowEncoder encoder)
    {
        private readonly SortedDictionary<int, List<(long Line, string Reason)>> _byColumn = [];

        public int Valid { get; set; }

        public int Invalid { get; set; }

        public string? Error { get; set; }

        /// <summary>One field of an invalid row (count the row itself in <see cref="Invalid"/>).</summary>
        public void Add(long line, int column, string reason)
        {
            if (!_byColumn.TryGetValue(column, out var list))
            {
                _byColumn[column] = list = [];
            }

            list.Add((line, reason));
        }

        public override string ToString()
        {
            var text = new StringBuilder();
            // SPEC §4's block, then the file it is about (last, so each block starts as SPEC shows it).
            text.Append("Valid rows: ").Append(Valid).Append('\n');
            text.Append("Invalid rows dropped: ").Append(Invalid).Append("\n\n");
            text.Append("Errors:");
            if (Error is not null)
            {
                text.Append("\nFile error: ").Append(Error);
            }

            if (_byColumn.Count == 0 && Error is null)
            {
                text.Append("\nnone");
            }

            foreach (var (column, list) in _byColumn)
            {
                text.Append('\n').Append(encoder.FieldAt(column).Name).Append(": lines ").Append(string.Join(", ", list.Select(e => e.Line)));
                foreach (var (line, reason) in list)
                {
                    text.Append("\n  line ").Append(line).Append(": ").Append(reason);
                }
            }

            text.Append("\nSource: ").Append(fileKey);
            return text.ToString();
        }
    }
}
