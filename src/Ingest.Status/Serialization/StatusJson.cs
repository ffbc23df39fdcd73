using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Ingest.Status;

/// <summary>
/// JSON of the status records exactly as SPEC §3 shows them: camelCase properties in the SPEC's
/// order, the status as its lower-case word, times as ISO-8601 UTC with milliseconds and <c>Z</c>,
/// and <c>log</c>/<c>deletedAt</c> written as <c>null</c> rather than omitted.
/// </summary>
public static class StatusJson
{
    /// <summary>Compact options (read-only), backed by source-generated metadata.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions(indented: false);

    /// <summary>The same as <see cref="Options"/>, indented for people to read.</summary>
    public static JsonSerializerOptions IndentedOptions { get; } = CreateOptions(indented: true);

    /// <summary>A status record as JSON.</summary>
    public static string Serialize(StatusRecord record, bool indented = false) =>
        JsonSerializer.Serialize(record, Info<StatusRecord>(indented));

    /// <summary>A timeline (newest first, as given) as a JSON array.</summary>
    public static string Serialize(IReadOnlyList<StatusRecord> timeline, bool indented = false) =>
        JsonSerializer.Serialize(timeline, Info<IReadOnlyList<StatusRecord>>(indented));

    /// <summary>A batch record as JSON.</summary>
    public static string Serialize(BatchRecord record, bool indented = false) =>
        JsonSerializer.Serialize(record, Info<BatchRecord>(indented));

    /// <summary>Reads a status record.</summary>
    /// <exception cref="JsonException">The text is not a status record.</exception>
    public static StatusRecord DeserializeStatus(string json) =>
        JsonSerializer.Deserialize(json, Info<StatusRecord>(false)) ?? throw Null("status record");

    /// <summary>Reads a timeline (a JSON array of status records).</summary>
    /// <exception cref="JsonException">The text is not a timeline.</exception>
    public static IReadOnlyList<StatusRecord> DeserializeTimeline(string json) =>
        JsonSerializer.Deserialize(json, Info<IReadOnlyList<StatusRecord>>(false)) ?? throw Null("timeline");

    /// <summary>Reads a batch record.</summary>
    /// <exception cref="JsonException">The text is not a batch record.</exception>
    public static BatchRecord DeserializeBatch(string json) =>
        JsonSerializer.Deserialize(json, Info<BatchRecord>(false)) ?? throw Null("batch record");

    private static JsonTypeInfo<T> Info<T>(bool indented) =>
        (JsonTypeInfo<T>)(indented ? IndentedOptions : Options).GetTypeInfo(typeof(T));

    private static JsonException Null(string what) => new($"Expected a {what}, found null.");

    private static JsonSerializerOptions CreateOptions(bool indented)
    {
        var options = new JsonSerializerOptions
        {
            TypeInfoResolver = StatusJsonContext.Default,
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            PropertyNameCaseInsensitive = false,
            WriteIndented = indented,
            IndentSize = 2,

            // Logs hold quotes and apostrophes ("Connected to database 'ingest'"); keep them readable
            // instead of \u0027. The output is JSON for files and terminals, never inlined into HTML.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.Converters.Add(new BatchStatusJsonConverter());
        options.Converters.Add(new UtcMillisecondsJsonConverter());
        options.MakeReadOnly();
        return options;
    }
}
