namespace Ingest.Status;

/// <summary>The level of a batch log line.</summary>
public enum BatchLogLevel
{
    /// <summary>Written as <c>INFO</c>.</summary>
    Info,

    /// <summary>Written as <c>WARN</c>.</summary>
    Warn,

    /// <summary>Written as <c>ERROR</c>.</summary>
    Error,
}
