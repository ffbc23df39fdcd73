using Ingest.Schema;
using Ingest.Validation;

namespace Ingest.Copy;

/// <summary>How one table column is filled: from which CSV column, parsed how, checked against what.</summary>
internal readonly struct ColumnPlan
{
    public ColumnPlan(DatasetField field, int sourceColumn)
    {
        Field = field;
        Source = sourceColumn;
        Kind = field.Kind;
        Nullable = field.Nullable;
        (Min, Max) = field.Name switch
        {
            "longitude" when field.IsCore => (-180d, 180d),
            "latitude" when field.IsCore => (-90d, 90d),
            _ => (double.NegativeInfinity, double.PositiveInfinity),
        };

        if (field.Kind == FieldKind.Enum)
        {
            EnumValues = new EnumLookup(field.EnumValues);
            MaxValueBytes = EnumValues.MaxBytes;
        }
        else
        {
            MaxValueBytes = field.Kind switch
            {
                FieldKind.Uuid => 16,
                FieldKind.SignedNumber => 4,
                FieldKind.IPv4 => 8,
                _ => 8,
            };
        }
    }

    public DatasetField Field { get; }

    /// <summary>0-based CSV column, or -1 when the format does not map the field (always NULL).</summary>
    public int Source { get; }

    public FieldKind Kind { get; }

    public bool Nullable { get; }

    public double Min { get; }

    public double Max { get; }

    /// <summary>The enum's values and their UTF-8 bytes (null unless <see cref="Kind"/> is <see cref="FieldKind.Enum"/>).</summary>
    public EnumLookup? EnumValues { get; }

    /// <summary>The largest value this column can encode to, without its 4-byte length.</summary>
    public int MaxValueBytes { get; }
}
