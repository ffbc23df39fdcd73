using System.Runtime.CompilerServices;
using Ingest.Copy;
using Ingest.Csv;
using Ingest.Sources;
using Ingest.Validation;
using Npgsql;

namespace Ingest.Engine.Loading;

/// <summary>What a file copy reports while it runs.</summary>
internal interface ICopyObserver
{
    /// <summary>Running totals of the file so far (called every few thousand rows and at the end).</summary>
    void Progress(long inserted, long invalid);

    /// <summary>One invalid row (rare path: may allocate).</summary>
    void Invalid(SourceFile file, long line, int column, RowErrorKind kind, ref CsvRow row);

    /// <summary>Bytes read from the source.</summary>
    void BytesRead(int count);

    /// <summary>The file's size in bytes when known before reading it (an uncompressed local file).</summary>
    void Opened(long? totalBytes)
    {
    }
}

/// <summary>
/// Streams one file through parse, validate and encode into a binary COPY on an open connection (the
/// caller owns the transaction): the copy step of <see cref="FileLoad"/>.
/// </summary>
internal sealed class FileCopier(RowEncoder encoder, TableLayout layout, CsvReadOptions csvOptions, SourceOpener opener)
{
    // Progress is reported in chunks so the hot loop touches shared state rarely.
    private const int ReportEvery = 4096;

    public RowEncoder Encoder => encoder;

    /// <summary>Copies the file's valid rows; returns the file's totals. Throws on a file error or cancellation (the COPY is cancelled).</summary>
    public (long Inserted, long Invalid) Copy(NpgsqlConnection connection, SourceFile file, Chunks.Chunk? chunk, ICopyObserver observer, CancellationToken token)
    {
        (long Inserted, long Invalid) counts = default;
        using var source = chunk is null ? opener.OpenAsync(file, token).AsTask().GetAwaiter().GetResult() : opener.OpenRange(file, chunk.Start, chunk.End);
        observer.Opened((source as GuardedDecompressionStream)?.ExpectedLength);

        // A later chunk starts on a record of its own: no header to skip, and its lines counted from where it starts.
        var options = chunk is not { Index: > 0 } ? csvOptions : csvOptions with { HeaderLines = 0, FirstLine = chunk.FirstLine };
        using (var reader = new CsvRecordReader(source, file.Key, options, observer.BytesRead, token))
        {
            InCopy(connection, writer => counts = CopyRows(reader, writer, file, observer, token));
        }

        token.ThrowIfCancellationRequested();
        return counts;
    }

    /// <summary>
    /// Copies the valid rows of several whole files in one COPY, one file after another, and sets each file's totals in
    /// <paramref name="counts"/>; <paramref name="starting"/> is told as each file starts and gives its observer. Throws on
    /// any file's error or on cancellation (the COPY is cancelled, and with it every file's rows).
    /// </summary>
    public void CopyGroup(NpgsqlConnection connection, IReadOnlyList<SourceFile> files, Func<int, ICopyObserver> starting, (long Inserted, long Invalid)[] counts, CancellationToken token)
    {
        InCopy(connection, writer =>
        {
            for (var i = 0; i < files.Count; i++)
            {
                var observer = starting(i);
                using var source = opener.OpenAsync(files[i], token).AsTask().GetAwaiter().GetResult();
                observer.Opened((source as GuardedDecompressionStream)?.ExpectedLength);
                using var reader = new CsvRecordReader(source, files[i].Key, csvOptions, observer.BytesRead, token);
                counts[i] = CopyRows(reader, writer, files[i], observer, token);
            }
        });
        token.ThrowIfCancellationRequested();
    }

    /// <summary>One binary COPY: <paramref name="write"/> fills it; a failure cancels it, so nothing of it can commit.</summary>
    private void InCopy(NpgsqlConnection connection, Action<BinaryCopyWriter> write)
    {
        var copy = connection.BeginRawBinaryCopy(layout.CopyCommand);
        try
        {
            using var writer = new BinaryCopyWriter(copy, encoder.MaxRowBytes);
            write(writer);
            writer.Complete();
        }
        catch
        {
            TryCancel(copy);
            throw;
        }

        copy.Dispose();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private (long Inserted, long Invalid) CopyRows(CsvRecordReader reader, BinaryCopyWriter writer, SourceFile file, ICopyObserver observer, CancellationToken token)
    {
        long inserted = 0, invalid = 0;
        var sinceReport = 0;
        while (reader.Read())
        {
            var row = reader.Row;
            var written = encoder.Encode(ref row, writer.GetRowSpan(), out var failedColumn, out var kind);
            if (written >= 0)
            {
                writer.Advance(written);
                inserted++;
            }
            else
            {
                invalid++;
                observer.Invalid(file, reader.Line, failedColumn, kind, ref row);
            }

            if (++sinceReport == ReportEvery)
            {
                sinceReport = 0;
                observer.Progress(inserted, invalid);
                token.ThrowIfCancellationRequested();
            }
        }

        return (inserted, invalid);
    }

    /// <summary>The <see cref="RowError"/> of an invalid row, with the value that failed.</summary>
    public RowError Describe(SourceFile file, long line, int column, RowErrorKind kind, ref CsvRow row)
    {
        var field = encoder.FieldAt(column);
        var source = encoder.SourceAt(column);
        var value = source >= 0 && source < row.FieldCount ? row.GetField(source) : [];
        return new RowError(file.Key, line, field.Name, kind, RowError.Describe(kind, field, source, row.FieldCount, value));
    }

    private static void TryCancel(NpgsqlRawCopyStream copy)
    {
        try
        {
            copy.Cancel();
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The connection is gone or already failed: the transaction cannot commit either way.
        }
    }
}
