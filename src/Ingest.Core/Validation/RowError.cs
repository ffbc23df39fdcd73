using Ingest.Schema;

namespace Ingest.Validation;

/// <summary>An invalid row: where it is, which field failed and why. The row was skipped and counted.</summary>
/// <param name="FileKey">The file, by key (URL without query string or user info, or local path).</param>
/// <param name="Line">The 1-based line of the file where the row starts.</param>
/// <param name="Field">The dataset field that failed.</param>
/// <param name="Kind">The kind of error.</param>
/// <param name="Reason">What is wrong, in words that say what to fix.</param>
public sealed record RowError(string FileKey, long Line, string Field, RowErrorKind Kind, string Reason)
{
    /// <inheritdoc />
    public override string ToString() => $"{FileKey} line {Line}, field {Field}: {Reason}";

    internal static string Describe(RowErrorKind kind, DatasetField field, int column, int rowFieldCount, ReadOnlySpan<char> value)
    {
        var shown = Show(value);
        return kind switch
        {
            RowErrorKind.MissingColumn => $"column {column} is missing (the row has {rowFieldCount} field{(rowFieldCount == 1 ? string.Empty : "s")})",
            RowErrorKind.NullNotAllowed => field.IsCore ? "required value is empty" : "value is empty, but the field is not nullable",
            RowErrorKind.NotParsable => field.Kind switch
            {
                FieldKind.Uuid => $"{shown} is not a UUID",
                FieldKind.Timestamp => $"{shown} is not a timestamp (Unix milliseconds or ISO-8601, years 1 to 9999)",
                FieldKind.Double => $"{shown} is not a finite number",
                _ => $"{shown} is not an integer",
            },
            RowErrorKind.OutOfRange => field.Kind switch
            {
                FieldKind.SignedNumber => $"{shown} is out of the signed 32-bit range -2147483648..2147483647",
                FieldKind.UnsignedNumber => $"{shown} is out of the unsigned 32-bit range 0..4294967295",
                _ when field.Name == "longitude" => $"{shown} is out of range -180..180",
                _ when field.Name == "latitude" => $"{shown} is out of range -90..90",
                _ => $"{shown} is out of range",
            },
            RowErrorKind.BadIPv4 => $"{shown} is not an IPv4 address (dotted quad such as 192.168.0.1)",
            RowErrorKind.NotInEnum => $"{shown} is not one of the values {string.Join(", ", field.EnumValues.Select(v => $"'{v}'"))}",
            _ => $"{shown} is not valid",
        };
    }

    /// <summary>
    /// The value as a report shows it: cut at 60 chars, control characters written out (<c>\n</c>, <c>\r</c>, <c>\t</c>,
    /// <c>\0</c>, <c>\u001B</c>), so a line break in a quoted value can neither break a report's lines nor pass for one.
    /// </summary>
    private static string Show(ReadOnlySpan<char> value)
    {
        const int Max = 60;
        var cut = value.Length > Max ? value[..Max] : value;
        var text = new System.Text.StringBuilder(cut.Length + 8).Append('\'');
        foreach (var c in cut)
        {
            _ = c switch
            {
                '\n' => text.Append("\\n"),
                '\r' => text.Append("\\r"),
                '\t' => text.Append("\\t"),
                '\0' => text.Append("\\0"),
                _ when char.IsControl(c) => text.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:X4}"),
                _ => text.Append(c),
            };
        }

        return text.Append(value.Length > Max ? "...'" : "'").ToString();
    }
}
