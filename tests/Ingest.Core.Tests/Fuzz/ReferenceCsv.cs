namespace Ingest.Core.Tests.Fuzz;

/// <summary>
/// An independent RFC 4180 splitter over raw bytes, to count what the engine should read. It works on
/// bytes because a UTF-8 decoder never merges an ASCII byte into a replacement character. Where RFC 4180
/// leaves the outcome to the reader (a quote inside an unquoted field, text after a closing quote, a lone
/// CR), it says so with <see cref="Decided"/> = false instead of guessing.
/// </summary>
internal sealed class ReferenceCsv
{
    private ReferenceCsv()
    {
    }

    /// <summary>The 1-based line where each non-blank record starts, in order.</summary>
    public List<long> RecordLines { get; } = [];

    /// <summary>The line where a quoted field opens that never closes, if any (the file is then an error).</summary>
    public long? UnterminatedAt { get; private set; }

    /// <summary>False when the bytes hold a construct whose reading RFC 4180 does not define.</summary>
    public bool Decided { get; private set; } = true;

    public static ReferenceCsv Split(ReadOnlySpan<byte> b)
    {
        var csv = new ReferenceCsv();
        var i = b.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
        long line = 1;
        while (i < b.Length && csv.Decided)
        {
            var start = line;
            var fields = 0;
            var blank = true;
            while (true)
            {
                fields++;
                if (i < b.Length && b[i] == '"')
                {
                    blank = false;
                    i++;
                    while (true)
                    {
                        if (i >= b.Length)
                        {
                            csv.UnterminatedAt = start;
                            return csv;
                        }

                        if (b[i] == '"')
                        {
                            if (i + 1 < b.Length && b[i + 1] == '"')
                            {
                                i += 2;
                                continue;
                            }

                            i++;
                            break;
                        }

                        line += b[i++] == '\n' ? 1 : 0;
                    }

                    if (i < b.Length && b[i] != ',' && b[i] != '\n' && !(b[i] == '\r' && i + 1 < b.Length && b[i + 1] == '\n'))
                    {
                        csv.Decided = false;
                    }
                }
                else
                {
                    while (i < b.Length && b[i] != ',' && b[i] != '\n' && b[i] != '\r')
                    {
                        csv.Decided &= b[i] != '"';
                        blank = false;
                        i++;
                    }

                    if (i < b.Length && b[i] == '\r' && (i + 1 >= b.Length || b[i + 1] != '\n'))
                    {
                        csv.Decided = false;
                    }
                }

                if (i < b.Length && b[i] == ',')
                {
                    i++;
                    blank = false;
                    continue;
                }

                // End of record: CRLF, LF or the end of the bytes.
                i += i < b.Length && b[i] == '\r' ? 2 : i < b.Length ? 1 : 0;
                line++;
                break;
            }

            if (!(blank && fields == 1))
            {
                csv.RecordLines.Add(start);
            }
        }

        return csv;
    }
}
