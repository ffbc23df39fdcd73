using Ingest.Schema;

namespace Ingest.Core.Tests.Fuzz;

/// <summary>
/// One generated valid row, as it must read back from the table. <c>UtcTicks</c> is the instant in UTC
/// ticks, already at PostgreSQL's microsecond precision.
/// </summary>
internal sealed record FuzzRow(
    Guid EntityId, long UtcTicks, double Longitude, double Latitude, double? Altitude, Guid? MetadataId, uint U, int? S, uint? Ip, string? Kind)
{
    /// <summary>Enum values that need quoting, hold quotes, separators, newlines, spaces and non-ASCII.</summary>
    public static readonly string[] Kinds =
    [
        "plain", "a,b", "say \"hi\"", "line1\nline2", "crlf\r\nin", "cr\rinside", "  spaced  ", "\u00fcn\u00ef \u4e2d\u6587 \ud83c\udf89",
        "\"", ",", "\"\"", "tab\there", "trailing,", "=1+2", "'quoted'",
    ];

    /// <summary>The dataset "fuzz": the core fields plus one filter field of each type.</summary>
    public static DatasetSchema Schema(string name) => DatasetSchema.Create(name,
    [
        FilterField.Number("u", signed: false, nullable: false),
        FilterField.Number("s", signed: true, nullable: true),
        FilterField.IPv4("ip", nullable: true),
        FilterField.Enum("kind", Kinds, nullable: true),
    ]);

    /// <summary>The fields in the order <see cref="FuzzWriter"/> places them.</summary>
    public static readonly string[] Fields = ["entityId", "timestamp", "longitude", "latitude", "altitude", "metadataId", "u", "s", "ip", "kind"];

    /// <summary>The table's columns in <see cref="Fields"/> order, for a SELECT.</summary>
    public const string Select = """SELECT entity_id, "timestamp", longitude, latitude, altitude, metadata_id, "u", "s", "ip", "kind" FROM """;
}

/// <summary>Makes random valid rows, leaning on the edges of every type.</summary>
internal sealed class FuzzRowGenerator(Random random)
{
    // Years 1 to 9999: the range of Unix milliseconds the parser takes.
    private const long MinUnixMs = -62135596800000L;
    private const long MaxUnixMs = 253402300799999L;

    private static readonly double[] EdgeDoubles = [0d, -0d, double.Epsilon, -double.Epsilon, 1e-300, -1e-300, 1e308, double.MaxValue, -double.MaxValue, 2.2250738585072014E-308];

    public FuzzRow Next() => new(
        RandomGuid(),
        0, // set by the caller with the text it writes
        Coordinate(180),
        Coordinate(90),
        Maybe(() => random.Next(3) == 0 ? EdgeDoubles[random.Next(EdgeDoubles.Length)] : RandomDouble()),
        Maybe(RandomGuid),
        random.Next(4) switch { 0 => 0u, 1 => uint.MaxValue, _ => (uint)random.NextInt64(0, 1L << 32) },
        Maybe(() => random.Next(4) switch { 0 => int.MinValue, 1 => int.MaxValue, _ => random.Next(int.MinValue, int.MaxValue) }),
        Maybe(() => (uint)random.NextInt64(0, 1L << 32)),
        random.Next(4) == 0 ? null : FuzzRow.Kinds[random.Next(FuzzRow.Kinds.Length)]);

    /// <summary>A timestamp as text in one of the accepted forms, and the UTC ticks (microsecond precision) it means.</summary>
    public (string Text, long UtcTicks) Timestamp()
    {
        if (random.Next(3) == 0)
        {
            var ms = random.Next(5) switch { 0 => MinUnixMs, 1 => MaxUnixMs, 2 => 0, _ => random.NextInt64(MinUnixMs, MaxUnixMs) };
            var sign = ms >= 0 && random.Next(5) == 0 ? "+" : string.Empty;
            return (sign + ms.ToString(System.Globalization.CultureInfo.InvariantCulture), DateTime.UnixEpoch.Ticks + (ms * TimeSpan.TicksPerMillisecond));
        }

        // 1900..2100, any tick; written in local time at a random offset of -14:00..+14:00.
        var utc = new DateTime(1900, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddTicks(random.NextInt64(0, TimeSpan.TicksPerDay * 365 * 200));
        var offset = TimeSpan.FromMinutes(random.Next(-14 * 4, (14 * 4) + 1) * 15);
        var digits = random.Next(8); // 0..7 fraction digits; the 7th (100 ns) is below PostgreSQL's precision, which rounds it
        var local = utc + offset;
        var fraction = digits == 0 ? string.Empty : "." + (local.Ticks % TimeSpan.TicksPerSecond).ToString("D7", System.Globalization.CultureInfo.InvariantCulture)[..digits];
        var written = local.Ticks - (local.Ticks % TimeSpan.TicksPerSecond) + (digits switch
        {
            0 => 0,
            // As PostgreSQL reads it: the fraction as a double, times 1e6, rounded half to even.
            7 => (long)Math.Round(double.Parse(fraction, System.Globalization.CultureInfo.InvariantCulture) * 1_000_000, MidpointRounding.ToEven) * 10,
            _ => long.Parse(fraction[1..].PadRight(7, '0'), System.Globalization.CultureInfo.InvariantCulture),
        });
        var separator = random.Next(3) switch { 0 => "T", 1 => " ", _ => "t" };
        var zone = random.Next(6) switch
        {
            0 => string.Empty,
            1 => "Z",
            2 => "z",
            3 => Offset(offset, ":"),
            4 => Offset(offset, string.Empty),
            _ => offset.Minutes == 0 ? Offset(offset, string.Empty)[..3] : Offset(offset, ":"),
        };
        if (zone.Length <= 1)
        {
            offset = TimeSpan.Zero; // no offset or Z: the written time is UTC
        }

        var text = local.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) + separator + local.ToString("HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + fraction + zone;
        return (text, written - offset.Ticks); // whole microseconds
    }

    private static string Offset(TimeSpan offset, string colon) =>
        (offset < TimeSpan.Zero ? "-" : "+") + Math.Abs(offset.Hours).ToString("D2", System.Globalization.CultureInfo.InvariantCulture) + colon + Math.Abs(offset.Minutes).ToString("D2", System.Globalization.CultureInfo.InvariantCulture);

    private double Coordinate(double limit) => random.Next(6) switch
    {
        0 => limit,
        1 => -limit,
        2 => random.Next(2) == 0 ? double.Epsilon : -0d,
        _ => (random.NextDouble() * 2 * limit) - limit,
    };

    private double RandomDouble() => (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-300, 301));

    private Guid RandomGuid()
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        return new Guid(bytes);
    }

    private T? Maybe<T>(Func<T> make)
        where T : struct => random.Next(4) == 0 ? null : make();
}
