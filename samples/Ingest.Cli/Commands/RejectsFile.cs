using System.Globalization;
using System.Text;
using Ingest.Validation;

namespace Ingest.Cli.Commands;

/// <summary>
/// <c>--rejects FILE</c>: every invalid row of the run as a CSV line <c>batch_id,file,line,field,reason</c>, past
/// the caps of the log and the result. Appends (the header only to a new or empty file), so a resumed batch adds
/// the rows of the files it loads then and keeps those of earlier runs. Rows are written as they are found, so a
/// file that rolls back (a file error, an abort) or is retried lists its rows again when it loads.
/// </summary>
internal sealed class RejectsFile : IAsyncDisposable
{
    private const string Header = "batch_id,file,line,field,reason";

    private readonly StreamWriter _writer;
    private readonly string _path;
    private readonly Lock _gate = new();
    private string? _failure;
    private long _lost;
    private int _disposed;

    private RejectsFile(StreamWriter writer, string path) => (_writer, _path) = (writer, path);

    /// <summary>Opens <paramref name="path"/> for appending; null when no path is given.</summary>
    /// <exception cref="UsageException">The file cannot be opened for writing.</exception>
    public static RejectsFile? Open(string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return null;
        }

        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new UsageException($"--rejects: cannot write {path}: {ex.Message}");
        }

        var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));

        // A pipe (--rejects >(gzip > r.gz), /dev/stderr) has no position: it is always new.
        if (!stream.CanSeek || stream.Length == 0)
        {
            writer.Write(Header + "\n");
        }

        return new RejectsFile(writer, path);
    }

    /// <summary>
    /// One invalid row; safe to call from several threads. A failed write (a full disk) must not fail the load
    /// of the CSV file it came from: it is kept and reported by <see cref="DisposeAsync"/>.
    /// </summary>
    public void Add(Guid batchId, RowError error)
    {
        var line = string.Join(',', batchId.ToString(), Quote(error.FileKey), error.Line.ToString(CultureInfo.InvariantCulture), Quote(error.Field), Quote(error.Reason));
        lock (_gate)
        {
            if (_failure is not null)
            {
                _lost++;
                return;
            }

            try
            {
                _writer.Write(line);
                _writer.Write('\n');
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
                _failure = ex.Message;
                _lost++;
            }
        }
    }

    /// <summary>
    /// Why writing stopped, and how many rows at least were not written (the rows buffered when a write failed are
    /// lost too, uncounted); null when every row was written.
    /// </summary>
    public string? Failure => _failure is null
        ? null
        : $"--rejects: writing {_path} failed ({_failure}): it is incomplete{(_lost > 0 ? $", at least {_lost} invalid row(s) are not in it" : string.Empty)}; the batch's counts are whole";

    /// <summary>Flushes and closes; a second call does nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _writer.FlushAsync().ConfigureAwait(false);
            await _writer.DisposeAsync().ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            _failure ??= ex.Message;
        }
    }

    // RFC 4180: quoted when it holds a comma, a quote or a line break; quotes doubled.
    private static string Quote(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
