using System.Diagnostics;
using Ingest.Diagnostics;

namespace Ingest.Engine.Loading;

/// <summary>
/// One file (or chunk) of a piece of work while it loads: its observer (live counts, bytes, invalid rows), its span, its
/// copy time and its place among the files in flight. A lone file and each file of a group are tracked alike.
/// </summary>
internal sealed class TrackedFile
{
    private readonly ILoadSite _site;
    private readonly FileLoad _load;
    private readonly KeyValuePair<string, object?> _tag;
    private readonly Activity? _span;
    private bool _inFlight;

    /// <summary>Starts tracking: the file is in flight and its span started (under the current one).</summary>
    public TrackedFile(ILoadSite site, FileLoad load, string name, string fileKey, RowErrorCount logged)
    {
        _site = site;
        _load = load;
        _tag = IngestTelemetry.Dataset(site.Dataset);
        Observer = new FileObserver(site, name, load, logged);
        _span = IngestTelemetry.StartFile(fileKey, site.Dataset);
        site.InFlight(Observer, started: true);
        _inFlight = true;
    }

    public FileObserver Observer { get; }

    /// <summary>When it started (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    public long Started { get; } = Stopwatch.GetTimestamp();

    /// <summary>The file's copy is over (the next file of its group starts): it leaves the files in flight.</summary>
    public void Copied()
    {
        if (_inFlight)
        {
            _inFlight = false;
            _site.InFlight(Observer, started: false);
        }
    }

    /// <summary>Its rows committed: the live counts and the row counters get them.</summary>
    public void Committed(long inserted, long invalid)
    {
        _load.Shown.Settle([Observer.FileKey], inserted, invalid);
        IngestTelemetry.RowsInserted.Add(inserted, _tag);
        IngestTelemetry.RowsInvalid.Add(invalid, _tag);
    }

    /// <summary>
    /// The end of the attempt: the copy time (up to <paramref name="copiedUntil"/>, or now) and the span's outcome are
    /// recorded. Counts it showed for rows that did not commit stay shown until the unit ends (a next attempt reads
    /// the same rows again), see <see cref="ShownCounts"/>.
    /// </summary>
    public void End(bool loaded, string failure, long? copiedUntil = null)
    {
        Copied();
        IngestTelemetry.FileLoaded(_site.Dataset, Stopwatch.GetElapsedTime(Started, copiedUntil ?? Stopwatch.GetTimestamp()), loaded);
        IngestTelemetry.End(_span, loaded ? "loaded" : failure, failed: !loaded);
    }
}
