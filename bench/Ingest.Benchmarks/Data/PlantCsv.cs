using System.Buffers;
using System.Globalization;

namespace Ingest.Benchmarks.Data;

/// <summary>
/// Deterministic DFI-style point rows in the "plants" dataset of SPEC §1: uuid, ISO-8601 timestamp, two
/// doubles, an unsigned number, an IPv4 and an enum. Columns are in the table's order (entity_id,
/// timestamp, longitude, latitude, altitude, metadata_id, plantHeight, plantIPv4, plantCultivar), with
/// altitude and metadata_id empty (NULL), so <c>psql \copy</c> can load the same files as the engine.
/// Every row is valid: baselines that stop at the first bad row must load the same rows.
/// </summary>
internal static class PlantCsv
{
    public const string DatasetDocument = """
        { "name": "bench_plants",
          "dataDescription": { "metadataSchema": {
              "plantHeight":   { "type": "number", "nullable": false, "signed": false },
              "plantIPv4":     { "type": "ip",     "nullable": true },
              "plantCultivar": { "type": "enum",   "nullable": true, "values": ["broccoli", "brussel sprouts", "cabbage"] } } } }
        """;

    public const string Format = """
        {"csv": {"entityId": 0, "timestamp": 1, "longitude": 2, "latitude": 3, "altitude": 4, "metadataId": 5,
                 "plantHeight": 6, "plantIPv4": 7, "plantCultivar": 8}}
        """;

    /// <summary>Number of CSV columns per row.</summary>
    public const int Columns = 9;

    /// <summary>The longest row this generator writes, in bytes (with its newline), with room to spare.</summary>
    private const int MaxRowBytes = 192;

    private static readonly byte[][] Cultivars = ["broccoli"u8.ToArray(), "brussel sprouts"u8.ToArray(), "cabbage"u8.ToArray()];

    private static readonly DateTime Start = new(2024, 1, 25, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>Writes <paramref name="rows"/> rows of file number <paramref name="file"/>; the same arguments always give the same bytes.</summary>
    /// <returns>The bytes written.</returns>
    public static long Write(Stream output, int file, int rows)
    {
        var random = new Random(20240125 + file);
        var entities = new Guid[1000];
        Span<byte> guidBytes = stackalloc byte[16];
        for (var i = 0; i < entities.Length; i++)
        {
            random.NextBytes(guidBytes);
            entities[i] = new Guid(guidBytes);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(256 * 1024);
        var position = 0;
        long total = 0;
        try
        {
            for (var i = 0; i < rows; i++)
            {
                if (buffer.Length - position < MaxRowBytes)
                {
                    output.Write(buffer, 0, position);
                    total += position;
                    position = 0;
                }

                position += WriteRow(buffer.AsSpan(position), random, entities, file, i);
            }

            output.Write(buffer, 0, position);
            total += position;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return total;
    }

    /// <summary>All rows of one file in memory (micro benchmarks).</summary>
    public static byte[] InMemory(int rows, int file = 0)
    {
        using var output = new MemoryStream(rows * 128);
        Write(output, file, rows);
        return output.ToArray();
    }

    private static int WriteRow(Span<byte> row, Random random, Guid[] entities, int file, int index)
    {
        var invariant = CultureInfo.InvariantCulture;
        var at = 0;
        entities[random.Next(entities.Length)].TryFormat(row, out var n, "D");
        at += n;
        row[at++] = (byte)',';

        var time = Start.AddMilliseconds((file * 86_400_000L) + (index * 1000L) + random.Next(1000));
        time.TryFormat(row[at..], out n, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", invariant);
        at += n;
        row[at++] = (byte)',';

        (4.35 + (random.NextDouble() / 10)).TryFormat(row[at..], out n, "R", invariant);
        at += n;
        row[at++] = (byte)',';
        (50.85 + (random.NextDouble() / 10)).TryFormat(row[at..], out n, "R", invariant);
        at += n;

        // altitude and metadata_id: NULL.
        row[at++] = (byte)',';
        row[at++] = (byte)',';
        row[at++] = (byte)',';

        random.Next(0, 300).TryFormat(row[at..], out n, default, invariant);
        at += n;
        row[at++] = (byte)',';

        at += WriteIPv4(row[at..], random);
        row[at++] = (byte)',';

        var cultivar = Cultivars[random.Next(Cultivars.Length)];
        cultivar.CopyTo(row[at..]);
        at += cultivar.Length;
        row[at++] = (byte)'\n';
        return at;
    }

    private static int WriteIPv4(Span<byte> destination, Random random)
    {
        var invariant = CultureInfo.InvariantCulture;
        "10."u8.CopyTo(destination);
        var at = 3;
        random.Next(256).TryFormat(destination[at..], out var n, default, invariant);
        at += n;
        destination[at++] = (byte)'.';
        random.Next(256).TryFormat(destination[at..], out n, default, invariant);
        at += n;
        destination[at++] = (byte)'.';
        random.Next(1, 255).TryFormat(destination[at..], out n, default, invariant);
        return at + n;
    }
}
