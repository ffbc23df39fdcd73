namespace Ingest.Csv;

/// <summary>How CSV files are read.</summary>
internal sealed record CsvReadOptions(int HeaderLines, int MaxRecordChars, int BufferChars = 64 * 1024);
