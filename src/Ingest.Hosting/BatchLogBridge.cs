using Ingest.Status;
using Microsoft.Extensions.Logging;

namespace Ingest.Hosting;

/// <summary>Writes batch log lines to an <see cref="ILogger"/> at the line's level, without its timestamp (the logger adds its own).</summary>
internal sealed partial class BatchLogBridge(ILogger logger)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, string> _tracked = new();

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
    /// Mirrors the lines of a batch this host runs to the logger, in a scope with its batch id and dataset, until
    /// the returned handle is disposed. Lines arrive through <see cref="IngestOptions.OnLogLine"/> as the engine adds them.
    /// </summary>
    public IDisposable Track(Guid batchId, string datasetId)
    {
        _tracked[batchId] = datasetId;
        return new Untrack(this, batchId);
    }

    /// <summary>The engine's <see cref="IngestOptions.OnLogLine"/>: writes a tracked batch's line (already redacted) in its scope.</summary>
    public void Write(Guid batchId, BatchLogLevel level, string line)
    {
        _ = level; // the line carries its level word, which WriteLine reads
        if (_tracked.TryGetValue(batchId, out var datasetId))
        {
            using var scope = BeginScope(batchId, datasetId);
            WriteLine(line);
        }
    }

    private sealed class Untrack(BatchLogBridge bridge, Guid batchId) : IDisposable
    {
        public void Dispose() => bridge._tracked.TryRemove(batchId, out _);
    }

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
}
