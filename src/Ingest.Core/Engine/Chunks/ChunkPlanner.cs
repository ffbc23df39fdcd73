using System.Buffers;
using System.Runtime.CompilerServices;

namespace Ingest.Engine.Chunks;

/// <summary>
/// Cuts an uncompressed local CSV file into chunks on record boundaries, in one pass that follows the quotes as
/// RFC 4180 does: a line end inside a quoted value is no boundary, so a chunk always starts where a record starts.
/// A boundary is placed only after a <c>\n</c> outside quotes, the one line end every CSV style agrees on; a file
/// that ends its records with a lone <c>\r</c> is not cut (the reader and the plan could then count its lines apart).
/// </summary>
internal static class ChunkPlanner
{
    private const int BufferSize = 1 << 20;

    /// <summary>
    /// The chunks of <paramref name="path"/>, about <paramref name="count"/> of them of about equal size; null when the
    /// file cannot be cut (too few records, a lone <c>\r</c> line end, or a read fault, which its load reports).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static IReadOnlyList<Chunk>? Plan(string path, int count)
    {
        if (count < 2)
        {
            return null;
        }

        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            var length = file.Length;
            var targets = new long[count - 1];
            for (var i = 0; i < targets.Length; i++)
            {
                targets[i] = length * (i + 1) / count;
            }

            var starts = new List<(long Offset, long Line)>(count) { (0, 1) };
            var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            try
            {
                long position = 0, line = 1;
                var quoted = false;
                var pendingCr = false;
                var next = 0;
                int read;
                while ((read = file.Read(buffer, 0, BufferSize)) > 0)
                {
                    var span = buffer.AsSpan(0, read);
                    if (pendingCr && span[0] != '\n')
                    {
                        return null; // A lone \r ended a record (at the end of the last buffer).
                    }

                    pendingCr = false;
                    var at = 0;
                    while (at < span.Length)
                    {
                        var hit = span[at..].IndexOfAny((byte)'"', (byte)'\n', (byte)'\r');
                        if (hit < 0)
                        {
                            break;
                        }

                        at += hit;
                        var c = span[at];
                        if (c == '"')
                        {
                            quoted = !quoted; // A doubled quote flips twice: still inside.
                        }
                        else if (c == '\r')
                        {
                            if (!quoted)
                            {
                                if (at + 1 == span.Length)
                                {
                                    pendingCr = true;
                                }
                                else if (span[at + 1] != '\n')
                                {
                                    return null; // A lone \r ended a record.
                                }
                            }
                        }
                        else
                        {
                            line++;
                            var boundary = position + at + 1;
                            if (!quoted && next < targets.Length && boundary >= targets[next] && boundary < length)
                            {
                                starts.Add((boundary, line));
                                while (next < targets.Length && targets[next] <= boundary)
                                {
                                    next++;
                                }
                            }
                        }

                        at++;
                    }

                    position += read;
                }

                if (pendingCr)
                {
                    return null;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            if (starts.Count < 2)
            {
                return null;
            }

            var chunks = new Chunk[starts.Count];
            for (var i = 0; i < chunks.Length; i++)
            {
                var end = i + 1 < starts.Count ? starts[i + 1].Offset : length;
                chunks[i] = new Chunk(i, chunks.Length, starts[i].Offset, end, starts[i].Line);
            }

            return chunks;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // Loaded whole, where its read fault is reported in the usual words.
        }
    }
}
