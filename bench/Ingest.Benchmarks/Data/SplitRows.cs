using System.Text;
using Ingest.Copy;
using Sylvan.Data.Csv;

namespace Ingest.Benchmarks.Data;

/// <summary>
/// CSV rows already split into fields (one char array, one offset table), so the validate + encode
/// stage can be measured without the parser's cost.
/// </summary>
internal sealed class SplitRows
{
    private readonly char[] _text;
    private readonly int[] _starts;

    private SplitRows(char[] text, int[] starts, int count, int columns)
    {
        _text = text;
        _starts = starts;
        Count = count;
        Columns = columns;
    }

    public int Count { get; }

    public int Columns { get; }

    public static SplitRows From(byte[] csv, int columns)
    {
        var text = new StringBuilder(csv.Length);
        var starts = new List<int>();
        using var reader = CsvDataReader.Create(new StreamReader(new MemoryStream(csv), Encoding.UTF8), new CsvDataReaderOptions { HasHeaders = false });
        var rows = 0;
        while (reader.Read())
        {
            for (var i = 0; i < columns; i++)
            {
                starts.Add(text.Length);
                text.Append(reader.GetFieldSpan(i));
            }

            rows++;
        }

        starts.Add(text.Length);
        return new SplitRows(text.ToString().ToCharArray(), [.. starts], rows, columns);
    }

    public Row this[int index] => new(this, index * Columns);

    /// <summary>One pre-split row as the encoder sees a CSV record.</summary>
    internal readonly struct Row(SplitRows rows, int firstField) : IRowSource
    {
        public int FieldCount => rows.Columns;

        public ReadOnlySpan<char> GetField(int ordinal)
        {
            var start = rows._starts[firstField + ordinal];
            return rows._text.AsSpan(start, rows._starts[firstField + ordinal + 1] - start);
        }
    }
}
