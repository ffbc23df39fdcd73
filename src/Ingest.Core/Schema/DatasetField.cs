namespace Ingest.Schema;

/// <summary>A field of a dataset: one of the six point fields, or a filter field from the metadata schema.</summary>
public sealed class DatasetField
{
    internal DatasetField(string name, string columnName, FieldKind kind, bool nullable, bool isCore, IReadOnlyList<string>? enumValues = null)
    {
        Name = name;
        ColumnName = columnName;
        Kind = kind;
        Nullable = nullable;
        IsCore = isCore;
        EnumValues = enumValues ?? [];
    }

    /// <summary>The field's name as the format and the dataset document spell it (<c>entityId</c>, <c>plantHeight</c>).</summary>
    public string Name { get; }

    /// <summary>The table column that holds it (<c>entity_id</c>; a filter field keeps its own name).</summary>
    public string ColumnName { get; }

    /// <summary>The field's value type.</summary>
    public FieldKind Kind { get; }

    /// <summary>True when the field may be NULL (an empty CSV field, or not mapped by the format).</summary>
    public bool Nullable { get; }

    /// <summary>True for the six point fields every dataset has; false for filter fields.</summary>
    public bool IsCore { get; }

    /// <summary>The allowed values of an <see cref="FieldKind.Enum"/> field; empty otherwise.</summary>
    public IReadOnlyList<string> EnumValues { get; }

    /// <summary>The PostgreSQL type of the field's column.</summary>
    public string SqlType => Kind switch
    {
        FieldKind.Uuid => "uuid",
        FieldKind.Timestamp => "timestamp with time zone",
        FieldKind.Double => "double precision",
        FieldKind.SignedNumber => "integer",
        FieldKind.UnsignedNumber => "bigint",
        FieldKind.IPv4 => "inet",
        FieldKind.Enum => "text",
        _ => throw new InvalidOperationException($"Unknown field kind {Kind}."),
    };

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({SqlType}{(Nullable ? string.Empty : " not null")})";
}
