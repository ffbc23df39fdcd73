namespace Ingest.Sources;

/// <summary>
/// How source files are fetched: retries, timeouts and decompression limits. Immutable; use <c>with</c>
/// to vary. Validated once by <see cref="Validate"/>.
/// </summary>
public sealed record SourceOptions
{
    /// <summary>
    /// Attempts per file for faults that may pass: connect failures, HTTP 5xx, 408 and 429, a reset
    /// connection and a stalled read. The count starts again once the file makes progress. Default 5.
    /// </summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>How long to wait for a TCP (and TLS) connection to a server. Default 15 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// A read that receives no byte for this long (or response headers that take this long after the
    /// connection) counts as stalled and is retried. Default 30 s.
    /// </summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The first retry's delay; it doubles per attempt, with jitter, up to <see cref="MaxBackoff"/>. Default 200 ms.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest delay between two attempts, also the longest <c>Retry-After</c> honoured. Default 10 s.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The most bytes a compressed file may decompress to; more is a file error, so a gzip bomb cannot
    /// fill the database. Default 0: no cap.
    /// </summary>
    public long MaxDecompressedBytes { get; init; }

    /// <summary>The read buffer for local files, in bytes. Default 65,536 (64 KiB).</summary>
    public int BufferSize { get; init; } = 64 * 1024;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        Check(MaxAttempts is >= 1 and <= 100, nameof(MaxAttempts), "must be 1 to 100");
        Check(ConnectTimeout > TimeSpan.Zero, nameof(ConnectTimeout), "must be positive");
        Check(StallTimeout > TimeSpan.Zero, nameof(StallTimeout), "must be positive");
        Check(InitialBackoff >= TimeSpan.Zero, nameof(InitialBackoff), "must be zero or more");
        Check(MaxBackoff >= InitialBackoff, nameof(MaxBackoff), "must be at least InitialBackoff");
        Check(MaxDecompressedBytes >= 0, nameof(MaxDecompressedBytes), "must be 0 (no cap) or more");
        Check(BufferSize is >= 4096 and <= 16 * 1024 * 1024, nameof(BufferSize), "must be 4 KiB to 16 MiB");
    }

    private static void Check(bool ok, string name, string rule)
    {
        if (!ok)
        {
            throw new ArgumentException($"SourceOptions.{name} {rule}.", name);
        }
    }
}
