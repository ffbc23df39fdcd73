using System.Text.Json;
using System.Text.Json.Nodes;
using Ingest.Status;

namespace Ingest.Schema;

/// <summary>
/// A dataset: its table name and its fields (the six point fields, then the filter fields of
/// <c>dataDescription.metadataSchema</c>), read from a dataset document (SPEC §1).
/// </summary>
public sealed class DatasetSchema
{
    internal const int MaxIdentifierLength = 63;

    private static readonly DatasetField[] CoreFields =
    [
        new("entityId", "entity_id", FieldKind.Uuid, nullable: false, isCore: true),
        new("timestamp", "timestamp", FieldKind.Timestamp, nullable: false, isCore: true),
        new("longitude", "longitude", FieldKind.Double, nullable: false, isCore: true),
        new("latitude", "latitude", FieldKind.Double, nullable: false, isCore: true),
        new("altitude", "altitude", FieldKind.Double, nullable: true, isCore: true),
        new("metadataId", "metadata_id", FieldKind.Uuid, nullable: true, isCore: true),
    ];

    private readonly Dictionary<string, DatasetField> _byName;

    private DatasetSchema(string name, IReadOnlyList<DatasetField> fields)
    {
        Name = name;
        Fields = fields;
        _byName = fields.ToDictionary(f => f.Name, StringComparer.Ordinal);
        (TableSchema, TableName) = SplitName(name);
    }

    /// <summary>The dataset's name, which is its table: <c>plants</c> or <c>schema.table</c>.</summary>
    public string Name { get; }

    /// <summary>The PostgreSQL schema of the table, or <see langword="null"/> for the search path's first.</summary>
    public string? TableSchema { get; }

    /// <summary>The table's own name (without schema).</summary>
    public string TableName { get; }

    /// <summary>All fields in table column order: the point fields, then the filter fields as declared.</summary>
    public IReadOnlyList<DatasetField> Fields { get; }

    /// <summary>The field named <paramref name="name"/>, or <see langword="null"/>.</summary>
    public DatasetField? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>
    /// Reads a dataset document (<c>{"name": ..., "dataDescription": {"metadataSchema": {...}}}</c>). Other keys
    /// are ignored. <paramref name="datasetName"/>, when given, names the table instead of the document's <c>name</c>.
    /// </summary>
    /// <exception cref="SchemaException">The document is not valid; the message says where and why.</exception>
    public static DatasetSchema Parse(string json, string? datasetName = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new SchemaException($"The dataset document is not valid JSON: {ex.Message}", ex);
        }

        using (document)
        {
            return FromDocument(document.RootElement, datasetName);
        }
    }

    /// <summary>Reads a dataset document already parsed; see <see cref="Parse"/>.</summary>
    /// <exception cref="SchemaException">The document is not valid; the message says where and why.</exception>
    public static DatasetSchema FromDocument(JsonElement document, string? datasetName = null)
    {
        if (document.ValueKind != JsonValueKind.Object)
        {
            throw new SchemaException("The dataset document must be a JSON object with \"name\" and \"dataDescription\".");
        }

        var name = datasetName;
        if (string.IsNullOrEmpty(name) && document.TryGetProperty("name", out var nameElement) && nameElement.ValueKind == JsonValueKind.String)
        {
            name = nameElement.GetString();
        }

        if (string.IsNullOrWhiteSpace(name))
        {
            throw new SchemaException("The dataset document has no \"name\" (a string), and no dataset name was given beside it: it names the dataset's table, as \"plants\" or \"schema.plants\".");
        }

        var filters = new List<DatasetField>();
        if (document.TryGetProperty("dataDescription", out var description) && description.ValueKind == JsonValueKind.Object
            && description.TryGetProperty("metadataSchema", out var metadata) && metadata.ValueKind != JsonValueKind.Null)
        {
            if (metadata.ValueKind != JsonValueKind.Object)
            {
                throw new SchemaException("dataDescription.metadataSchema must be an object of filter fields.");
            }

            foreach (var property in metadata.EnumerateObject())
            {
                filters.Add(FilterFieldParser.Parse(property.Name, property.Value));
            }
        }

        return Create(name, filters);
    }

    /// <summary>Builds a schema from filter fields made with <see cref="FilterField"/> helpers, for hosts that do not hold a document.</summary>
    /// <exception cref="SchemaException">A name is empty, too long or taken twice.</exception>
    public static DatasetSchema Create(string name, IEnumerable<DatasetField> filterFields)
    {
        ArgumentNullException.ThrowIfNull(filterFields);
        ValidateTableName(name);
        var fields = new List<DatasetField>(CoreFields);
        foreach (var field in filterFields)
        {
            if (fields.Exists(f => f.Name == field.Name || f.ColumnName == field.ColumnName))
            {
                throw new SchemaException($"Filter field '{field.Name}' clashes with another field or point column of the dataset; rename it.");
            }

            fields.Add(field);
        }

        return new DatasetSchema(name, fields);
    }

    /// <summary>The dataset as a dataset document (<c>name</c> and <c>dataDescription.metadataSchema</c>), which <see cref="Parse"/> reads back.</summary>
    public string ToDocument()
    {
        var metadata = new JsonObject();
        foreach (var field in Fields)
        {
            if (field.IsCore)
            {
                continue;
            }

            metadata[field.Name] = field.Kind switch
            {
                FieldKind.SignedNumber or FieldKind.UnsignedNumber => new JsonObject { ["type"] = "number", ["nullable"] = field.Nullable, ["signed"] = field.Kind == FieldKind.SignedNumber },
                FieldKind.IPv4 => new JsonObject { ["type"] = "ip", ["nullable"] = field.Nullable },
                _ => new JsonObject { ["type"] = "enum", ["nullable"] = field.Nullable, ["values"] = JsonNodes.Strings(field.EnumValues) },
            };
        }

        return new JsonObject
        {
            ["name"] = Name,
            ["dataDescription"] = new JsonObject { ["metadataSchema"] = metadata },
        }.ToJsonString();
    }

    private static void ValidateTableName(string name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new SchemaException("The dataset name is empty.");
        }

        if (name.Count(c => c == '.') > 1)
        {
            throw new SchemaException($"The dataset name '{name}' has more than one '.': name a table as 'table' or 'schema.table' (a database is chosen by the connection).");
        }

        var (schema, table) = SplitName(name);
        foreach (var part in schema is null ? [table] : new[] { schema, table })
        {
            if (part.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(part) > MaxIdentifierLength || part.Contains('\0', StringComparison.Ordinal))
            {
                throw new SchemaException($"The dataset name '{name}' is not a valid table name: each part of 'schema.table' must be 1 to {MaxIdentifierLength} bytes without NUL characters.");
            }
        }
    }

    private static (string? Schema, string Table) SplitName(string name)
    {
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? (null, name) : (name[..dot], name[(dot + 1)..]);
    }
}
