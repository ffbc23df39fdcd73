namespace Ingest.Cli.Commands;

/// <summary>Prints a batch's progress to standard error: one line every few seconds.</summary>
internal sealed class ProgressPrinter(TextWriter error) : IProgress<BatchProgress>
{
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(2);
    private TimeSpan? _last;

    public void Report(BatchProgress value)
    {
        if (_last is { } last && value.Elapsed - last < Every)
        {
            return;
        }

        _last = value.Elapsed;
        var seconds = Math.Max(0.001, value.Elapsed.TotalSeconds);
        error.WriteLine(
            $"[{value.Elapsed:hh\\:mm\\:ss}] files {value.FilesDone}/{value.FilesTotal}, rows {value.InsertCount:N0} inserted, {value.InvalidCount:N0} invalid, " +
            $"{value.BytesRead / 1048576.0:0.0} MiB read, {value.InsertCount / seconds:N0} rows/s");
    }

    public void Done() => error.Flush();
}
