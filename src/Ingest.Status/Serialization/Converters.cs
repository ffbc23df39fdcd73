using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ingest.Status;

/// <summary>Writes a <see cref="BatchStatus"/> as its lower-case word (<c>"finished"</c>).</summary>
internal sealed class BatchStatusJsonConverter : JsonConverter<BatchStatus>
{
    public override BatchStatus Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"A batch status must be a string, not {reader.TokenType}.");
        }

        try
        {
            return BatchStatusExtensions.ParseWord(reader.GetString()!);
        }
        catch (FormatException e)
        {
            throw new JsonException(e.Message, e);
        }
    }

    public override void Write(Utf8JsonWriter writer, BatchStatus value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToWord());
}

/// <summary>
/// Writes times as ISO-8601 UTC with exactly three fraction digits and <c>Z</c>
/// (<c>2024-01-25T15:27:53.552Z</c>), the SPEC's format; reads any ISO-8601 time (no offset = UTC).
/// </summary>
internal sealed class UtcMillisecondsJsonConverter : JsonConverter<DateTimeOffset>
{
    internal const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"A time must be an ISO-8601 string, not {reader.TokenType}.");
        }

        var text = reader.GetString()!;
        if (!DateTimeOffset.TryParse(
                text,
                CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal,
                out var value))
        {
            throw new JsonException($"'{text}' is not an ISO-8601 time.");
        }

        return value.ToUniversalTime();
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        Span<char> buffer = stackalloc char[Format.Length];
        value.UtcDateTime.TryFormat(buffer, out var written, Format, CultureInfo.InvariantCulture);
        writer.WriteStringValue(buffer[..written]);
    }
}
