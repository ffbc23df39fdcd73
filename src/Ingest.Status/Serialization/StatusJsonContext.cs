using System.Text.Json.Serialization;

namespace Ingest.Status;

/// <summary>
/// Source-generated metadata for the status records, so that serialization needs no reflection
/// (trimming and AOT friendly). Use it through <see cref="StatusJson"/>, which adds the converters
/// for the SPEC's status words and millisecond UTC times.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    Converters = [typeof(BatchStatusJsonConverter), typeof(UtcMillisecondsJsonConverter)])]
[JsonSerializable(typeof(StatusRecord))]
[JsonSerializable(typeof(IReadOnlyList<StatusRecord>))]
[JsonSerializable(typeof(BatchRecord))]
internal sealed partial class StatusJsonContext : JsonSerializerContext;
