using System.Globalization;
using System.Text;

namespace Ingest.Core.Tests.Engine;

/// <summary>
/// Rows of the plants dataset (<see cref="Copy.RowEncoderTests.Plants"/>, every column mapped but metadataId) made from
/// their number n, as CSV for files, and as the table <c>expected</c> the load must equal, computed by the server from
/// the same numbers (never by Ingest's parsers): both timestamp spellings, NULLs in the nullable fields, every enum value.
/// </summary>
internal static class PlantRows
{
    private static readonly string[] Cultivars = ["broccoli", "brussel sprouts", "cabbage"];

    /// <summary>The CSV of rows <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> - 1.</summary>
    public static string Csv(int start, int count)
    {
        var text = new StringBuilder(count * 130);
        for (var n = start; n < start + count; n++)
        {
            var milliseconds = 1706196472302L + n;
            var timestamp = n % 5 == 0
                ? DateTimeOffset.FromUnixTimeMilliseconds(milliseconds).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)
                : milliseconds.ToString(CultureInfo.InvariantCulture);
            text.Append(CultureInfo.InvariantCulture, $"{n:x8}-1b2c-4d5e-8f60-718293a4b5c6,{timestamp},{((n % 359) - 179) + 0.5},{(n % 180) - 90},");
            text.Append(n % 13 == 0 ? string.Empty : (n * 0.25).ToString(CultureInfo.InvariantCulture));
            text.Append(CultureInfo.InvariantCulture, $",{n},");
            text.Append(n % 11 == 0 ? string.Empty : $"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}");
            text.Append(',').Append(n % 7 == 0 ? string.Empty : Cultivars[n % 3]).Append(',');
            text.Append(n % 17 == 0 ? string.Empty : (-n).ToString(CultureInfo.InvariantCulture));
            text.Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The CSV of <paramref name="files"/> files of <paramref name="rowsPerFile"/> rows each, numbered on from 0, made side by side.</summary>
    public static string[] CsvFiles(int files, int rowsPerFile)
    {
        var texts = new string[files];
        Parallel.For(0, files, i => texts[i] = Csv(i * rowsPerFile, rowsPerFile));
        return texts;
    }

    /// <summary>Creates <c>expected</c> (unlogged: it is only compared with): rows 0 to <paramref name="count"/> - 1 with the columns and types of the plants table.</summary>
    public static Task CreateExpectedAsync(EngineFixture f, int count) => f.ScalarAsync($"""
        CREATE UNLOGGED TABLE expected AS
        SELECT (lpad(to_hex(n), 8, '0') || '-1b2c-4d5e-8f60-718293a4b5c6')::uuid AS entity_id,
               'epoch'::timestamptz + (1706196472302 + n) * interval '1 millisecond' AS "timestamp",
               (((n % 359) - 179) + 0.5)::double precision AS longitude,
               ((n % 180) - 90)::double precision AS latitude,
               CASE WHEN n % 13 = 0 THEN NULL ELSE (n * 0.25)::double precision END AS altitude,
               NULL::uuid AS metadata_id,
               n::bigint AS "plantHeight",
               CASE WHEN n % 11 = 0 THEN NULL ELSE ('10.' || ((n >> 16) & 255) || '.' || ((n >> 8) & 255) || '.' || (n & 255))::inet END AS "plantIPv4",
               CASE WHEN n % 7 = 0 THEN NULL ELSE (ARRAY['broccoli', 'brussel sprouts', 'cabbage'])[n % 3 + 1] END AS "plantCultivar",
               CASE WHEN n % 17 = 0 THEN NULL ELSE -n END::integer AS delta
        FROM generate_series(0, {count - 1}) AS n;
        SELECT 1
        """);

    /// <summary>
    /// The plants table equals <c>expected</c> row for row and column for column (<c>EXCEPT ALL</c> both ways over
    /// every column, in the table's own order): no row lost, none twice, no value changed on the way.
    /// </summary>
    public static async Task AssertTableEqualsExpectedAsync(EngineFixture f)
    {
        // Enough memory for the set operations to hash a million rows instead of sorting them on disk.
        await using var connection = await f.DataSource.OpenConnectionAsync();
        await using (var set = new Npgsql.NpgsqlCommand("SET work_mem = '256MB'", connection))
        {
            await set.ExecuteNonQueryAsync();
        }

        var extra = await RowsAsync(connection, "SELECT * FROM (TABLE plants EXCEPT ALL TABLE expected) x LIMIT 3");
        var missing = await RowsAsync(connection, "SELECT * FROM (TABLE expected EXCEPT ALL TABLE plants) x LIMIT 3");
        Assert.True(extra.Count == 0 && missing.Count == 0, $"rows not in the files (or twice): [{string.Join("; ", extra)}]; rows of the files missing: [{string.Join("; ", missing)}]");
        Assert.Equal(await f.ScalarAsync("SELECT count(*) FROM expected"), await f.ScalarAsync("SELECT count(*) FROM plants"));
    }

    private static async Task<List<string>> RowsAsync(Npgsql.NpgsqlConnection connection, string sql)
    {
        var rows = new List<string>();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var values = new object[reader.FieldCount];
            reader.GetValues(values);
            rows.Add(string.Join("|", values.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture))));
        }

        return rows;
    }
}
