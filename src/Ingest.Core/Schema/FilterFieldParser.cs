using System.Text.Json;

namespace Ingest.Schema;

/// <summary>Reads one filter field of <c>dataDescription.metadataSchema</c>.</summary>
internal static class FilterFieldParser
{
    public static DatasetField Parse(string name, JsonElement spec)
    {
        var where = $"dataDescription.metadataSchema.{name}";
        if (name.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(name) > DatasetSchema.MaxIdentifierLength || name.Contains('\0', StringComparison.Ordinal))
        {
            throw new SchemaException($"{where}: a filter field name must be 1 to {DatasetSchema.MaxIdentifierLength} bytes without NUL characters.");
        }

        if (spec.ValueKind != JsonValueKind.Object)
        {
            throw new SchemaException($"{where}: must be an object such as {{\"type\": \"number\", \"nullable\": false, \"signed\": true}}.");
        }

        var type = GetString(spec, "type", where) ?? throw new SchemaException($"{where}: \"type\" is missing (number, ip or enum).");
        var nullable = GetBool(spec, "nullable", where) ?? true;
        switch (type)
        {
            case "number":
                var signed = GetBool(spec, "signed", where) ?? true;
                return FilterField.Number(name, signed, nullable);
            case "ip":
                return FilterField.IPv4(name, nullable);
            case "enum":
                if (!spec.TryGetProperty("values", out var values) || values.ValueKind != JsonValueKind.Array)
                {
                    throw new SchemaException($"{where}: an enum needs \"values\", an array of strings.");
                }

                var list = new List<string>();
                foreach (var value in values.EnumerateArray())
                {
                    if (value.ValueKind != JsonValueKind.String)
                    {
                        throw new SchemaException($"{where}.values: every value must be a string, found {value.ValueKind}.");
                    }

                    list.Add(value.GetString()!);
                }

                return FilterField.Enum(name, list, nullable);
            default:
                throw new SchemaException($"{where}: unknown type '{type}' (expected number, ip or enum).");
        }
    }

    private static string? GetString(JsonElement spec, string key, string where)
    {
        if (!spec.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new SchemaException($"{where}.{key}: must be a string.");
    }

    private static bool? GetBool(JsonElement spec, string key, string where)
    {
        if (!spec.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new SchemaException($"{where}.{key}: must be true or false."),
        };
    }
}
