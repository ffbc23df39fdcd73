using Ingest.Sources;
using Ingest.Status;

namespace Ingest;

/// <summary>
/// How the engine loads batches. Immutable; use <c>with</c> to vary. Validated once when the engine is made.
/// </summary>
public sealed record IngestOptions
{
    /// <summary>Parallel streams: PostgreSQL connections each doing binary COPY of one file at a time. Default 3.</summary>
    public int Streams { get; init; } = 3;

    /// <summary>Lines at the top of every file to skip (header rows). Default 0: the files have no header.</summary>
    public int HeaderLines { get; init; }

    /// <summary>
    /// The longest record (in characters) a file may hold; a longer one is a file error, so a broken file
    /// cannot make the reader buffer without bound. Default 1,048,576 (1 Mi characters).
    /// </summary>
    public int MaxRecordSize { get; init; } = 1024 * 1024;

    /// <summary>The largest <see cref="MaxRecordSize"/>: a record's characters must fit one .NET array with room to spare.</summary>
    public const int MaxRecordSizeLimit = 1 << 30;

    /// <summary>
    /// Whether a local file larger than its share of <see cref="Streams"/> (an uncompressed one, at least 8 MiB) is cut
    /// on record boundaries into chunks that load side by side, each in a transaction of its own with its own ledger
    /// row (<c>ingest.import_chunk</c>), committed together once every chunk has copied, so an abort or a file error
    /// while they copy leaves none of the file; the file's own ledger row is written with its last chunk. A table with a
    /// unique or exclusion index, a foreign key or a trigger loads its files whole (chunks committing together could
    /// wait on each other's rows). Default true: one big file then loads on every stream. False loads every file in one
    /// transaction.
    /// </summary>
    public bool SplitLargeFiles { get; init; } = true;

    /// <summary>
    /// Whether small uncompressed local files (up to 1 MiB each) are loaded several at a time: one transaction, one COPY and one
    /// COMMIT for a group of up to 64 of them (4 MiB in all), each file still with its own ledger row, log lines and
    /// counts, and wholly in the table or not at all. A file of a few thousand rows otherwise costs more in round trips
    /// and its COMMIT than in rows. A file error rolls back its whole group, as it does every file in flight. Default
    /// true. False loads every file in a transaction of its own.
    /// </summary>
    public bool GroupSmallFiles { get; init; } = true;

    /// <summary>The most files one batch may name; more is refused before anything is loaded. Default 100,000.</summary>
    public int MaxFilesPerBatch { get; init; } = 100_000;

    /// <summary>Rows of each file a dry run checks. Default 100.</summary>
    public int DryRunRows { get; init; } = 100;

    /// <summary>How many invalid rows a batch result keeps in full (file, line, field, reason). Default 1,000; all are counted.</summary>
    public int MaxRowErrorsKept { get; init; } = 1000;

    /// <summary>How many invalid rows of each file are written to the batch log, one line each. Default 10.</summary>
    public int MaxRowErrorsLogged { get; init; } = 10;

    /// <summary>
    /// Attempts per file for faults that may pass (a dropped connection, a restarted server), under
    /// <c>ingest import</c> and queue workers alike: a worker retries the file it holds, renewing its claim. Default 3.
    /// </summary>
    public int FileAttempts { get; init; } = 3;

    /// <summary>
    /// How long a stream rides out a database it cannot reach (a restart, a failover, no free connection slot)
    /// before the batch ends <c>error</c>: its file rolls back and is tried again every few seconds meanwhile,
    /// beyond <see cref="FileAttempts"/>. A queue worker rides it out the same way, then gives the file back to
    /// the queue instead of failing a batch other workers may still load. The steps around the files ride it out
    /// by the same rule, each from its own first fault: a run's start and end, a worker's start-up, and its search
    /// for work (past the tolerance the worker ends with the fault). Default 60 s; zero counts such faults as any other.
    /// </summary>
    public TimeSpan DatabaseOutageTolerance { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long a run of a batch that another process holds waits for it to let go before it is refused with
    /// <see cref="BatchAlreadyRunningException"/>: a run killed a moment ago holds its batch until the server notices
    /// its sessions are gone, and a supervisor restarting it at once must not be refused for that. Also how long
    /// <see cref="IngestEngine.AbortAsync"/> waits for such a run to end. Default 15 s; zero refuses at once.
    /// </summary>
    public TimeSpan LeaseWait { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>What cancelling <see cref="IngestEngine.ImportAsync"/>'s token does. Default <see cref="CancellationMode.Abort"/>.</summary>
    public CancellationMode OnCancellation { get; init; } = CancellationMode.Abort;

    /// <summary>How often live counts and log reach the recorder's batch record. Default 1 s.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often a running batch appends a <c>started</c> snapshot to its timeline (when counts changed). Default 5 s.
    /// A long run spaces them out to 1/20 of its time so far (after 100 s at the default), since each holds the whole log.
    /// </summary>
    public TimeSpan SnapshotInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the recorder is asked whether an abort was requested (from any process). Default 250 ms.</summary>
    public TimeSpan AbortPollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Called with every line added to a batch's log (already redacted), for mirroring to a logger.
    /// Runs on the engine's threads: keep it quick and thread-safe. Default none.
    /// </summary>
    public Action<Guid, BatchLogLevel, string>? OnLogLine { get; init; }

    /// <summary>
    /// Called with every invalid row (file, line, field, reason), past the caps of the log and the result: for a
    /// host that keeps them all, as <c>ingest import --rejects</c> does. A file that rolls back and loads again
    /// reports its rows again. Runs on the engine's threads, several at once: keep it quick and thread-safe.
    /// Default none.
    /// </summary>
    public Action<Guid, Validation.RowError>? OnInvalidRow { get; init; }

    /// <summary>
    /// Whether the engine lowers its own CPU priority while it loads into a PostgreSQL server on the same
    /// machine, so the server's backends get the cores first (see <see cref="CpuYield"/>). Default
    /// <see cref="CpuYield.Auto"/>: whenever the server is on this machine (measured on 2 cores shared with the
    /// server: about 8% faster loads; see SCALING.md).
    /// </summary>
    public CpuYield YieldCpuToLocalServer { get; init; } = CpuYield.Auto;

    /// <summary>How files are fetched: retries, timeouts, decompression caps. Default <see cref="SourceOptions"/>'s defaults.</summary>
    public SourceOptions Source { get; init; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        Check(Streams is >= 1 and <= 64, nameof(Streams), "must be 1 to 64");
        Check(HeaderLines >= 0, nameof(HeaderLines), "must be 0 or more");
        Check(MaxRecordSize is >= 1024 and <= MaxRecordSizeLimit, nameof(MaxRecordSize), "must be at least 1024 characters and at most 1073741824 (1 Gi)");
        Check(DryRunRows >= 1, nameof(DryRunRows), "must be at least 1");
        Check(MaxFilesPerBatch >= 1, nameof(MaxFilesPerBatch), "must be at least 1");
        Check(MaxRowErrorsKept >= 0, nameof(MaxRowErrorsKept), "must be 0 or more");
        Check(MaxRowErrorsLogged >= 0, nameof(MaxRowErrorsLogged), "must be 0 or more");
        Check(FileAttempts >= 1, nameof(FileAttempts), "must be at least 1");
        Check(DatabaseOutageTolerance >= TimeSpan.Zero, nameof(DatabaseOutageTolerance), "must be zero or more");
        Check(LeaseWait >= TimeSpan.Zero, nameof(LeaseWait), "must be zero or more");
        Check(ProgressInterval > TimeSpan.Zero, nameof(ProgressInterval), "must be positive");
        Check(SnapshotInterval > TimeSpan.Zero, nameof(SnapshotInterval), "must be positive");
        Check(AbortPollInterval > TimeSpan.Zero, nameof(AbortPollInterval), "must be positive");
        Check(Enum.IsDefined(OnCancellation), nameof(OnCancellation), "must be Abort or Interrupt");
        Check(Enum.IsDefined(YieldCpuToLocalServer), nameof(YieldCpuToLocalServer), "must be Auto, Always or Never");
        ArgumentNullException.ThrowIfNull(Source, nameof(Source));
        Source.Validate();
    }

    private static void Check(bool ok, string name, string rule)
    {
        if (!ok)
        {
            throw new ArgumentException($"IngestOptions.{name} {rule}.", name);
        }
    }
}
