namespace Ingest;

/// <summary>
/// How a queue worker (<see cref="IngestEngine.RunWorkerAsync"/>) takes files of submitted batches. How it loads
/// each file (retries, <see cref="IngestOptions.FileAttempts"/>, <see cref="IngestOptions.DatabaseOutageTolerance"/>)
/// is the engine's, the same as for <see cref="IngestEngine.ImportAsync"/>.
/// </summary>
public sealed record WorkerOptions
{
    /// <summary>Files this worker loads at once, each on its own connection. Default 3.</summary>
    public int Streams { get; init; } = 3;

    /// <summary>How long a claim lasts without renewal; a worker renews it every third of this while it loads. Default 30 s.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an idle worker waits before it looks for work again. Default 1 s.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Return once there is no work left (for scripts and benchmarks). Default false: wait for more.</summary>
    public bool ExitWhenIdle { get; init; }

    /// <summary>The name in log lines. Default <c>host:pid</c>.</summary>
    public string Name { get; init; } = $"{Environment.MachineName}:{Environment.ProcessId}";

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        if (Streams is < 1 or > 64)
        {
            throw new ArgumentException("WorkerOptions.Streams must be 1 to 64.", nameof(Streams));
        }

        if (Lease < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentException("WorkerOptions.Lease must be at least 1 s.", nameof(Lease));
        }

        if (PollInterval <= TimeSpan.Zero || string.IsNullOrWhiteSpace(Name))
        {
            throw new ArgumentException("WorkerOptions.PollInterval must be positive and Name not empty.");
        }
    }
}
