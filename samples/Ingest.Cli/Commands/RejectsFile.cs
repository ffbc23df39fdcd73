using System.Globalization;
using System.Text;
using Ingest.Validation;

namespace Ingest.Cli.Commands;

/// <summary>
/// <c>--rejects FILE</c>: every invalid row of the run as a CSV line <c>batch_id,file,line,field,reason</c>, past
/// the caps of the log and the result. Appends (the header only to a new or empty file), so a resumed batch adds
/// the rows of the files it loads then and keeps those of earlier runs.
/// </summary>
internal sealed class RejectsFile : IAsyncDisposable
{
    private const string Header = "batch_id,file,line,field,reason";

    private readonly StreamWriter _writer;
    private readonly Lock _gate = new();

    private RejectsFile(StreamWriter writer) => _writer = writer;

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
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--rejects: cannot write {path}: {ex.Message}");
        }

        var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        if (stream.Position == 0)
        {
            writer.Write(Header + "\n");
        }

        return new RejectsFile(writer);
    }

    /// <summary>One invalid row; safe to call from several threads.</summary>
    public void Add(Guid batchId, RowError error)
    {
        var line = string.Join(',', batchId.ToString(), Quote(error.FileKey), error.Line.ToString(CultureInfo.InvariantCulture), Quote(error.Field), Quote(error.Reason));
        lock (_gate)
        {
            _writer.Write(line);
            _writer.Write('\n');
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _writer.FlushAsync().ConfigureAwait(false);
        await _writer.DisposeAsync().ConfigureAwait(false);
    }

    // RFC 4180: quoted when it holds a comma, a quote or a line break; quotes doubled.
    private static string Quote(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
