using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Ingest.Cli.Demo;

/// <summary>Deterministic sample point data in the shape of the SPEC's "plants" dataset, with a few invalid rows.</summary>
internal static class DemoData
{
    public const string DatasetDocument = """
        { "name": "plants",
          "dataDescription": { "metadataSchema": {
              "plantHeight":   { "type": "number", "nullable": false, "signed": false },
              "plantIPv4":     { "type": "ip",     "nullable": true },
              "plantCultivar": { "type": "enum",   "nullable": true, "values": ["broccoli", "brussel sprouts", "cabbage"] } } } }
        """;

    public const string Format = """{"csv": {"entityId": 0, "timestamp": 1, "longitude": 2, "latitude": 3, "plantHeight": 4, "plantIPv4": 5, "plantCultivar": 6}}""";

    private static readonly string[] Cultivars = ["broccoli", "brussel sprouts", "cabbage"];

    /// <summary>Writes one CSV file of <paramref name="rows"/> rows; every 250th row is invalid in some way.</summary>
    public static byte[] Csv(int seed, int rows)
    {
        var random = new Random(seed);
        var text = new StringBuilder(rows * 110);
        var entities = Enumerable.Range(0, 20).Select(_ => RandomGuid(random)).ToArray();
        var start = new DateTime(2024, 1, 25, 0, 0, 0, DateTimeKind.Utc);
        for (var i = 0; i < rows; i++)
        {
            var entity = entities[random.Next(entities.Length)];
            var time = start.AddMilliseconds(((long)seed * 86_400_000) + (i * 1000L) + random.Next(1000));
            var timestamp = i % 2 == 0
                ? new DateTimeOffset(time).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)
                : time.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            var longitude = (4.35 + (random.NextDouble() / 10)).ToString("R", CultureInfo.InvariantCulture);
            var latitude = (50.85 + (random.NextDouble() / 10)).ToString("R", CultureInfo.InvariantCulture);
            var height = random.Next(0, 300).ToString(CultureInfo.InvariantCulture);
            var ip = i % 5 == 0 ? string.Empty : $"10.{random.Next(256)}.{random.Next(256)}.{random.Next(1, 255)}";
            var cultivar = Cultivars[random.Next(Cultivars.Length)];
            if (cultivar.Contains(' ', StringComparison.Ordinal))
            {
                cultivar = $"\"{cultivar}\"";
            }

            if (i % 250 == 249)
            {
                // The kinds of mistakes real files carry: a bad coordinate, an unknown cultivar, a negative height.
                switch (i / 250 % 3)
                {
                    case 0: longitude = "200.5"; break;
                    case 1: cultivar = "kale"; break;
                    default: height = "-4"; break;
                }
            }

            text.Append(entity).Append(',').Append(timestamp).Append(',').Append(longitude).Append(',').Append(latitude).Append(',')
                .Append(height).Append(',').Append(ip).Append(',').Append(cultivar).Append('\n');
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    public static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    private static Guid RandomGuid(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        return new Guid(bytes);
    }
}
