using Ingest.Sources.S3;

namespace Ingest.Sources;

/// <summary>
/// How source files are fetched: retries, timeouts and decompression limits. Immutable; use <c>with</c>
/// to vary. Validated once by <see cref="Validate"/>.
/// </summary>
public sealed record SourceOptions
{
    /// <summary>
    /// Attempts per file for faults that may pass: connect failures, HTTP 5xx, 408 and 429, a reset
    /// connection and a stalled read. The count starts again once the file makes progress
    /// (<see cref="StallProgressBytes"/> more bytes). Default 5.
    /// </summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>How long to wait for a TCP (and TLS) connection to a server. Default 15 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// A body must make real progress: when its reads have waited this long in all without
    /// <see cref="StallProgressBytes"/> arriving, the read counts as stalled and is retried (resumed where the server
    /// allows). Only the time spent waiting inside reads counts, not the time the consumer takes between them. Response
    /// headers that take this long after the connection are stalled too. Default 30 s.
    /// </summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The first retry's delay; it doubles per attempt, with jitter, up to <see cref="MaxBackoff"/>. Default 200 ms.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// The longest delay of Ingest's own backoff between two attempts. A server's <c>Retry-After</c> is not capped by it
    /// but by <see cref="MaxRetryAfter"/>. Default 10 s.
    /// </summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The longest <c>Retry-After</c> (of a 429 or 503) that is waited exactly as the server asked. A server that asks
    /// for more ends the file at once as a file error that says so (running the import again later resumes it):
    /// retrying sooner than asked would only be refused again. Default 2 minutes.
    /// </summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The most bytes a compressed file may decompress to; more is a file error, so a gzip bomb cannot
    /// fill the database. Default 0: no cap (a library user loads their own files, which may be huge);
    /// hosts that take files from others should set one.
    /// </summary>
    public long MaxDecompressedBytes { get; init; }

    /// <summary>
    /// The most times a compressed file may expand (decompressed bytes over compressed bytes), checked
    /// once more than <see cref="CompressionRatioFloor"/> bytes came out; more is a file error (a gzip bomb).
    /// One deflate stream cannot pass about 1032:1, so the default flags only data that is almost one
    /// repeated pattern; lower it for files from others. The same cap applies to zstd (<c>.zst</c>), which can
    /// pass it, though real CSV stays far below. Default 1,000; 0: no cap.
    /// </summary>
    public double MaxCompressionRatio { get; init; } = 1000;

    /// <summary>
    /// False turns on the SSRF guard for hosts that fetch URLs given by others: a host that resolves to a
    /// loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16 with the cloud
    /// metadata address, fe80::/10), carrier-grade NAT (100.64/10), unspecified, multicast or reserved
    /// address, also in IPv4-mapped, NAT64 or 6to4 IPv6 form, is a file error. The address actually
    /// connected to is checked, on every redirect too, and no proxy is used. Default true: a library or
    /// CLI user loads their own URLs, often from a loopback or private store.
    /// </summary>
    public bool AllowPrivateNetworks { get; init; } = true;

    /// <summary>
    /// Host names (exact, case-insensitive), IP addresses or CIDRs (<c>10.20.0.0/16</c>) that the guard of
    /// <see cref="AllowPrivateNetworks"/> lets through even when private. Default empty.
    /// </summary>
    public IReadOnlyList<string> AllowedNetworks { get; init; } = [];

    /// <summary>
    /// False refuses local paths and <c>file://</c> URLs (a file error), for hosts whose callers must not read
    /// the server's disk. Default true.
    /// </summary>
    public bool AllowLocalFiles { get; init; } = true;

    /// <summary>How <c>s3://</c> objects are reached: endpoint, region, role (see <see cref="S3Settings"/>). Default: all from the environment.</summary>
    public S3Settings S3 { get; init; } = new();

    /// <summary>
    /// The bytes a body must deliver per <see cref="StallTimeout"/> of waiting to count as progress: 16 KiB. Progress
    /// re-arms the stall timer and starts a fresh count of <see cref="MaxAttempts"/>; a server that trickles less is stalled.
    /// </summary>
    public const int StallProgressBytes = 16 * 1024;

    /// <summary>Decompressed bytes after which <see cref="MaxCompressionRatio"/> is checked: 8 MiB.</summary>
    public const long CompressionRatioFloor = 8L * 1024 * 1024;

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
        Check(MaxRetryAfter >= TimeSpan.Zero && MaxRetryAfter <= TimeSpan.FromDays(1), nameof(MaxRetryAfter), "must be 0 to 1 day");
        Check(MaxDecompressedBytes >= 0, nameof(MaxDecompressedBytes), "must be 0 (no cap) or more");
        Check(MaxCompressionRatio >= 0 && double.IsFinite(MaxCompressionRatio), nameof(MaxCompressionRatio), "must be 0 (no cap) or more");
        ArgumentNullException.ThrowIfNull(AllowedNetworks, nameof(AllowedNetworks));
        foreach (var entry in AllowedNetworks)
        {
            Check(NetworkGuard.IsValidEntry(entry), nameof(AllowedNetworks), $"holds '{entry}', which is not a host name, an IP address or a CIDR such as 10.20.0.0/16");
        }

        ArgumentNullException.ThrowIfNull(S3, nameof(S3));
        S3.Validate();
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
