using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Ingest.Status;

public sealed partial class PostgresStatusRecorder
{
    // Typed parameters: every value travels as a parameter, never inside the SQL text.
    private static class Sql
    {
        public static NpgsqlParameter<Guid> Uuid(string name, Guid value) => new(name, NpgsqlDbType.Uuid) { TypedValue = value };

        public static NpgsqlParameter<long> Bigint(string name, long value) => new(name, NpgsqlDbType.Bigint) { TypedValue = value };

        public static NpgsqlParameter<DateTimeOffset> Time(string name, DateTimeOffset value) =>
            new(name, NpgsqlDbType.TimestampTz) { TypedValue = value.ToUniversalTime() };

        public static NpgsqlParameter Text(string name, string? value) =>
            new(name, NpgsqlDbType.Text) { Value = (object?)value ?? DBNull.Value };

        public static NpgsqlParameter Jsonb(string name, JsonElement? value) =>
            new(name, NpgsqlDbType.Jsonb) { Value = value is { } json ? json.GetRawText() : DBNull.Value };

        public static JsonElement? ReadJson(NpgsqlDataReader reader, int ordinal)
        {
            if (reader.IsDBNull(ordinal))
            {
                return null;
            }

            using var document = JsonDocument.Parse(reader.GetString(ordinal));
            return document.RootElement.Clone();
        }

        public static string? ReadText(NpgsqlDataReader reader, int ordinal) =>
            reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
    }
}
