namespace Ingest;

/// <summary>
/// A file error (SPEC §2): the file cannot be read to its end, so the batch stops with status
/// <c>error</c>. The message names the file by its key (a URL without query string or user info)
/// and says what went wrong; it never holds a secret.
/// </summary>
public class FileErrorException : Exception
{
    /// <summary>Creates the error for the file <paramref name="fileKey"/>.</summary>
    public FileErrorException(string fileKey, string reason, Exception? innerException = null)
        : base($"{fileKey}: {reason}", innerException)
    {
        FileKey = fileKey;
        Reason = reason;
    }

    /// <summary>Creates the error for the file <paramref name="fileKey"/> at a line of it.</summary>
    public FileErrorException(string fileKey, long line, string reason, Exception? innerException = null)
        : base($"{fileKey} line {line}: {reason}", innerException)
    {
        FileKey = fileKey;
        Reason = reason;
        Line = line;
    }

    /// <summary>The file's key: its URL without query string or user info, or its local path.</summary>
    public string FileKey { get; }

    /// <summary>What went wrong, in words that say what to fix.</summary>
    public string Reason { get; }

    /// <summary>The 1-based line of the file where the error was found, when known.</summary>
    public long? Line { get; }

    /// <summary>
    /// True when trying the file again may succeed (a network fault that outlasted the retries);
    /// false when the file itself is bad (broken gzip, unterminated quote, record over the cap).
    /// </summary>
    public bool IsTransient { get; init; }
}
