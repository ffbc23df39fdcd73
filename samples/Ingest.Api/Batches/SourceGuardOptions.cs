namespace Ingest.Api.Batches;

/// <summary>
/// Turns on the engine's own guards for URLs given by others: the SSRF guard (unless
/// <c>INGEST_ALLOW_PRIVATE_NETWORKS=true</c>), which checks the address of every connection the engine makes,
/// redirects and DNS answers that changed since <see cref="SourceGuard"/> looked included; and no local files.
/// </summary>
internal static class SourceGuardOptions
{
    public static IngestOptions Apply(IngestOptions engine, bool allowPrivateNetworks) => engine with
    {
        // URLs come from others here: caps on what a file may expand to (a gzip bomb is a file error, not a full disk).
        Source = engine.Source with { AllowPrivateNetworks = allowPrivateNetworks, AllowLocalFiles = false, MaxDecompressedBytes = 10L << 30, MaxCompressionRatio = 200 },
    };
}
