using System.Globalization;
using System.Runtime.CompilerServices;

namespace Ingest.Validation;

/// <summary>Span parsers for the field types of SPEC §1: no string per value, no allocation.</summary>
internal static class ValueParsers
{
    /// <summary>PostgreSQL's timestamp epoch (2000-01-01T00:00:00Z) in .NET ticks.</summary>
    private const long PgEpochTicks = 630822816000000000L;

    /// <summary>Unix epoch in PostgreSQL microseconds (negative: 1970 is before 2000).</summary>
    private const long UnixEpochPgMicros = -946684800000000L;

    // Years 1..9999, the range both .NET and ISO-8601 four-digit years can spell.
    private const long MinUnixMs = -62135596800000L;
    private const long MaxUnixMs = 253402300799999L;

    public static bool TryParseUuid(ReadOnlySpan<char> s, out Guid value)
    {
        // The forms PostgreSQL's uuid type takes: hyphenated, 32 digits, or either in braces; not .NET's own
        // "(...)" and "{0x...,{...}}" forms, which Guid.TryParse would take. Surrounding spaces are trimmed, as for numbers.
        s = s.Trim();
        return s.Length switch
        {
            36 => Guid.TryParseExact(s, "D", out value),
            32 => Guid.TryParseExact(s, "N", out value),
            38 when s[0] == '{' && s[^1] == '}' => Guid.TryParseExact(s, "B", out value),
            34 when s[0] == '{' && s[^1] == '}' => Guid.TryParseExact(s[1..^1], "N", out value),
            _ => Fail(out value),
        };

        static bool Fail(out Guid value)
        {
            value = default;
            return false;
        }
    }

    /// <summary>Parses like <c>double.TryParse(s, NumberStyles.Float, InvariantCulture)</c> (bit for bit), finite values only.</summary>
    public static bool TryParseDouble(ReadOnlySpan<char> s, out double value) =>
        FastDouble.TryParse(s, out value) && double.IsFinite(value);

    /// <summary>Parses a signed integer of any size into a long (so out-of-range can be told from not-a-number).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryParseInteger(ReadOnlySpan<char> s, out long value)
    {
        // [+-]digits with at most 18 digits cannot overflow: the common case skips long.TryParse's
        // style and culture handling. Anything else gets exactly long.TryParse's answer.
        // (A non-digit also goes to long.TryParse: it accepts trailing NUL characters, for one.)
        var i = s.Length > 0 && (s[0] == '-' || s[0] == '+') ? 1 : 0;
        if (s.Length - i is > 0 and <= 18)
        {
            long magnitude = 0;
            var j = i;
            for (; j < s.Length; j++)
            {
                var d = (uint)(s[j] - '0');
                if (d > 9)
                {
                    break;
                }

                magnitude = (magnitude * 10) + d;
            }

            if (j == s.Length)
            {
                value = i == 1 && s[0] == '-' ? -magnitude : magnitude;
                return true;
            }
        }

        return long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>True when <paramref name="s"/> is an integer too long for a long (so "out of range", not "not a number").</summary>
    public static bool IsOverlongInteger(ReadOnlySpan<char> s)
    {
        if (s.Length > 0 && (s[0] == '-' || s[0] == '+'))
        {
            s = s[1..];
        }

        return s.Length > 18 && AllDigits(s);
    }

    /// <summary>
    /// Parses a timestamp: an integer of Unix milliseconds, or ISO-8601 (<c>2024-01-25T15:27:52.302Z</c>,
    /// <c>2024-01-25 15:27:52+01:00</c>, <c>2024-01-25</c>; no offset means UTC). Gives PostgreSQL
    /// microseconds since 2000-01-01 UTC.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryParseTimestamp(ReadOnlySpan<char> s, out long pgMicros)
    {
        pgMicros = 0;
        if (s.IsEmpty)
        {
            return false;
        }

        var digits = s[0] is '-' or '+' ? s[1..] : s;
        if (AllDigits(digits))
        {
            if (!long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ms) || ms < MinUnixMs || ms > MaxUnixMs)
            {
                return false;
            }

            pgMicros = (ms * 1000) + UnixEpochPgMicros;
            return true;
        }

        if (!TryParseIso(s, out var utcTicks))
        {
            return false;
        }

        pgMicros = FloorDiv(utcTicks - PgEpochTicks, TimeSpan.TicksPerMicrosecond);
        return true;
    }

    // MemoryExtensions.ContainsAnyExceptInRange allocates on this runtime (96 B a call, seen by the
    // allocation guard test), so the hot path keeps its own loop.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool AllDigits(ReadOnlySpan<char> s)
    {
        if (s.IsEmpty)
        {
            return false;
        }

        foreach (var c in s)
        {
            if ((uint)(c - '0') > 9)
            {
                return false;
            }
        }

        return true;
    }

    private static long FloorDiv(long a, long b)
    {
        var q = a / b;
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool TryParseIso(ReadOnlySpan<char> s, out long utcTicks)
    {
        utcTicks = 0;

        // yyyy-MM-dd
        if (s.Length < 10 || s[4] != '-' || s[7] != '-'
            || !TwoDigits(s, 5, out var month) || !TwoDigits(s, 8, out var day)
            || !TwoDigits(s, 0, out var c) || !TwoDigits(s, 2, out var y))
        {
            return false;
        }

        var year = (c * 100) + y;
        if (year < 1 || month < 1 || month > 12 || day < 1 || day > DateTime.DaysInMonth(year, month))
        {
            return false;
        }

        long ticks = new DateTime(year, month, day, 0, 0, 0, DateTimeKind.Utc).Ticks;
        var i = 10;
        if (i < s.Length && (s[i] == 'T' || s[i] == 't' || s[i] == ' '))
        {
            i++;
            if (!TwoDigits(s, i, out var hour) || i + 2 >= s.Length || s[i + 2] != ':' || !TwoDigits(s, i + 3, out var minute) || hour > 24 || minute > 59)
            {
                return false;
            }

            i += 5;
            var second = 0;
            long fractionTicks = 0;
            if (i < s.Length && s[i] == ':')
            {
                if (!TwoDigits(s, i + 1, out second) || second > 60)
                {
                    return false;
                }

                i += 3;
                if (i < s.Length && (s[i] == '.' || s[i] == ','))
                {
                    i++;
                    var start = i;
                    long fraction = 0;
                    var scale = TimeSpan.TicksPerSecond;
                    while (i < s.Length && char.IsAsciiDigit(s[i]))
                    {
                        if (scale > 10)
                        {
                            scale /= 10;
                            fraction += (s[i] - '0') * scale;
                        }

                        i++;
                    }

                    if (i == start)
                    {
                        return false;
                    }

                    fractionTicks = i - start <= 6 ? fraction : RoundedMicros(s[start..i]) * TimeSpan.TicksPerMicrosecond;
                }
            }

            // PostgreSQL takes 24:00:00 (the end of the day) and a leap second :60 as the instants they add up to,
            // as long as the time of day, fraction rounded to the microsecond included, is not past 24:00:00.
            var timeOfDay = (hour * TimeSpan.TicksPerHour) + (minute * TimeSpan.TicksPerMinute) + (second * TimeSpan.TicksPerSecond) + fractionTicks;
            if (timeOfDay > TimeSpan.TicksPerDay || (hour == 24 && timeOfDay != TimeSpan.TicksPerDay))
            {
                return false;
            }

            ticks += timeOfDay;
        }

        if (i < s.Length)
        {
            if (!TryParseOffset(s[i..], out var offsetTicks))
            {
                return false;
            }

            ticks -= offsetTicks;
        }

        utcTicks = ticks;
        return true;
    }

    // More than 6 fractional digits: rounded to the microsecond as PostgreSQL rounds them (its input
    // functions read the fraction with strtod and round fraction * 1e6 half to even with rint), so a
    // value loads as the same instant as through psql. 0.9999995 rounds up to the next second.
    private static long RoundedMicros(ReadOnlySpan<char> digits)
    {
        Span<char> text = stackalloc char[41];
        text[0] = '.';
        var length = Math.Min(digits.Length, text.Length - 1);
        digits[..length].CopyTo(text[1..]);
        var fraction = double.Parse(text[..(length + 1)], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        return (long)Math.Round(fraction * 1_000_000, MidpointRounding.ToEven);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool TryParseOffset(ReadOnlySpan<char> s, out long offsetTicks)
    {
        offsetTicks = 0;
        if (s.Length == 1 && (s[0] == 'Z' || s[0] == 'z'))
        {
            return true;
        }

        if (s.Length < 3 || (s[0] != '+' && s[0] != '-') || !TwoDigits(s, 1, out var hours) || hours > 14)
        {
            return false;
        }

        var minutes = 0;
        var rest = s[3..];
        if (rest.Length == 3 && rest[0] == ':')
        {
            rest = rest[1..];
        }

        if (rest.Length == 2)
        {
            if (!TwoDigits(rest, 0, out minutes) || minutes > 59)
            {
                return false;
            }
        }
        else if (rest.Length != 0)
        {
            return false;
        }

        offsetTicks = (hours * TimeSpan.TicksPerHour) + (minutes * TimeSpan.TicksPerMinute);
        if (s[0] == '-')
        {
            offsetTicks = -offsetTicks;
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TwoDigits(ReadOnlySpan<char> s, int at, out int value)
    {
        value = 0;
        if ((uint)(at + 1) >= (uint)s.Length)
        {
            return false;
        }

        var a = (uint)(s[at] - '0');
        var b = (uint)(s[at + 1] - '0');
        if (a > 9 || b > 9)
        {
            return false;
        }

        value = (int)((a * 10) + b);
        return true;
    }

    /// <summary>Parses a dotted-quad IPv4 address (<c>192.168.0.1</c>; each part 0..255, at most 3 digits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryParseIPv4(ReadOnlySpan<char> s, out uint address)
    {
        address = 0;
        var part = 0;
        var digits = 0;
        var value = 0;
        foreach (var ch in s)
        {
            if (ch == '.')
            {
                if (digits == 0 || part == 3)
                {
                    return false;
                }

                address = (address << 8) | (uint)value;
                part++;
                digits = 0;
                value = 0;
                continue;
            }

            var d = (uint)(ch - '0');
            if (d > 9 || ++digits > 3)
            {
                return false;
            }

            value = (value * 10) + (int)d;
            if (value > 255)
            {
                return false;
            }
        }

        if (part != 3 || digits == 0)
        {
            return false;
        }

        address = (address << 8) | (uint)value;
        return true;
    }
}
