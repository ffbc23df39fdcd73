namespace Ingest.Benchmarks.Throughput;

/// <summary>How the rows of a measurement are laid out in files, and so which table of the report it is in.</summary>
internal enum WorkloadShape
{
    /// <summary>The main workload: <c>--rows</c> split into <c>--files</c> files.</summary>
    Files,

    /// <summary>The same number of rows in one file (<c>--one-file</c>).</summary>
    OneFile,

    /// <summary>Many files of 1,000 rows (<c>--small-files</c>).</summary>
    SmallFiles,
}

/// <summary>One run of one loader.</summary>
internal sealed record Sample(TimeSpan Wall, TimeSpan Cpu, long PeakBytes, bool PeakIsPerRun);

/// <summary>All runs of one loader configuration on one workload.</summary>
internal sealed class Measurement(LoaderCase loaderCase, Workload workload, WorkloadShape shape = WorkloadShape.Files)
{
    public LoaderCase Case { get; } = loaderCase;

    /// <summary>The files the loader loads; the table must hold its <see cref="Workload.Rows"/> after every run.</summary>
    public Workload Workload { get; } = workload;

    public WorkloadShape Shape { get; } = shape;

    /// <summary>The loader and streams, prefixed by the workload unless it is the main one, e.g. "one file: engine, local files x3".</summary>
    public string Key => Shape switch
    {
        WorkloadShape.OneFile => "one file: " + Case.Key,
        WorkloadShape.SmallFiles => "small files: " + Case.Key,
        _ => Case.Key,
    };

    public List<Sample> Samples { get; } = [];

    public string? Error { get; set; }

    /// <summary>The COPY backends' wait events sampled over all runs (only with --waits).</summary>
    public Dictionary<string, int> Waits { get; } = [];

    /// <summary>The median run by wall time (the lower middle one for an even count).</summary>
    public Sample? Median => Samples.Count == 0 ? null : Samples.OrderBy(s => s.Wall).ElementAt((Samples.Count - 1) / 2);
}
