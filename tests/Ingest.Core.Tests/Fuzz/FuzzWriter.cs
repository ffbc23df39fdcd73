using System.Globalization;
using System.Text;
using Ingest.Schema;

namespace Ingest.Core.Tests.Fuzz;

/// <summary>
/// Writes <see cref="FuzzRow"/>s as CSV the way files in the wild vary: fields in a random column order
/// among unmapped junk columns, random quoting (always when needed), CRLF or LF per row, padding around
/// typed values, <c>""</c> or nothing for NULL, several spellings of each number, an optional BOM.
/// </summary>
internal sealed class FuzzWriter
{
    private const int Extra = 3;
    private readonly Random _random;
    private readonly int[] _columns;

    public FuzzWriter(Random random)
    {
        _random = random;
        var order = Enumerable.Range(0, FuzzRow.Fields.Length + Extra).ToArray();
        random.Shuffle(order);
        _columns = order[..FuzzRow.Fields.Length];
        Format = CsvFormat.Create(FuzzRow.Fields.Select((f, i) => (f, i)).ToDictionary(p => p.f, p => _columns[p.i]));
    }

    public CsvFormat Format { get; }

    private int Width => FuzzRow.Fields.Length + Extra;

    /// <summary>The file's bytes; each row's <see cref="FuzzRow.UtcTicks"/> is set from the timestamp text written.</summary>
    public byte[] Write(List<FuzzRow> rows, FuzzRowGenerator generator)
    {
        var text = new StringBuilder();
        for (var r = 0; r < rows.Count; r++)
        {
            var (stamp, ticks) = generator.Timestamp();
            var row = rows[r] = rows[r] with { UtcTicks = ticks };
            var cells = new string?[Width];
            for (var c = 0; c < Width; c++)
            {
                cells[c] = Junk();
            }

            string?[] values =
            [
                Guid(row.EntityId), stamp, Double(row.Longitude), Double(row.Latitude), Double(row.Altitude), Guid(row.MetadataId),
                Integer(row.U), Integer(row.S), row.Ip is { } ip ? $"{ip >> 24}.{(ip >> 16) & 255}.{(ip >> 8) & 255}.{ip & 255}" : null, row.Kind,
            ];
            for (var i = 0; i < values.Length; i++)
            {
                var value = values[i];
                cells[_columns[i]] = value is not null && i < values.Length - 1 && _random.Next(8) == 0 ? Pad(value) : value;
            }

            for (var c = 0; c < Width; c++)
            {
                if (c > 0)
                {
                    text.Append(',');
                }

                Field(text, cells[c]);
            }

            if (r < rows.Count - 1 || _random.Next(2) == 0)
            {
                text.Append(_random.Next(2) == 0 ? "\r\n" : "\n");
            }
        }

        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        return _random.Next(4) == 0 ? [0xEF, 0xBB, 0xBF, .. bytes] : bytes;
    }

    private void Field(StringBuilder text, string? value)
    {
        if (value is null)
        {
            text.Append(_random.Next(3) == 0 ? "\"\"" : string.Empty);
            return;
        }

        var needs = value.AsSpan().IndexOfAny(",\"\r\n") >= 0;
        if (needs || _random.Next(5) == 0)
        {
            text.Append('"').Append(value.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
        }
        else
        {
            text.Append(value);
        }
    }

    private string Pad(string value) => new string(' ', _random.Next(1, 3)) + value + new string(' ', _random.Next(0, 3));

    private string? Junk() => _random.Next(5) switch
    {
        0 => null,
        1 => "x,\"y\"\r\nz",
        2 => "\u00e9\0\u00e9",
        _ => _random.NextInt64().ToString(CultureInfo.InvariantCulture),
    };

    private string? Guid(Guid? value)
    {
        if (value is not { } guid)
        {
            return null;
        }

        var text = guid.ToString(_random.Next(4) switch { 0 => "N", 1 => "B", _ => "D" }, CultureInfo.InvariantCulture);
        return _random.Next(3) == 0 ? text.ToUpperInvariant() : text;
    }

    private string? Double(double? value) => value?.ToString(_random.Next(3) switch { 0 => "E16", 1 => "e16", _ => "R" }, CultureInfo.InvariantCulture);

    private string? Integer(long? value) => value is { } v && v >= 0 && _random.Next(6) == 0
        ? "+" + v.ToString(CultureInfo.InvariantCulture)
        : value?.ToString(CultureInfo.InvariantCulture);
}
