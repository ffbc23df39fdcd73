namespace Ingest.Schema;

/// <summary>Makes filter fields for <see cref="DatasetSchema.Create"/>.</summary>
public static class FilterField
{
    /// <summary>A 32-bit number: signed (<c>integer</c>) or unsigned (<c>bigint</c> holding 0..2^32-1).</summary>
    public static DatasetField Number(string name, bool signed, bool nullable) =>
        new(Check(name), name, signed ? FieldKind.SignedNumber : FieldKind.UnsignedNumber, nullable, isCore: false);

    /// <summary>An IPv4 address (<c>inet</c>).</summary>
    public static DatasetField IPv4(string name, bool nullable) =>
        new(Check(name), name, FieldKind.IPv4, nullable, isCore: false);

    /// <summary>One of <paramref name="values"/> (<c>text</c>).</summary>
    /// <exception cref="SchemaException">No values, or a value given twice.</exception>
    public static DatasetField Enum(string name, IReadOnlyList<string> values, bool nullable)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            throw new SchemaException($"Enum field '{name}' has no values; list the allowed strings in \"values\".");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            if (!seen.Add(value))
            {
                throw new SchemaException($"Enum field '{name}' lists the value '{value}' twice.");
            }

            if (value.Contains('\0', StringComparison.Ordinal))
            {
                throw new SchemaException($"Enum field '{name}' has a value with a NUL character, which PostgreSQL text cannot hold.");
            }
        }

        return new(Check(name), name, FieldKind.Enum, nullable, isCore: false, [.. values]);
    }

    private static string Check(string name)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new SchemaException("A filter field has an empty name.");
        }

        return name;
    }
}
