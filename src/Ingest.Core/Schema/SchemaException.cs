namespace Ingest.Schema;

/// <summary>
/// The dataset document, the format or the existing table does not fit: reported before any data
/// moves, with a message that says what to fix.
/// </summary>
public sealed class SchemaException : Exception
{
    /// <summary>Creates the exception with a message that says what to fix.</summary>
    public SchemaException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    public SchemaException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
