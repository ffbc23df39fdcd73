using Ingest.Status;
using Microsoft.Extensions.Logging;

namespace Ingest.Hosting;

/// <summary>Writes batch log lines to an <see cref="ILogger"/> at the line's level, without its timestamp (the logger adds its own).</summary>
internal sealed partial class BatchLogBridge(ILogger logger)
{
    public const string Category = "Ingest.Batch";

    public IDisposable? BeginScope(Guid batchId, string? datasetId) => logger.BeginScope(new Dictionary<string, object?>
    {
        ["BatchId"] = batchId,
        ["DatasetId"] = datasetId,
    });

    /// <summary>Writes one line as the batch log holds it: <c>2024-01-25T15:27:52.302Z INFO message</c>.</summary>
    public void WriteLine(ReadOnlySpan<char> line)
    {
        // Skip the timestamp, read the level word; a line of another shape is written whole at Information.
        var level = LogLevel.Information;
        var message = line;
        var space = line.IndexOf(' ');
        if (space > 0)
        {
            var rest = line[(space + 1)..];
            var next = rest.IndexOf(' ');
            if (next > 0 && TryLevel(rest[..next], out level))
            {
                message = rest[(next + 1)..];
            }
            else
            {
                level = LogLevel.Information;
            }
        }

        if (logger.IsEnabled(level))
        {
            Line(logger, level, message.ToString());
        }
    }

    /// <summary>
    /// Writes one line of a running batch in its own scope: the shape of <see cref="BatchLog.LineAdded"/> plus the
    /// batch id, for an engine callback raised on the stream threads. The line carries its level word too.
    /// </summary>
    public void Write(Guid batchId, string line)
    {
        using var scope = BeginScope(batchId, null);
        WriteLine(line);
    }

    public void MirrorFailed(Guid batchId, Exception exception) => MirrorStopped(logger, batchId, exception);

    private static bool TryLevel(ReadOnlySpan<char> word, out LogLevel level)
    {
        level = word switch
        {
            "INFO" => LogLevel.Information,
            "WARN" => LogLevel.Warning,
            "ERROR" => LogLevel.Error,
            _ => LogLevel.None,
        };
        return level != LogLevel.None;
    }

    [LoggerMessage(EventId = 1, EventName = "BatchLogLine", Message = "{Line}")]
    private static partial void Line(ILogger logger, LogLevel level, string line);

    [LoggerMessage(EventId = 2, EventName = "BatchLogMirrorStopped", Level = LogLevel.Warning, Message = "Stopped mirroring the log of batch {BatchId} while it runs (the status store did not answer); its lines follow when it ends")]
    private static partial void MirrorStopped(ILogger logger, Guid batchId, Exception exception);
}

/// <summary>Follows a batch log that only grows: each call writes the lines not written yet.</summary>
internal sealed class LogMirror(BatchLogBridge bridge, Guid batchId)
{
    private int _written;

    public Guid BatchId => batchId;

    /// <summary>Writes the whole lines of <paramref name="log"/> past those already written.</summary>
    public void Write(string? log)
    {
        if (log is null || log.Length <= _written)
        {
            return;
        }

        // The recorder holds whole lines joined by '\n', so the text past the last write starts a line.
        var start = _written == 0 ? 0 : _written + 1;
        if (start >= log.Length)
        {
            return;
        }

        foreach (var range in log.AsSpan(start).Split('\n'))
        {
            var line = log.AsSpan(start)[range];
            if (!line.IsEmpty)
            {
                bridge.WriteLine(line);
            }
        }

        _written = log.Length;
    }
}
