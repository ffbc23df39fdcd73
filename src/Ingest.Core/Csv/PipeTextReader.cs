using System.Runtime.CompilerServices;
using System.Buffers;
using System.IO.Pipelines;
using System.Text;

namespace Ingest.Csv;

/// <summary>
/// A <see cref="TextReader"/> that decodes UTF-8 straight out of a <see cref="PipeReader"/>'s buffers
/// into the caller's char buffer: no intermediate byte buffer, no allocation per read (the stream
/// adapter of <c>PipeReader.AsStream()</c> plus a <see cref="StreamReader"/> allocated about 1 KB per
/// 64 KB read, which the hot-path allocation guard caught). A UTF-8 byte order mark is skipped;
/// invalid UTF-8 becomes U+FFFD, so such values fail validation instead of failing the file.
/// Blocking by design: it runs on a stream worker's own thread.
/// </summary>
internal sealed class PipeTextReader(PipeReader reader, Action? fill = null) : TextReader
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    private readonly Decoder _decoder = Utf8.GetDecoder();
    private readonly ManualResetEventSlim _ready = new(initialState: false);
    private Action? _signal;
    private bool _started;
    private bool _done;
    private char? _pending;

    /// <summary>The array of the last read, or null when the last read was into a span: the CSV reader's error
    /// reporting finds the failed record in it (Sylvan reads only into the buffer it parses from).</summary>
    public char[]? LastBuffer { get; private set; }

    /// <summary>Where the text read so far ends in <see cref="LastBuffer"/>.</summary>
    public int LastBufferEnd { get; private set; }

    /// <summary>Chars read so far.</summary>
    public long CharsRead { get; private set; }

    /// <summary>The place in the text of <see cref="LastBuffer"/>'s first char.</summary>
    public long LastBufferStartChar => CharsRead - LastBufferEnd;

    /// <summary>
    /// True when the text begins with a line end this reader put there (<see cref="FirstRead"/>): the first record the
    /// CSV reader returns is that blank line, not a line of the file.
    /// </summary>
    public bool LeadingNewline { get; private set; }

    public override int Read(char[] buffer, int index, int count)
    {
        var read = FirstRead(buffer.AsSpan(index, count));
        CharsRead += read;
        LastBuffer = buffer;
        LastBufferEnd = index + read;
        return read;
    }

    public override int Read(Span<char> buffer)
    {
        var read = FirstRead(buffer);
        CharsRead += read;
        LastBuffer = null;
        return read;
    }

    /// <summary>
    /// Sylvan 1.4.4 takes a file's line ends from the first CR or LF of its first read, quotes or not: a lone CR there
    /// makes it read CR as the only line end for the whole file (old Mac files), and LF as data. A quoted CR in the
    /// first record (a value with a line break typed on a Mac, say) then turned the rest of an LF file into fields of
    /// a few huge records: rows lost without an error. The first read is decoded one char in and looked at as Sylvan
    /// will: when its first line end is a lone CR that is not where the first record really ends (it is quoted, or the
    /// record ends at an LF), an LF goes in front, so Sylvan reads LF and CR LF line ends; the CSV reader skips that
    /// blank line. A file whose records do end in a lone CR is left to Sylvan's old-Mac reading.
    /// </summary>
    private int FirstRead(Span<char> buffer)
    {
        if (_firstReadDone)
        {
            return Decode(buffer);
        }

        _firstReadDone = true;
        if (buffer.Length < 2)
        {
            return Decode(buffer); // No room to look: never put a line end anywhere but at the very start.
        }

        var read = Decode(buffer[1..]);
        var text = buffer.Slice(1, read);
        if (read > 0 && FirstLineEndMisleads(text))
        {
            buffer[0] = '\n';
            LeadingNewline = true;
            return read + 1;
        }

        text.CopyTo(buffer);
        return read;
    }

    private bool _firstReadDone;

    /// <summary>The first CR or LF of <paramref name="text"/> is a lone CR, and the first record does not end there.</summary>
    internal static bool FirstLineEndMisleads(ReadOnlySpan<char> text)
    {
        var first = text.IndexOfAny('\r', '\n');
        if (first < 0 || text[first] == '\n' || (first + 1 < text.Length && text[first + 1] == '\n'))
        {
            return false; // No line end yet, or LF / CR LF first: Sylvan reads LF and CR LF line ends.
        }

        if (text[first..].Contains('\n'))
        {
            return true; // An LF file (old-Mac files have none): its line ends are LF or CR LF, whatever that CR is.
        }

        // No LF in this read: where does the first record end? Quotes toggle (a doubled quote toggles twice).
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (!quoted && (c == '\n' || c == '\r'))
            {
                // A lone CR ending the record: an old-Mac file, read as Sylvan reads it. Anything else: Sylvan would be misled.
                return !(c == '\r' && i + 1 < text.Length && text[i + 1] != '\n');
            }
        }

        return true; // The lone CR is inside a record that goes on past this read: not a line end.
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Decode(Span<char> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        if (_pending is { } pending)
        {
            // The second half of a surrogate pair that did not fit the caller's last one-char buffer.
            _pending = null;
            buffer[0] = pending;
            return 1;
        }

        if (_done)
        {
            return 0;
        }

        if (buffer.Length == 1)
        {
            // The decoder cannot write a 4-byte UTF-8 character (a surrogate pair) into one char: decode
            // into two and keep the second for the next call.
            Span<char> pair = stackalloc char[2];
            var read = Decode(pair);
            if (read == 2)
            {
                _pending = pair[1];
            }

            if (read > 0)
            {
                buffer[0] = pair[0];
            }

            return Math.Min(read, 1);
        }

        while (true)
        {
            var result = ReadBlocking();
            var bytes = result.Buffer;
            if (!_started)
            {
                if (bytes.Length < 3 && !result.IsCompleted)
                {
                    reader.AdvanceTo(bytes.Start, bytes.End);
                    continue;
                }

                _started = true;
                if (StartsWithBom(bytes))
                {
                    bytes = bytes.Slice(3);
                }
                else if (StartsWithUtf16Bom(bytes))
                {
                    // Read as UTF-8, every value would fail on its NUL bytes: one clear file error instead.
                    throw new InvalidDataException("the file is UTF-16 text (it starts with a UTF-16 byte order mark): convert it to UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)");
                }
            }

            var chars = 0;
            var consumed = 0L;
            foreach (var segment in bytes)
            {
                var span = segment.Span;
                var last = result.IsCompleted && consumed + span.Length == bytes.Length;
                _decoder.Convert(span, buffer[chars..], last, out var used, out var produced, out _);
                consumed += used;
                chars += produced;
                if (used < span.Length || chars == buffer.Length)
                {
                    break;
                }
            }

            if (bytes.IsEmpty && result.IsCompleted)
            {
                // Flush a truncated multi-byte sequence at the very end as U+FFFD.
                chars += _decoder.GetChars([], buffer[chars..], flush: true);
                _done = chars == 0;
            }

            // Examined must stay at consumed when chars were produced: the pipe's back-pressure counts
            // examined bytes, so marking everything examined would let the source run unboundedly ahead.
            var position = bytes.GetPosition(consumed);
            if (chars > 0)
            {
                reader.AdvanceTo(position);
            }
            else
            {
                reader.AdvanceTo(position, bytes.End);
            }

            if (chars > 0 || _done)
            {
                return chars;
            }

            if (result.IsCompleted && consumed == bytes.Length)
            {
                _done = true;
                return 0;
            }
        }
    }

    /// <summary>
    /// Waits for the pipe without allocating: the pipe's own awaitable signals a reused event (the
    /// pipe runs reader continuations inline, see <see cref="SourcePump.Options"/>).
    /// </summary>
    private ReadResult ReadBlocking()
    {
        var pending = reader.ReadAsync();
        if (!pending.IsCompleted && fill is not null)
        {
            // An inline source: read the next block on this thread; the flush completes the read inline.
            fill();
            if (!pending.IsCompleted)
            {
                // Nothing else would ever complete it: fail loudly rather than wait forever.
                throw new InvalidOperationException("An inline source's read did not complete the pipe's read.");
            }
        }

        if (!pending.IsCompleted)
        {
            _ready.Reset();
            pending.GetAwaiter().UnsafeOnCompleted(_signal ??= _ready.Set);
            _ready.Wait();
        }

        return pending.GetAwaiter().GetResult();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _ready.Dispose();
        }

        base.Dispose(disposing);
    }

    public override int Peek() => throw new NotSupportedException("The CSV reader reads blocks, never single characters.");

    public override int Read() => throw new NotSupportedException("The CSV reader reads blocks, never single characters.");

    private static bool StartsWithUtf16Bom(ReadOnlySequence<byte> bytes)
    {
        if (bytes.Length < 2)
        {
            return false;
        }

        Span<byte> head = stackalloc byte[2];
        bytes.Slice(0, 2).CopyTo(head);
        return head.SequenceEqual((ReadOnlySpan<byte>)[0xFF, 0xFE]) || head.SequenceEqual((ReadOnlySpan<byte>)[0xFE, 0xFF]);
    }

    private static bool StartsWithBom(ReadOnlySequence<byte> bytes)
    {
        if (bytes.Length < 3)
        {
            return false;
        }

        Span<byte> head = stackalloc byte[3];
        bytes.Slice(0, 3).CopyTo(head);
        return head.SequenceEqual("\uFEFF"u8);
    }
}
