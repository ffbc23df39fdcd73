namespace Ingest;

/// <summary>
/// A batch ended because its database stayed out of reach longer than
/// <see cref="IngestOptions.DatabaseOutageTolerance"/>: no file is at fault; files loaded stay loaded, and running
/// the batch again with the same id loads the rest.
/// </summary>
public sealed class DatabaseUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
