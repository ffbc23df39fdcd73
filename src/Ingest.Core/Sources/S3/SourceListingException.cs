namespace Ingest.Sources.S3;

/// <summary>
/// An <c>s3://</c> pattern (or a DFI <c>source.s3</c>) could not be listed into files: it matches no object, the
/// bucket does not exist, the credentials were refused, or the store could not be reached after retries. Thrown
/// before anything loads. The message names the pattern and the bucket, never a credential.
/// </summary>
public sealed class SourceListingException : Exception
{
    /// <summary>Creates the error for <paramref name="pattern"/>.</summary>
    public SourceListingException(string pattern, string reason, Exception? innerException = null)
        : base($"{pattern}: {reason}", innerException)
    {
        Pattern = pattern;
        Reason = reason;
    }

    /// <summary>The pattern listed, as <c>s3://bucket/key-pattern</c>.</summary>
    public string Pattern { get; }

    /// <summary>What went wrong, in words that say what to fix.</summary>
    public string Reason { get; }

    /// <summary>True when listing again later may succeed (the store was out of reach); false for a bad pattern, bucket or credentials.</summary>
    public bool IsTransient { get; init; }
}
