using System.Diagnostics;
using Ingest.Csv;
using Ingest.Diagnostics;
using Ingest.Sources;
using Ingest.Validation;

namespace Ingest.Engine.Loading;

/// <summary>
/// One attempt of one file as it loads: shows its counts in the batch's live totals (through its unit's
/// <see cref="ShownCounts"/>, which settles them when the file ends), counts its bytes, and reports its invalid rows,
/// the first few of each file to the batch log.
/// </summary>
internal sealed class FileObserver(ILoadSite site, string name, FileLoad load, RowErrorCount logged) : ICopyObserver
{
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly KeyValuePair<string, object?> _tag = IngestTelemetry.Dataset(site.Dataset);
    private long _inserted;
    private long _invalid;
    private long _bytes;
    private long? _total;

    /// <summary>The piece: its file's key, and its chunk when it has one.</summary>
    public string FileKey => name;

    public FileProgress Snapshot() =>
        new(name, Volatile.Read(ref _inserted), Volatile.Read(ref _invalid), Interlocked.Read(ref _bytes), Stopwatch.GetElapsedTime(_started)) { TotalBytes = _total };

    public void Opened(long? totalBytes) => _total = totalBytes;

    public void Progress(long inserted, long invalid)
    {
        Volatile.Write(ref _inserted, inserted);
        Volatile.Write(ref _invalid, invalid);
        load.Shown.Grow(name, inserted, invalid);
    }

    public void Invalid(SourceFile source, long line, int column, RowErrorKind kind, ref CsvRow row) => load.OnInvalidRow(logged, source, line, column, kind, ref row);

    public void BytesRead(int count)
    {
        Interlocked.Add(ref _bytes, count);
        site.BytesRead(count);
        IngestTelemetry.BytesFetched.Add(count, _tag);
    }
}
