namespace Ingest.Sources;

/// <summary>
/// The connection to an http(s) file broke mid-body and the server cannot resume it where it broke
/// (no <c>206 Partial Content</c> answer to a <c>Range</c> request for the same version), so the
/// file must be read again from its start: the engine rolls back the file's transaction and opens
/// it again. Always transient.
/// </summary>
public sealed class SourceRestartRequiredException : FileErrorException
{
    /// <summary>Creates the error for the file <paramref name="fileKey"/>.</summary>
    public SourceRestartRequiredException(string fileKey, string reason, Exception? innerException = null)
        : base(fileKey, reason, innerException)
    {
        IsTransient = true;
    }
}
