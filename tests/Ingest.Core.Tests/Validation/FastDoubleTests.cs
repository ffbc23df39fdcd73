using System.Globalization;
using System.Numerics;
using Ingest.Validation;

namespace Ingest.Core.Tests.Validation;

/// <summary>
/// <see cref="FastDouble"/> must give exactly what <c>double.TryParse(s, NumberStyles.Float, InvariantCulture)</c>
/// gives — the same success and the same bits — for every input, whichever of its paths runs. Seeded, so a failure
/// names an input that reproduces.
/// </summary>
public sealed class FastDoubleTests
{
    private const int Seed = 20261130;

    [Theory]
    [InlineData("0")]
    [InlineData("-0")]
    [InlineData("+0")]
    [InlineData("0.0")]
    [InlineData("-0.0")]
    [InlineData("-0e-5")]
    [InlineData("0e999999999")]
    [InlineData("000000000000000000000000000000.000000000000000000000000")]
    [InlineData("1")]
    [InlineData("-1")]
    [InlineData(".5")]
    [InlineData("-.5")]
    [InlineData("+.5")]
    [InlineData("5.")]
    [InlineData("5.e3")]
    [InlineData("1.e5")]
    [InlineData(".5e-3")]
    [InlineData("1E5")]
    [InlineData("1e+5")]
    [InlineData("1e-0")]
    [InlineData("4.35")]
    [InlineData("50.85")]
    [InlineData("4.3912345678901234")]
    [InlineData("50.912345678901236")]
    [InlineData("-179.99999999999997")]
    [InlineData("0.1")]
    [InlineData("0.3")]
    [InlineData("1e22")]
    [InlineData("1e23")]
    [InlineData("9007199254740991")] // 2^53 - 1
    [InlineData("9007199254740992")] // 2^53
    [InlineData("9007199254740993")] // halfway between 2^53 and 2^53 + 2: to even (down)
    [InlineData("9007199254740995")] // halfway: to even (up)
    [InlineData("9007199254740993.0000001")]
    [InlineData("9007199254740992.9999999")]
    [InlineData("18014398509481989")] // 2^54 + 5: past the halfway point
    [InlineData("9223372036854775807")]
    [InlineData("9223372036854775808")]
    [InlineData("18446744073709551615")]
    [InlineData("18446744073709551616")]
    [InlineData("9999999999999999999")]
    [InlineData("99999999999999999999")]
    [InlineData("1.7976931348623157e308")] // double.MaxValue
    [InlineData("1.7976931348623158e308")] // rounds to MaxValue
    [InlineData("1.7976931348623159e308")] // infinity
    [InlineData("1e308")]
    [InlineData("1e309")]
    [InlineData("-1e309")]
    [InlineData("2.2250738585072014e-308")] // smallest normal
    [InlineData("2.2250738585072011e-308")] // largest subnormal region
    [InlineData("2.2250738585072012e-308")]
    [InlineData("4.9406564584124654e-324")] // smallest subnormal
    [InlineData("2.4703282292062327e-324")] // just below half of it: zero
    [InlineData("2.4703282292062328e-324")] // just above: the smallest subnormal
    [InlineData("1e-342")]
    [InlineData("1e-343")]
    [InlineData("1e-400")]
    [InlineData("1234567890123456789e-342")]
    [InlineData("1234567890123456789e289")]
    [InlineData("1234567890123456789e290")]
    [InlineData("0.000000000000000000000000000000001")]
    [InlineData("123456789012345678901234567890")]
    [InlineData("1.00000000000000000000000000000000000000001")]
    [InlineData("00000000000000000000000000001.5")]
    [InlineData("1e0000000000000000000000000000001")]
    [InlineData("1e-99999999999")]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("+")]
    [InlineData(".")]
    [InlineData("-.")]
    [InlineData("e5")]
    [InlineData(".e5")]
    [InlineData("1e")]
    [InlineData("1e+")]
    [InlineData("1e-")]
    [InlineData("1e+-5")]
    [InlineData("--1")]
    [InlineData("+-1")]
    [InlineData("1..2")]
    [InlineData("1.2.3")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("\t1.5\n")]
    [InlineData("1\0")]
    [InlineData("1.5\0\0")]
    [InlineData("NaN")]
    [InlineData("nan")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("∞")]
    [InlineData("1,5")]
    [InlineData("1,000.5")]
    [InlineData("1_000")]
    [InlineData("0x10")]
    [InlineData("１")] // full-width digit
    [InlineData("1d")]
    [InlineData("1f")]
    public void Edge_cases_match_double_parse(string text) => AssertSame(text);

    [Fact]
    public void Plain_values_up_to_19_digits_take_the_fast_path()
    {
        // The speed-up is only real if the values CSV exports write never reach double.TryParse.
        var random = new Random(Seed);
        Span<char> buffer = stackalloc char[64];
        for (var i = 0; i < 10_000; i++)
        {
            var value = (random.NextDouble() * 360) - 180;
            Assert.True(value.TryFormat(buffer, out var n, "R", CultureInfo.InvariantCulture));
            Assert.True(FastDouble.TryParseFast(buffer[..n], out _), buffer[..n].ToString());
        }

        foreach (var text in new[] { "4.35", "-0", "1e22", "9007199254740993", "1234567890123456789e-300", "50.912345678901236" })
        {
            Assert.True(FastDouble.TryParseFast(text, out _), text);
        }
    }

    [Fact]
    public void The_power_of_five_table_matches_the_published_one()
    {
        // Entries of the table in Lemire's paper and fast_float (high, low).
        (int Q, ulong High, ulong Low)[] published =
        [
            (-342, 0xeef453d6923bd65a, 0x113faa2906a13b3f),
            (-327, 0xd43bf0effdc0ba48, 0x0212bd1b2566def2),
            (-251, 0x92a1958a7675175f, 0x0bfacd89ec191ec9),
            (-64, 0xa87fea27a539e9a5, 0x3f2398d747b36224),
            (-28, 0xfd87b5f28300ca0d, 0x8bca9d6e188853fc),
            (-27, 0x9e74d1b791e07e48, 0x775ea264cf55347e),
            (-17, 0xb877aa3236a4b449, 0x09befeb9fad487c3),
            (-1, 0xcccccccccccccccc, 0xcccccccccccccccd),
            (0, 0x8000000000000000, 0),
            (1, 0xa000000000000000, 0),
            (27, 0xcecb8f27f4200f3a, 0),
            (28, 0x813f3978f8940984, 0x4000000000000000),
            (55, 0xd0cf4b50cfe20765, 0xfff4b4e3f741cf6d),
            (123, 0xc1a12d2fc3978937, 0x0052d6b1641c83ae),
            (179, 0xc56baec21c7a1916, 0x088aaa1845b8fdd0),
        ];
        foreach (var (q, high, low) in published)
        {
            Assert.Equal((high, low), FastDouble.PowerOfFive(q));
        }
    }

    [Fact]
    public void Every_entry_of_the_written_out_power_of_five_table_is_what_big_integers_give()
    {
        // The table is source text (computing it at startup cost a fresh process tens of milliseconds): every entry is
        // checked against the definition, for q >= 0 the top 128 bits of 5^q, for q < 0 floor(2^b / 5^-q) + 1 in 128 bits.
        var two128 = BigInteger.One << 128;
        for (var q = -342; q <= 308; q++)
        {
            BigInteger c;
            if (q >= 0)
            {
                c = BigInteger.Pow(5, q);
                var bits = (int)c.GetBitLength();
                c = bits < 128 ? c << (128 - bits) : c >> (bits - 128);
            }
            else
            {
                var power5 = BigInteger.Pow(5, -q);
                var z = (int)power5.GetBitLength();
                var b = q >= -27 ? z + 127 : (2 * z) + 128;
                c = (BigInteger.One << b) / power5 + 1;
                while (c >= two128)
                {
                    c >>= 1;
                }
            }

            Assert.Equal(((ulong)(c >> 64), (ulong)(c & ulong.MaxValue)), FastDouble.PowerOfFive(q));
        }
    }

    [Fact]
    public void Millions_of_seeded_random_inputs_match_double_parse_bit_for_bit()
    {
        var random = new Random(Seed);
        var failures = new List<string>();
        var buffer = new char[96];
        var fast = 0;

        // Random digit strings: 1-20 digits, leading zeros, decimal point anywhere (or none), signs, exponents.
        for (var i = 0; i < 1_500_000; i++)
        {
            var n = WriteRandomDecimal(random, buffer);
            Check(buffer.AsSpan(0, n), failures, ref fast);
        }

        // 16-19 significant digits across the whole exponent range: every entry of the power-of-five table.
        for (var i = 0; i < 500_000; i++)
        {
            var n = WriteLongMantissa(random, buffer);
            Check(buffer.AsSpan(0, n), failures, ref fast);
        }

        // Round trips of random doubles (any bit pattern, and the range of coordinates), in several formats.
        string[] formats = ["R", "R", "G17", "E16", "G15", "F6"];
        for (var i = 0; i < 1_000_000; i++)
        {
            var value = (i & 1) == 0
                ? BitConverter.Int64BitsToDouble(random.NextInt64(long.MinValue, long.MaxValue))
                : ((random.NextDouble() * 360) - 180) * Math.Pow(10, random.Next(-5, 6));
            if (!double.IsFinite(value) || !value.TryFormat(buffer, out var n, formats[i % formats.Length], CultureInfo.InvariantCulture))
            {
                continue;
            }

            Check(buffer.AsSpan(0, n), failures, ref fast);
        }

        // Exact halfway points between neighbouring doubles (and one off either side), where rounding to even decides.
        for (var i = 0; i < 300_000; i++)
        {
            var n = WriteNearHalfway(random, buffer);
            Check(buffer.AsSpan(0, n), failures, ref fast);
        }

        Assert.True(failures.Count == 0, $"{failures.Count} inputs differ from double.Parse (seed {Seed}), e.g.:\n{string.Join("\n", failures.Take(20))}");
        Assert.True(fast > 2_000_000, $"only {fast} inputs took the fast path: the property test no longer exercises it");
    }

    private static void AssertSame(string text)
    {
        var expectedOk = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var expected);
        var ok = FastDouble.TryParse(text, out var actual);
        Assert.Equal(expectedOk, ok);
        if (ok)
        {
            Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(actual));
        }

        Assert.Equal(expectedOk && double.IsFinite(expected), ValueParsers.TryParseDouble(text, out var checkedValue));
        if (expectedOk && double.IsFinite(expected))
        {
            Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(checkedValue));
        }
    }

    private static void Check(ReadOnlySpan<char> s, List<string> failures, ref int fast)
    {
        var expectedOk = double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var expected);
        var ok = FastDouble.TryParse(s, out var actual);
        if (ok != expectedOk || (ok && BitConverter.DoubleToInt64Bits(expected) != BitConverter.DoubleToInt64Bits(actual)))
        {
            if (failures.Count < 100)
            {
                failures.Add($"'{s}': double.Parse {expectedOk} {expected:R} (0x{BitConverter.DoubleToInt64Bits(expected):x16}), FastDouble {ok} {actual:R} (0x{BitConverter.DoubleToInt64Bits(actual):x16})");
            }
            else
            {
                failures.Add(string.Empty);
            }
        }

        if (FastDouble.TryParseFast(s, out _))
        {
            fast++;
        }
    }

    private static int WriteRandomDecimal(Random random, char[] buffer)
    {
        var at = 0;
        switch (random.Next(4))
        {
            case 0: buffer[at++] = '-'; break;
            case 1: buffer[at++] = '+'; break;
        }

        var leadingZeros = random.Next(4) == 0 ? random.Next(1, 4) : 0;
        var digits = random.Next(1, 21);
        var total = leadingZeros + digits;
        var point = random.Next(3) == 0 ? -1 : random.Next(0, total + 1);
        var tail = random.Next(8) switch
        {
            0 => '0',
            1 => '9',
            _ => '\0',
        };
        var tailFrom = random.Next(1, digits + 1);
        for (var d = 0; d < total; d++)
        {
            if (d == point)
            {
                buffer[at++] = '.';
            }

            var k = d - leadingZeros;
            buffer[at++] = k < 0 ? '0' : (tail != '\0' && k >= tailFrom) ? tail : (char)('0' + random.Next(10));
        }

        if (point == total)
        {
            buffer[at++] = '.';
        }

        if (random.Next(2) == 0)
        {
            buffer[at++] = random.Next(2) == 0 ? 'e' : 'E';
            switch (random.Next(3))
            {
                case 0: buffer[at++] = '-'; break;
                case 1: buffer[at++] = '+'; break;
            }

            var exponent = random.Next(6) switch
            {
                0 => random.Next(0, 100_000),
                1 or 2 => random.Next(0, 400),
                _ => random.Next(0, 30),
            };
            exponent.TryFormat(buffer.AsSpan(at), out var n, default, CultureInfo.InvariantCulture);
            at += n;
        }

        return at;
    }

    private static int WriteLongMantissa(Random random, char[] buffer)
    {
        var at = 0;
        if (random.Next(2) == 0)
        {
            buffer[at++] = '-';
        }

        var digits = random.Next(16, 20);
        buffer[at++] = (char)('1' + random.Next(9));
        for (var d = 1; d < digits; d++)
        {
            buffer[at++] = (char)('0' + random.Next(10));
        }

        buffer[at++] = 'e';
        var exponent = random.Next(-342 - 5, 308 + 5);
        exponent.TryFormat(buffer.AsSpan(at), out var n, default, CultureInfo.InvariantCulture);
        return at + n;
    }

    private static int WriteNearHalfway(Random random, char[] buffer)
    {
        // Doubles in [2^k, 2^(k+1)) for k in 53..62 are integers spaced 2^(k-52) apart; their midpoints are
        // integers of 16-19 digits. Scaled by 10^e they stay exact in w * 10^q, which is where Eisel-Lemire
        // must round to even.
        if (random.Next(3) == 0)
        {
            // Below 2^53 the doubles are m / 2^j (m of 53 bits) and their midpoints (2m + 1) / 2^(j + 1): exact
            // as decimals with j + 1 fraction digits.
            var j = random.Next(1, 4);
            var m = (1L << 52) + random.NextInt64(0, 1L << 52);
            var half = ((2m * m) + 1 + random.Next(-1, 2)) / (decimal)(1 << (j + 1));
            half.TryFormat(buffer, out var written, default, CultureInfo.InvariantCulture);
            return written;
        }

        var k = random.Next(53, 63);
        var spacing = 1UL << (k - 52);
        var below = (1UL << k) + (spacing * (ulong)random.NextInt64(0, 1L << 52));
        var midpoint = below + (spacing / 2) + (ulong)random.Next(-1, 2);
        midpoint.TryFormat(buffer, out var n, default, CultureInfo.InvariantCulture);
        var at = n;
        var scale = random.Next(4);
        if (scale != 0)
        {
            buffer[at++] = 'e';
            var exponent = scale == 1 ? random.Next(-30, 31) : random.Next(-4, 24);
            exponent.TryFormat(buffer.AsSpan(at), out n, default, CultureInfo.InvariantCulture);
            at += n;
        }

        return at;
    }
}
