namespace Ingest.Csv;

/// <summary>How CSV files are read.</summary>
internal sealed record CsvReadOptions(int HeaderLines, int MaxRecordChars, int BufferChars = 64 * 1024)
{
    /// <summary>The line of the file the text starts on (1; a chunk's first line for a chunk), so errors name the file's lines.</summary>
    public long FirstLine { get; init; } = 1;
}
