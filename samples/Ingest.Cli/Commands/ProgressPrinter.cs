namespace Ingest.Cli.Commands;

/// <summary>
/// Shows a batch's progress on standard error: one line rewritten in place on a terminal (4 times a
/// second), plain lines every few seconds when standard error is redirected (logs, CI).
/// </summary>
internal sealed class ProgressPrinter(TextWriter error) : IProgress<BatchProgress>
{
    private readonly bool _live = ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected;
    private readonly Lock _gate = new();
    private TimeSpan? _last;
    private int _width;

    public void Report(BatchProgress value)
    {
        lock (_gate)
        {
            var every = _live ? TimeSpan.FromMilliseconds(250) : TimeSpan.FromSeconds(2);
            if (_last is { } last && value.Elapsed - last < every && value.Status == Status.BatchStatus.Started)
            {
                return;
            }

            _last = value.Elapsed;
            var line = Format(value);
            if (_live)
            {
                error.Write('\r' + line.PadRight(_width));
                _width = line.Length;
            }
            else
            {
                error.WriteLine(line);
            }
        }
    }

    public void Done()
    {
        lock (_gate)
        {
            if (_live && _width > 0)
            {
                error.WriteLine();
            }

            error.Flush();
        }
    }

    internal static string Format(BatchProgress value)
    {
        var seconds = Math.Max(0.001, value.Elapsed.TotalSeconds);
        var eta = value.FilesDone > 0 && value.FilesDone < value.FilesTotal
            ? $", ETA {TimeSpan.FromSeconds(seconds / value.FilesDone * (value.FilesTotal - value.FilesDone)):hh\\:mm\\:ss}"
            : string.Empty;
        return $"[{value.Elapsed:hh\\:mm\\:ss}] files {value.FilesDone}/{value.FilesTotal}, {value.InsertCount:N0} rows inserted, {value.InvalidCount:N0} invalid, " +
            $"{value.BytesRead / 1048576.0:0.0} MiB read, {value.InsertCount / seconds:N0} rows/s{eta}";
    }
}
