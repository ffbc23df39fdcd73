using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ingest.Status;

/// <summary>
/// JSON built as nodes rather than by reflection over dictionaries, so the native (AOT) ingest binary, which has no
/// reflection-based serialization, writes the same documents.
/// </summary>
internal static class JsonNodes
{
    /// <summary>The node as a <see cref="JsonElement"/> that outlives it.</summary>
    public static JsonElement ToElement(JsonNode node)
    {
        using var document = JsonDocument.Parse(node.ToJsonString());
        return document.RootElement.Clone();
    }

    /// <summary>A JSON array of strings.</summary>
    public static JsonArray Strings(IEnumerable<string> values) => [.. values.Select(v => (JsonNode?)JsonValue.Create(v))];
}
