using Ingest.Validation;

namespace Ingest.Core.Tests.Validation;

public sealed class ValueParsersTests
{
    private static readonly DateTimeOffset PgEpoch = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static DateTimeOffset FromPg(long micros) => PgEpoch.AddTicks(micros * 10);

    [Theory]
    [InlineData("1706196472302", "2024-01-25T15:27:52.302Z")]
    [InlineData("0", "1970-01-01T00:00:00.000Z")]
    [InlineData("-1000", "1969-12-31T23:59:59.000Z")]
    [InlineData("2024-01-25T15:27:52.302Z", "2024-01-25T15:27:52.302Z")]
    [InlineData("2024-01-25T15:27:52.302", "2024-01-25T15:27:52.302Z")]
    [InlineData("2024-01-25 15:27:52", "2024-01-25T15:27:52.000Z")]
    [InlineData("2024-01-25T16:27:52.302+01:00", "2024-01-25T15:27:52.302Z")]
    [InlineData("2024-01-25T10:27:52.302-0500", "2024-01-25T15:27:52.302Z")]
    [InlineData("2024-01-25T15:27Z", "2024-01-25T15:27:00.000Z")]
    [InlineData("2024-01-25", "2024-01-25T00:00:00.000Z")]
    [InlineData("2024-02-29T23:59:59.9999999Z", "2024-03-01T00:00:00Z")]
    public void Timestamps_parse_as_unix_milliseconds_or_iso8601_with_utc_default(string text, string expected)
    {
        Assert.True(ValueParsers.TryParseTimestamp(text, out var micros));
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture).UtcTicks / 10000, FromPg(micros).UtcTicks / 10000);
    }

    [Theory]
    [InlineData("")]
    [InlineData("yesterday")]
    [InlineData("2024-13-01")]
    [InlineData("2023-02-29")]
    [InlineData("2024-01-25T25:00:00Z")]
    [InlineData("2024-01-25T15:27:52.Z")]
    [InlineData("2024-01-25T15:27:52+1:00")]
    [InlineData("2024-01-25X")]
    [InlineData("99999999999999999999")]
    [InlineData("1/25/2024")]
    public void Bad_timestamps_are_rejected(string text) => Assert.False(ValueParsers.TryParseTimestamp(text, out _));

    [Theory]
    [InlineData("0.0.0.0", 0u)]
    [InlineData("192.168.0.1", 0xC0A80001u)]
    [InlineData("255.255.255.255", 0xFFFFFFFFu)]
    public void IPv4_dotted_quads_parse(string text, uint expected)
    {
        Assert.True(ValueParsers.TryParseIPv4(text, out var address));
        Assert.Equal(expected, address);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1.2.3")]
    [InlineData("1.2.3.4.5")]
    [InlineData("256.1.1.1")]
    [InlineData("1..2.3")]
    [InlineData("1.2.3.")]
    [InlineData("a.b.c.d")]
    [InlineData("1234.1.1.1")]
    [InlineData("::1")]
    public void Bad_IPv4_is_rejected(string text) => Assert.False(ValueParsers.TryParseIPv4(text, out _));

    [Theory]
    [InlineData("1.5", 1.5)]
    [InlineData("-180", -180d)]
    [InlineData("1e3", 1000d)]
    public void Doubles_parse_invariantly(string text, double expected)
    {
        Assert.True(ValueParsers.TryParseDouble(text, out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("1,5")]
    [InlineData("abc")]
    public void Non_finite_or_malformed_doubles_are_rejected(string text) => Assert.False(ValueParsers.TryParseDouble(text, out _));

    [Fact]
    public void Overlong_integers_are_told_apart_from_garbage()
    {
        Assert.True(ValueParsers.IsOverlongInteger("99999999999999999999999"));
        Assert.False(ValueParsers.IsOverlongInteger("12x"));
    }

    [Theory]
    [InlineData("3c1243c4-a532-4487-9662-5655a23dec3a")]
    [InlineData("3C1243C4-A532-4487-9662-5655A23DEC3A")]
    [InlineData("3c1243c4a532448796625655a23dec3a")]
    [InlineData("{3c1243c4-a532-4487-9662-5655a23dec3a}")]
    [InlineData("{3c1243c4a532448796625655a23dec3a}")]
    [InlineData(" 3c1243c4-a532-4487-9662-5655a23dec3a ")]
    public void Uuids_parse_in_the_forms_postgresql_takes(string text)
    {
        Assert.True(ValueParsers.TryParseUuid(text, out var value));
        Assert.Equal(Guid.Parse("3c1243c4-a532-4487-9662-5655a23dec3a"), value);
    }

    [Theory]
    [InlineData("(3c1243c4-a532-4487-9662-5655a23dec3a)")]
    [InlineData("{0x3c1243c4,0xa532,0x4487,{0x96,0x62,0x56,0x55,0xa2,0x3d,0xec,0x3a}}")]
    [InlineData("urn:uuid:3c1243c4-a532-4487-9662-5655a23dec3a")]
    [InlineData("3c1243c4-a532-4487-9662-5655a23dec3")]
    [InlineData("{3c1243c4-a532-4487-9662-5655a23dec3a")]
    [InlineData("")]
    public void Uuids_in_other_forms_are_not_uuids(string text) => Assert.False(ValueParsers.TryParseUuid(text, out _));
}
