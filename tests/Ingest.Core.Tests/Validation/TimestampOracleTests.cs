using Ingest.Core.Tests.Engine;
using Ingest.Validation;

namespace Ingest.Core.Tests.Validation;

/// <summary>Timestamps load as the instant PostgreSQL itself reads from the same text (psql \copy would store).</summary>
public sealed class TimestampOracleTests
{
    private static readonly string[] Accepted =
    [
        "2024-01-25T15:27:52.302Z",
        "2024-01-25 15:27:52",
        "2024-01-25T16:27:52.302+01:00",
        "2024-01-25T10:27:52.302-0500",
        "2024-01-25",
        "2024-01-25T15:27:52.123456Z",
        "2024-01-25T15:27:52.1234565Z", // the double just below .5: rounds down, as strtod + rint do
        "2024-01-25T15:27:52.1234575Z",
        "2024-01-01T00:00:00.0000005Z", // half to even: down
        "2024-01-01T00:00:00.0000015Z", // half to even: up
        "2024-01-01T00:00:00.12345650000000000001Z",
        "2024-02-29T23:59:59.9999999Z", // into the next day
        "2024-01-01T00:00:59.9999995",
        "1999-12-31T23:59:59.9999996-01:00",
        "0001-01-01T00:00:00.0000004Z",
        "2016-12-31 23:59:60", // a leap second
        "2016-12-31 23:59:60.0000004",
        "2024-01-01T24:00:00", // the end of the day
        "2024-01-01T24:00:00.0000001",
        "2000-05-01T12:59:60.95Z", // a leap second with a fraction, the day not over
        "2000-05-01T12:59:60.5+05:30",
        "2024-01-01T12:59:60.9999996", // rounds to :61, which PostgreSQL adds up too
        "2024-01-01T23:59:59.9999996", // rounds to 24:00:00
    ];

    private static readonly string[] Refused =
    [
        "2016-12-31 23:59:60.5",
        "2024-01-01T24:00:01",
        "2024-01-01T24:01:00",
        "2024-01-01T24:00:00.5",
        "2024-01-01T25:00:00",
        "2024-01-01T23:59:61",
        "2024-01-01T24:00:00.9999996", // past 24:00:00 once rounded
        "2016-12-31 23:59:60.9999999",
        "2016-12-31 23:59:60.000001",
    ];

    [SkippableFact]
    public async Task Every_accepted_text_is_the_instant_postgresql_reads_and_what_it_refuses_is_refused()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using var connection = await f.DataSource.OpenConnectionAsync();
        await using (var utc = new Npgsql.NpgsqlCommand("SET TimeZone = 'UTC'", connection))
        {
            await utc.ExecuteNonQueryAsync();
        }

        foreach (var text in Accepted)
        {
            await using var command = new Npgsql.NpgsqlCommand("SELECT ((extract(epoch FROM ($1::text)::timestamptz) - 946684800) * 1000000)::bigint", connection);
            command.Parameters.AddWithValue(text);
            var expected = Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);

            Assert.True(ValueParsers.TryParseTimestamp(text, out var micros), $"refused {text}");
            Assert.True(expected == micros, $"{text}: PostgreSQL reads {expected} µs after 2000, Ingest {micros}");
        }

        foreach (var text in Refused)
        {
            await using var command = new Npgsql.NpgsqlCommand("SELECT ($1::text)::timestamptz", connection);
            command.Parameters.AddWithValue(text);
            await Assert.ThrowsAsync<Npgsql.PostgresException>(() => command.ExecuteScalarAsync());
            Assert.False(ValueParsers.TryParseTimestamp(text, out _), $"accepted {text}, which PostgreSQL refuses");
        }
    }
}
