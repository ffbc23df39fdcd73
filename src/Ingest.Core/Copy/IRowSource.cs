namespace Ingest.Copy;

/// <summary>The fields of one CSV record, as spans (no string per field).</summary>
internal interface IRowSource
{
    /// <summary>Number of fields in this record.</summary>
    int FieldCount { get; }

    /// <summary>The unquoted, unescaped text of field <paramref name="ordinal"/>; valid until the next call.</summary>
    ReadOnlySpan<char> GetField(int ordinal);
}
