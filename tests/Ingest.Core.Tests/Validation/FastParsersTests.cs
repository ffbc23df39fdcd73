using System.Globalization;
using Ingest.Validation;

namespace Ingest.Core.Tests.Validation;

/// <summary>
/// The fast integer path and the enum lookup give exactly the BCL's answers (success and value) on seeded random
/// inputs, well-formed and corrupted.
/// </summary>
public sealed class FastParsersTests
{
    private const int Seed = 20261130;

    // Characters a corrupted field may get: digits, letters, signs, separators, whitespace, NUL and non-ASCII.
    private const string Corruptions = "0123456789abcdefABCDEFgGxX+-{}() \t\0,.é０";

    [Theory]
    [InlineData("0")]
    [InlineData("-0")]
    [InlineData("+7")]
    [InlineData("-7")]
    [InlineData("42")]
    [InlineData("000000000000000042")]
    [InlineData("999999999999999999")]
    [InlineData("-999999999999999999")]
    [InlineData("9223372036854775807")]
    [InlineData("-9223372036854775808")]
    [InlineData("9223372036854775808")]
    [InlineData("-9223372036854775809")]
    [InlineData("99999999999999999999999")]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("+")]
    [InlineData("--1")]
    [InlineData("1.5")]
    [InlineData("1e3")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("1\0")]
    [InlineData("12\0\0")]
    [InlineData("0x10")]
    [InlineData("１")]
    [InlineData("1,000")]
    public void Integer_edge_cases_match_long_parse(string text) => AssertSameInteger(text);

    [Fact]
    public void Seeded_random_integers_match_long_parse()
    {
        var random = new Random(Seed);
        var buffer = new char[24];
        for (var i = 0; i < 300_000; i++)
        {
            var at = 0;
            switch (random.Next(4))
            {
                case 0: buffer[at++] = '-'; break;
                case 1: buffer[at++] = '+'; break;
            }

            var digits = random.Next(1, 22);
            for (var d = 0; d < digits; d++)
            {
                buffer[at++] = (char)('0' + random.Next(10));
            }

            if (random.Next(10) == 0)
            {
                buffer[random.Next(at)] = Corruptions[random.Next(Corruptions.Length)];
            }

            AssertSameInteger(new string(buffer, 0, at));
        }
    }

    [Theory]
    [InlineData(3)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(40)]
    public void Enum_lookup_finds_exactly_its_values_by_ordinal_comparison(int count)
    {
        var values = Enumerable.Range(0, count).Select(i => (i % 4) switch
        {
            0 => $"value{i}",
            1 => $"Wert ä{i}",
            2 => $"v{i}",
            _ => $"{i} with spaces",
        }).ToList();
        values.Add(values[0]); // duplicates in the schema are harmless
        var lookup = new EnumLookup(values);

        Assert.Equal(values.Max(v => System.Text.Encoding.UTF8.GetByteCount(v)), lookup.MaxBytes);
        foreach (var value in values)
        {
            Assert.True(lookup.TryGetValue(value.ToCharArray(), out var bytes));
            Assert.Equal(System.Text.Encoding.UTF8.GetBytes(value), bytes);
            foreach (var other in new[] { value.ToUpperInvariant(), value + "x", value[1..], value[..^1] })
            {
                Assert.Equal(values.Contains(other), lookup.TryGetValue(other, out _));
            }
        }

        Assert.False(lookup.TryGetValue("", out _));
        Assert.False(lookup.TryGetValue("kale", out _));
    }

    private static void AssertSameInteger(string text)
    {
        var expectedOk = long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var expected);
        Assert.True(expectedOk == ValueParsers.TryParseInteger(text, out var actual), text);
        Assert.Equal(expected, actual);
    }
}
