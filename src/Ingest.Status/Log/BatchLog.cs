using System.Globalization;
using System.Text;

namespace Ingest.Status;

/// <summary>
/// The growing log of a batch: one line per event, <c>&lt;ISO-8601 UTC with milliseconds&gt;Z &lt;LEVEL&gt; &lt;message&gt;</c>,
/// joined by <c>\n</c>. Thread-safe. Every message is redacted on the way in (<see cref="Redactor.RedactText"/>),
/// so no URL query string, URL user info or connection-string password can ever reach the text.
/// </summary>
public sealed class BatchLog
{
    private readonly Lock _gate = new();
    private readonly StringBuilder _text = new();
    private readonly TimeProvider _time;
    private int _lines;

    /// <summary>Creates an empty log, or one that continues <paramref name="existing"/> (a resumed batch).</summary>
    public BatchLog(string? existing = null, TimeProvider? timeProvider = null)
    {
        _time = timeProvider ?? TimeProvider.System;
        if (!string.IsNullOrEmpty(existing))
        {
            _text.Append(Redactor.RedactText(existing));
            _lines = existing.Count(c => c == '\n') + 1;
        }
    }

    /// <summary>Raised after a line is added, with the redacted line (for mirroring to a logger or console).</summary>
    public event Action<BatchLogLevel, string>? LineAdded;

    /// <summary>Number of lines in the log.</summary>
    public int LineCount
    {
        get
        {
            lock (_gate)
            {
                return _lines;
            }
        }
    }

    /// <summary>Appends an <c>INFO</c> line.</summary>
    public void Info(string message) => Add(BatchLogLevel.Info, message);

    /// <summary>Appends a <c>WARN</c> line.</summary>
    public void Warn(string message) => Add(BatchLogLevel.Warn, message);

    /// <summary>Appends an <c>ERROR</c> line.</summary>
    public void Error(string message) => Add(BatchLogLevel.Error, message);

    /// <summary>Appends a line at <paramref name="level"/>; the message is redacted and kept on one line.</summary>
    public void Add(BatchLogLevel level, string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        string line;
        lock (_gate)
        {
            // Stamped under the lock, so lines from several streams stay in time order.
            line = FormatLine(level, message, _time.GetUtcNow());
            if (_text.Length > 0)
            {
                _text.Append('\n');
            }

            _text.Append(line);
            _lines++;
        }

        LineAdded?.Invoke(level, line);
    }

    /// <summary>Formats one redacted log line, <c>&lt;time&gt; &lt;LEVEL&gt; &lt;message&gt;</c>, for a log kept elsewhere (several processes appending to one batch).</summary>
    public static string FormatLine(BatchLogLevel level, string message, DateTimeOffset time)
    {
        ArgumentNullException.ThrowIfNull(message);
        var clean = Redactor.RedactText(message).ReplaceLineEndings(" ");
        return string.Create(CultureInfo.InvariantCulture, $"{time.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff}Z {Word(level)} {clean}");
    }

    /// <summary>Formats several lines of one level and time, joined by line ends, as <see cref="FormatLine"/> does each.</summary>
    public static string FormatLines(BatchLogLevel level, DateTimeOffset time, params IEnumerable<string> messages) =>
        string.Join('\n', messages.Select(message => FormatLine(level, message, time)));

    /// <summary>The whole log, or <see langword="null"/> while it has no line.</summary>
    public string? Text
    {
        get
        {
            lock (_gate)
            {
                return _text.Length == 0 ? null : _text.ToString();
            }
        }
    }

    /// <inheritdoc />
    public override string ToString() => Text ?? string.Empty;

    private static string Word(BatchLogLevel level) => level switch
    {
        BatchLogLevel.Warn => "WARN",
        BatchLogLevel.Error => "ERROR",
        _ => "INFO",
    };
}
