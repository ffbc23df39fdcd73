using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Ingest.Validation;

/// <summary>
/// Decimal text to <see cref="double"/>, bit-identical to <c>double.Parse(s, NumberStyles.Float, InvariantCulture)</c>.
/// The plain form CSV exports write (<c>[+-]digits[.digits][(e|E)[+-]digits]</c>, at most 19 significant digits)
/// is converted exactly in a few nanoseconds: Clinger's fast path when the digits fit in 53 bits and the power of
/// ten is exact, else Eisel-Lemire (Lemire, "Number Parsing at a Gigabyte per Second", 2021) with a 128-bit
/// power-of-five table. Everything else — whitespace, NaN, Infinity, 20+ significant digits, subnormals,
/// overflow, and the few products Eisel-Lemire cannot decide — goes to <c>double.TryParse</c>, so the result
/// never depends on which path ran. <c>double.TryParse</c> itself costs ~95 ns on a 17-digit value.
/// </summary>
internal static partial class FastDouble
{
    private const int SmallestPowerOfTen = -342;
    private const int LargestPowerOfTen = 308;
    private const int MantissaBits = 52;

    // Exactly representable powers of ten (10^22 < 2^53 * 2^22 and 5^22 < 2^53): one IEEE multiply or divide
    // of two exact operands is correctly rounded.
    private static readonly double[] ExactPowersOfTen =
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];

    /// <summary>Parses like <c>double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value)</c>.</summary>
    public static bool TryParse(ReadOnlySpan<char> s, out double value) =>
        TryParseFast(s, out value) || TryParseSlow(s, out value);

    /// <summary>
    /// The fast path alone: true with the exact value, or false when <paramref name="s"/> is not in the plain form
    /// or needs the slow path (then <paramref name="value"/> means nothing). Internal so tests can see which path ran.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static bool TryParseFast(ReadOnlySpan<char> s, out double value)
    {
        value = 0;
        var i = 0;
        var negative = false;
        if ((uint)i < (uint)s.Length && (s[i] == '-' || s[i] == '+'))
        {
            negative = s[i] == '-';
            i++;
        }

        ulong mantissa = 0;
        var significant = 0;
        var exponent = 0;
        var digitsStart = i;
        while ((uint)i < (uint)s.Length)
        {
            var d = (uint)(s[i] - '0');
            if (d > 9)
            {
                break;
            }

            // Leading zeros are not significant; after the first non-zero digit every digit is.
            if ((mantissa | d) != 0)
            {
                if (++significant > 19)
                {
                    return false;
                }

                mantissa = (mantissa * 10) + d;
            }

            i++;
        }

        var digits = i - digitsStart;
        if ((uint)i < (uint)s.Length && s[i] == '.')
        {
            i++;
            var fractionStart = i;

            // Eight digits at a time once the first significant digit is in: a coordinate's 15-16 fraction digits
            // are two steps instead of a 16-long chain of multiply-adds.
            while (mantissa != 0 && significant <= 19 - 8 && s.Length - i >= 8 && TryEightDigits(s, i, out var eight))
            {
                mantissa = (mantissa * 100_000_000) + eight;
                significant += 8;
                exponent -= 8;
                i += 8;
            }

            while ((uint)i < (uint)s.Length)
            {
                var d = (uint)(s[i] - '0');
                if (d > 9)
                {
                    break;
                }

                if ((mantissa | d) != 0)
                {
                    if (++significant > 19)
                    {
                        return false;
                    }

                    mantissa = (mantissa * 10) + d;
                }

                exponent--;
                i++;
            }

            digits += i - fractionStart;
        }

        if (digits == 0)
        {
            return false;
        }

        if ((uint)i < (uint)s.Length && (s[i] | 0x20) == 'e')
        {
            i++;
            var exponentNegative = false;
            if ((uint)i < (uint)s.Length && (s[i] == '-' || s[i] == '+'))
            {
                exponentNegative = s[i] == '-';
                i++;
            }

            var exponentStart = i;
            var written = 0;
            while ((uint)i < (uint)s.Length)
            {
                var d = (uint)(s[i] - '0');
                if (d > 9)
                {
                    break;
                }

                // Saturates far outside the table's range, where the slow path takes over.
                if (written < 100_000)
                {
                    written = (written * 10) + (int)d;
                }

                i++;
            }

            if (i == exponentStart)
            {
                return false;
            }

            exponent += exponentNegative ? -written : written;
        }

        if (i != s.Length)
        {
            return false;
        }

        if (mantissa == 0)
        {
            value = negative ? -0d : 0d;
            return true;
        }

        // Clinger: both operands exact, so the one rounding of the multiply or divide is the correct rounding.
        if (mantissa <= (1UL << 53) && exponent >= -22 && exponent <= 22)
        {
            double d = mantissa;
            d = exponent < 0 ? d / ExactPowersOfTen[-exponent] : d * ExactPowersOfTen[exponent];
            value = negative ? -d : d;
            return true;
        }

        return TryEiselLemire(mantissa, exponent, negative, out value);
    }

    /// <summary>The eight characters at <paramref name="at"/> as a number, when all are ASCII digits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryEightDigits(ReadOnlySpan<char> s, int at, out uint value)
    {
        var chars = Vector128.LoadUnsafe(ref Unsafe.As<char, ushort>(ref MemoryMarshal.GetReference(s)), (nuint)at);
        var digits = chars - Vector128.Create((ushort)'0');
        if (Vector128.GreaterThanAny(digits, Vector128.Create((ushort)9)))
        {
            value = 0;
            return false;
        }

        // One byte per digit, the first digit in the lowest byte; then the SWAR combination of fast_float:
        // pairs (10a + b), then two 4-digit halves weighted 10^4 and summed in the top 32 bits.
        var bytes = Vector128.Narrow(digits, digits).AsUInt64().ToScalar();
        bytes = (bytes * 10) + (bytes >> 8);
        const ulong mask = 0x000000FF000000FF;
        const ulong mul1 = 0x000F424000000064; // 100 + (1000000 << 32)
        const ulong mul2 = 0x0000271000000001; // 1 + (10000 << 32)
        value = (uint)((((bytes & mask) * mul1) + (((bytes >> 16) & mask) * mul2)) >> 32);
        return true;
    }

    /// <summary>
    /// Eisel-Lemire for <c>w * 10^q</c> with w exact (at most 19 digits) and non-zero. False for subnormal or
    /// infinite results and for products whose truncation could change the rounding.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool TryEiselLemire(ulong w, int q, bool negative, out double value)
    {
        value = 0;
        if (q < SmallestPowerOfTen || q > LargestPowerOfTen)
        {
            return false;
        }

        var leadingZeros = BitOperations.LeadingZeroCount(w);
        w <<= leadingZeros;
        var index = (q - SmallestPowerOfTen) * 2;
        var powers = PowersOfFive;
        var high = Math.BigMul(w, powers[index], out var low);

        // The bits below the 55 we keep (mantissa + hidden bit + rounding bit + a possible leading zero) are all
        // ones: the carry from the low word of 5^q could reach them, so include it.
        const ulong precisionMask = ulong.MaxValue >> (MantissaBits + 3);
        if ((high & precisionMask) == precisionMask)
        {
            var carry = Math.BigMul(w, powers[index + 1], out _);
            low += carry;
            if (carry > low)
            {
                high++;
            }
        }

        // Still ambiguous: only exact when 5^q is (q in [-27, 55]); otherwise let the slow path decide.
        if (low == ulong.MaxValue && (q < -27 || q > 55))
        {
            return false;
        }

        var upperBit = (int)(high >> 63);
        var shift = upperBit + 64 - MantissaBits - 3;
        var mantissa = high >> shift;

        // floor(log2(10^q)) + 63, biased by the double's 1023.
        var power2 = ((217706 * q) >> 16) + 63 + upperBit - leadingZeros + 1023;
        if (power2 <= 0)
        {
            return false;
        }

        // Exactly halfway between two doubles (possible only where 5^q is exact): round to even, i.e. down
        // when the kept mantissa is even.
        if (low <= 1 && q >= -4 && q <= 23 && (mantissa & 3) == 1 && (mantissa << shift) == high)
        {
            mantissa &= ~1UL;
        }

        mantissa += mantissa & 1;
        mantissa >>= 1;
        if (mantissa >= (2UL << MantissaBits))
        {
            mantissa = 1UL << MantissaBits;
            power2++;
        }

        mantissa &= ~(1UL << MantissaBits);
        if (power2 >= 0x7FF)
        {
            return false;
        }

        var bits = mantissa | ((ulong)power2 << MantissaBits) | (negative ? 1UL << 63 : 0);
        value = BitConverter.UInt64BitsToDouble(bits);
        return true;
    }

    /// <summary>The table entry for 5^<paramref name="q"/> (tests check it against the published table).</summary>
    internal static (ulong High, ulong Low) PowerOfFive(int q) =>
        (PowersOfFive[(q - SmallestPowerOfTen) * 2], PowersOfFive[((q - SmallestPowerOfTen) * 2) + 1]);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool TryParseSlow(ReadOnlySpan<char> s, out double value) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
}
