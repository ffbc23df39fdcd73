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

    public override int Read(char[] buffer, int index, int count)
    {
        var read = Decode(buffer.AsSpan(index, count));
        CharsRead += read;
        LastBuffer = buffer;
        LastBufferEnd = index + read;
        return read;
    }

    public override int Read(Span<char> buffer)
    {
        var read = Decode(buffer);
        CharsRead += read;
        LastBuffer = null;
        return read;
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
