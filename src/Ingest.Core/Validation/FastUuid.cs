using System.Runtime.CompilerServices;

namespace Ingest.Validation;

/// <summary>
/// UUID text to <see cref="Guid"/>, the same as <see cref="Guid.TryParse(ReadOnlySpan{char}, out Guid)"/>: the
/// 36-character hyphenated form every CSV export writes is decoded here with a hex table (~3x faster than the
/// BCL's format detection); any other form (braces, no hyphens, whitespace, bad digits) goes to
/// <c>Guid.TryParse</c>, so the result never depends on which path ran.
/// </summary>
internal static class FastUuid
{
    /// <summary>Hex digit values of the ASCII range, -1 for anything else.</summary>
    private static ReadOnlySpan<sbyte> HexValues =>
    [
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -1, -1, -1, -1, -1,
        -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    ];

    /// <summary>Parses like <c>Guid.TryParse(s, out value)</c>.</summary>
    public static bool TryParse(ReadOnlySpan<char> s, out Guid value) =>
        TryParseHyphenated(s, out value) || TryParseSlow(s, out value);

    /// <summary>The fast path alone: xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, either case. Internal for tests.</summary>
    internal static bool TryParseHyphenated(ReadOnlySpan<char> s, out Guid value)
    {
        value = default;
        if (s.Length != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
        {
            return false;
        }

        // Each Hex is -1 for a bad digit, so OR-ing them all leaves the sign bit set if any was bad.
        var a0 = Hex(s, 0);
        var a1 = Hex(s, 4);
        var b = Hex(s, 9);
        var c = Hex(s, 14);
        var d = Hex(s, 19);
        var e0 = Hex(s, 24);
        var e1 = Hex(s, 28);
        var e2 = Hex(s, 32);
        if ((a0 | a1 | b | c | d | e0 | e1 | e2) < 0)
        {
            return false;
        }

        value = new Guid(
            (uint)((a0 << 16) | a1), (ushort)b, (ushort)c,
            (byte)(d >> 8), (byte)d, (byte)(e0 >> 8), (byte)e0, (byte)(e1 >> 8), (byte)e1, (byte)(e2 >> 8), (byte)e2);
        return true;
    }

    /// <summary>Four hex digits at <paramref name="at"/> as 0..0xFFFF, or negative when one is not a hex digit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Hex(ReadOnlySpan<char> s, int at)
    {
        var chunk = s.Slice(at, 4);
        return (Digit(chunk[0]) << 12) | (Digit(chunk[1]) << 8) | (Digit(chunk[2]) << 4) | Digit(chunk[3]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Digit(char c) => c < 128 ? HexValues[c] : -1;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool TryParseSlow(ReadOnlySpan<char> s, out Guid value) => Guid.TryParse(s, out value);
}
