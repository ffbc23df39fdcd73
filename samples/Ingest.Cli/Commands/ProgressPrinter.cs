namespace Ingest.Cli.Commands;

/// <summary>
/// Shows a batch's progress on standard error, overall and per file in flight: a block redrawn in place
/// on a terminal (4 times a second), plain lines every few seconds when standard error is redirected.
/// Warnings of the batch's log (retries, an UNLOGGED table) are printed above the block as they happen.
/// </summary>
internal sealed class ProgressPrinter(TextWriter error, bool? live = null) : IProgress<BatchProgress>
{
    private readonly bool _live = live ?? (ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected);
    private readonly Lock _gate = new();
    private TimeSpan? _last;
    private int _drawn;
    private int _stale;

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
            var lines = Lines(value);
            if (_live)
            {
                // Back to the top of the previous block, then each line cleared and rewritten.
                if (_drawn > 0)
                {
                    error.Write($"\u001b[{_drawn}F");
                }

                foreach (var line in lines)
                {
                    error.Write("\u001b[2K" + line + "\n");
                }

                var clear = Math.Max(_drawn, _stale);
                for (var i = lines.Count; i < clear; i++)
                {
                    error.Write("\u001b[2K\n");
                }

                _drawn = Math.Max(clear, lines.Count);
                _stale = 0;
            }
            else
            {
                foreach (var line in lines)
                {
                    error.WriteLine(line);
                }
            }
        }
    }

    /// <summary>A line of the batch's log worth the user's eye now (a warning): printed above the progress block.</summary>
    public void Line(string line)
    {
        lock (_gate)
        {
            if (_live)
            {
                if (_drawn > 0)
                {
                    // Back to the block's first row: the block's rows become stale rows to write over.
                    error.Write($"\u001b[{_drawn}F");
                    _stale = _drawn;
                    _drawn = 0;
                }

                // Written over a stale row (cleared first); the next report redraws the block below.
                error.Write("\u001b[2K" + line + "\n");
                _stale = Math.Max(0, _stale - 1);
                return;
            }

            error.WriteLine(line);
        }
    }

    public void Done()
    {
        lock (_gate)
        {
            error.Flush();
        }
    }

    internal static List<string> Lines(BatchProgress value)
    {
        var lines = new List<string> { Overall(value) };
        foreach (var file in value.InFlight)
        {
            var seconds = Math.Max(0.001, file.Elapsed.TotalSeconds);
            var eta = file.Remaining is { } left ? $", ETA {left:hh\\:mm\\:ss}" : string.Empty;
            lines.Add($"  {file.FileKey}: {file.InsertCount:N0} rows, {file.InvalidCount:N0} invalid, {file.BytesRead / 1048576.0:0.0} MiB, {file.InsertCount / seconds:N0} rows/s{eta}");
        }

        return lines;
    }

    internal static string Overall(BatchProgress value)
    {
        var seconds = Math.Max(0.001, value.Elapsed.TotalSeconds);
        var eta = value.FilesDone > 0 && value.FilesDone < value.FilesTotal
            ? $", ETA {TimeSpan.FromSeconds(seconds / value.FilesDone * (value.FilesTotal - value.FilesDone)):hh\\:mm\\:ss}"
            : string.Empty;
        return $"[{value.Elapsed:hh\\:mm\\:ss}] files {value.FilesDone}/{value.FilesTotal}, {value.InsertCount:N0} rows inserted, {value.InvalidCount:N0} invalid, " +
            $"{value.BytesRead / 1048576.0:0.0} MiB read, {value.InsertCount / seconds:N0} rows/s{eta}";
    }
}
