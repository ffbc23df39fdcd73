namespace Ingest.Sources.S3;

/// <summary>
/// Orders strings as people number files: runs of ASCII digits compare by their value (<c>file-2</c> before
/// <c>file-10</c>, <c>file-02</c> beside <c>file-2</c>), everything else ordinally. Ties (<c>a-01</c> and <c>a-1</c>)
/// fall back to the ordinal order, so the order is total and the same on every machine.
/// </summary>
internal sealed class NaturalComparer : IComparer<string>
{
    public static NaturalComparer Instance { get; } = new();

    private NaturalComparer()
    {
    }

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null || y is null)
        {
            return x is null ? -1 : 1;
        }

        int i = 0, j = 0;
        while (i < x.Length && j < y.Length)
        {
            if (char.IsAsciiDigit(x[i]) && char.IsAsciiDigit(y[j]))
            {
                var order = CompareNumbers(x, ref i, y, ref j);
                if (order != 0)
                {
                    return order;
                }

                continue;
            }

            if (x[i] != y[j])
            {
                return x[i].CompareTo(y[j]);
            }

            i++;
            j++;
        }

        var rest = (x.Length - i).CompareTo(y.Length - j);
        return rest != 0 ? rest : string.CompareOrdinal(x, y);
    }

    // Compares the digit runs at i and j by value, without parsing (a run may be longer than any integer type).
    private static int CompareNumbers(string x, ref int i, string y, ref int j)
    {
        var xStart = Skip(x, i, '0');
        var yStart = Skip(y, j, '0');
        var xEnd = SkipDigits(x, xStart);
        var yEnd = SkipDigits(y, yStart);
        var order = (xEnd - xStart).CompareTo(yEnd - yStart);
        if (order == 0)
        {
            order = string.CompareOrdinal(x, xStart, y, yStart, xEnd - xStart);
        }

        i = xEnd;
        j = yEnd;
        return order;
    }

    private static int Skip(string s, int at, char c)
    {
        while (at < s.Length && s[at] == c && at + 1 < s.Length && char.IsAsciiDigit(s[at + 1]))
        {
            at++;
        }

        return at;
    }

    private static int SkipDigits(string s, int at)
    {
        while (at < s.Length && char.IsAsciiDigit(s[at]))
        {
            at++;
        }

        return at;
    }
}
