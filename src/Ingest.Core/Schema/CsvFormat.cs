using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ingest.Schema;

/// <summary>
/// The CSV format of a batch (SPEC §2): which 0-based CSV column holds each dataset field, as in
/// <c>{"csv": {"entityId": 0, "timestamp": 1, "longitude": 2, "latitude": 3, "plantHeight": 4}}</c>.
/// </summary>
public sealed class CsvFormat
{
    private CsvFormat(IReadOnlyDictionary<string, int> columns) => Columns = columns;

    /// <summary>Field name to 0-based CSV column, as given.</summary>
    public IReadOnlyDictionary<string, int> Columns { get; }

    /// <summary>Makes a format from field-to-column pairs.</summary>
    /// <exception cref="SchemaException">A column index is negative.</exception>
    public static CsvFormat Create(IReadOnlyDictionary<string, int> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        foreach (var (field, column) in columns)
        {
            if (column < 0)
            {
                throw new SchemaException($"format.csv.{field}: the column index {column} is negative; columns are counted from 0.");
            }
        }

        return new CsvFormat(new Dictionary<string, int>(columns, StringComparer.Ordinal));
    }

    /// <summary>Reads <c>{"csv": {...}}</c>, or the inner mapping object alone.</summary>
    /// <exception cref="SchemaException">Not valid JSON, or a value is not a non-negative integer.</exception>
    public static CsvFormat Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var document = JsonDocument.Parse(json);
            return FromJson(document.RootElement);
        }
        catch (JsonException ex)
        {
            throw new SchemaException($"The format is not valid JSON: {ex.Message}. Expected {{\"csv\": {{\"entityId\": 0, \"timestamp\": 1, ...}}}}.", ex);
        }
    }

    /// <summary>Reads a parsed format; see <see cref="Parse"/>.</summary>
    /// <exception cref="SchemaException">A value is not a non-negative integer.</exception>
    public static CsvFormat FromJson(JsonElement element)
    {
        var mapping = element;
        var bare = true;
        if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty("csv", out var csv))
        {
            mapping = csv;
            bare = false;
        }

        if (mapping.ValueKind != JsonValueKind.Object)
        {
            throw new SchemaException("The format must be an object such as {\"csv\": {\"entityId\": 0, \"timestamp\": 1, \"longitude\": 2, \"latitude\": 3}}.");
        }

        var columns = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var property in mapping.EnumerateObject())
        {
            if (bare && property.Value.ValueKind == JsonValueKind.Object)
            {
                // {"parquet": {...}} read as a bare mapping would say "format.csv.parquet: expected a column number".
                throw new SchemaException($"The format is {{\"{property.Name}\": {{...}}}}, which Ingest does not read: CSV is the only format; give {{\"csv\": {{\"entityId\": 0, \"timestamp\": 1, ...}}}}.");
            }

            if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt32(out var column) || column < 0)
            {
                throw new SchemaException($"format.csv.{property.Name}: expected a 0-based column number, found {property.Value.GetRawText()}.");
            }

            if (!columns.TryAdd(property.Name, column))
            {
                throw new SchemaException($"format.csv.{property.Name}: the field is mapped twice.");
            }
        }

        return new CsvFormat(columns);
    }

    /// <summary>The format as JSON: <c>{"csv": {...}}</c>.</summary>
    public string ToJson() => ToNode().ToJsonString();

    /// <summary>The format as a node: <c>{"csv": {...}}</c>, the columns in the order they were given.</summary>
    internal JsonObject ToNode()
    {
        var csv = new JsonObject();
        foreach (var (field, column) in Columns)
        {
            csv[field] = column;
        }

        return new JsonObject { ["csv"] = csv };
    }

    /// <summary>
    /// Checks the format against <paramref name="schema"/>: every mapped field exists, the four required
    /// point fields and every non-nullable filter field are mapped.
    /// </summary>
    /// <returns>The problems found, each a sentence that says what to fix; empty when the format fits.</returns>
    public IReadOnlyList<string> Check(DatasetSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var problems = new List<string>();
        foreach (var name in Columns.Keys.Order(StringComparer.Ordinal))
        {
            if (schema.Find(name) is null)
            {
                problems.Add($"The format maps '{name}', which dataset '{schema.Name}' does not have (fields: {string.Join(", ", schema.Fields.Select(f => f.Name))}).");
            }
        }

        foreach (var field in schema.Fields)
        {
            if (!field.Nullable && !Columns.ContainsKey(field.Name))
            {
                problems.Add(field.IsCore
                    ? $"The format does not map the required field '{field.Name}'; add \"{field.Name}\": <column> to format.csv."
                    : $"The format does not map '{field.Name}', which is not nullable in dataset '{schema.Name}'; map it to a column.");
            }
        }

        return problems;
    }

    /// <summary>Like <see cref="Check"/>, but throws the problems as one <see cref="SchemaException"/>.</summary>
    /// <exception cref="SchemaException">The format does not fit the schema.</exception>
    public void Validate(DatasetSchema schema)
    {
        var problems = Check(schema);
        if (problems.Count > 0)
        {
            throw new SchemaException(string.Join(Environment.NewLine, problems));
        }
    }
}
