using System.Globalization;
using System.Runtime.CompilerServices;
using System.IO.Pipelines;
using Ingest.Copy;
using Ingest.Sources;
using Sylvan.Data.Csv;

namespace Ingest.Csv;

/// <summary>
/// Reads the records of one CSV file with Sylvan.Data.Csv, fed through a <see cref="Pipe"/> from the
/// source stream. Tracks the physical line where each record starts (quoted newlines included), skips
/// header lines and blank lines, and turns malformed CSV into a <see cref="FileErrorException"/>.
/// Synchronous by design: a stream worker parses on its own thread while the pump fetches (or, for an
/// uncompressed local file, reads the file itself: see <see cref="SourcePump"/>).
/// </summary>
internal sealed class CsvRecordReader : IDisposable
{
    // No comment lines in this format, but Sylvan 1.4.4 cannot switch them off: whatever char Comment holds
    // (NUL, the quote, the delimiter, a line end), a record starting with it is skipped unseen. U+FFFF, a
    // noncharacter, is the least likely to start a line, yet UTF-8 text can hold it (EF BF BF); so such a
    // line is refused as a file error rather than lost, which would also shift every later line number.
    private const char NoComment = '\uFFFF';

    private const string NoncharacterLine = "the record starts with U+FFFF, a Unicode noncharacter: the file is probably not UTF-8 text";

    // Static, so a file costs no handler allocation; the line is known only here, so Translate names it.
    private static readonly CommentHandler RefuseComment = new Action<CsvDataReader, string>(static (_, _) => throw new CommentLineException());

    private readonly string _fileKey;
    private readonly CsvReadOptions _options;
    private readonly Pipe _pipe;
    private readonly PipeTextReader _text;
    private readonly CsvDataReader _csv;
    private char[]? _buffer;
    private long _nextLine = 1;
    private long _nextRecordChar;
    private int _headersLeft;

    public CsvRecordReader(Stream source, string fileKey, CsvReadOptions options, Action<int>? bytesRead, CancellationToken cancellationToken)
    {
        _fileKey = fileKey;
        _options = options;
        _nextLine = options.FirstLine;
        _headersLeft = options.HeaderLines;
        if (source is GuardedDecompressionStream { CanReadInline: true } local)
        {
            var pipe = _pipe = new Pipe(SourcePump.InlineOptions);
            Pump = Task.CompletedTask;
            _text = new PipeTextReader(pipe.Reader, () => SourcePump.FillOnce(local, pipe.Writer, bytesRead, cancellationToken));
        }
        else
        {
            _pipe = new Pipe(SourcePump.Options);
            Pump = SourcePump.RunAsync(source, _pipe.Writer, bytesRead, cancellationToken);
            _text = new PipeTextReader(_pipe.Reader);
        }

        var csvOptions = new CsvDataReaderOptions
        {
            HasHeaders = false,
            Delimiter = ',',
            Quote = '"',
            Escape = '"',
            Comment = NoComment,
            CommentHandler = RefuseComment,
            CsvStyle = CsvStyle.Standard,
            BufferSize = Math.Min(options.BufferChars, options.MaxRecordChars),
            // Sylvan's bound keeps memory in check; the cap itself is checked on each record in Read, since
            // Sylvan counts the line end in its buffer and reads as far as the pooled buffer reaches, which
            // is rounded up to a power of two.
            MaxBufferSize = options.MaxRecordChars + LineEndRoom,
            OwnsReader = false,
        };

        try
        {
            // The char buffer is pooled so a file costs no buffer allocation; Sylvan grows its own copy
            // only for a record longer than the buffer (up to the record cap).
            _buffer = System.Buffers.ArrayPool<char>.Shared.Rent(csvOptions.BufferSize);
            _csv = CsvDataReader.Create(_text, _buffer, csvOptions);
        }
        catch (Exception ex)
        {
            // Sylvan reads the first record here, so a file error can come now (a first line starting with
            // U+FFFF). Nothing disposes a reader whose constructor threw: stop the pump and give the buffer back.
            var error = Translate(ex);
            _text.Dispose();
            _pipe.Reader.Complete();
            if (_buffer is { } buffer)
            {
                _buffer = null;
                System.Buffers.ArrayPool<char>.Shared.Return(buffer);
            }

            throw error;
        }
    }

    /// <summary>The task copying the source into the pipe; it ends when the file is read or fails.</summary>
    public Task Pump { get; }

    /// <summary>The 1-based line of the file where the current record starts.</summary>
    public long Line { get; private set; }

    /// <summary>Data records read so far (header and blank lines not counted).</summary>
    public long Records { get; private set; }

    /// <summary>The current record.</summary>
    public CsvRow Row => new(_csv);

    /// <summary>Moves to the next data record; false at the end of the file.</summary>
    /// <exception cref="FileErrorException">Malformed CSV, a record over the size cap, or a source failure.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Read()
    {
        while (true)
        {
            bool more;
            try
            {
                more = _csv.Read();
            }
            catch (Exception ex)
            {
                throw Translate(ex);
            }

            if (!more)
            {
                // Sylvan drops a comment line at the very end of the text (no line end after it) without
                // calling the comment handler. Every char read is in a record otherwise, so text read but in
                // no record is such a line.
                if (_text.CharsRead != _nextRecordChar)
                {
                    throw new FileErrorException(_fileKey, _nextLine, NoncharacterLine);
                }

                return false;
            }

            var raw = _csv.GetRawRecordSpan();
            if (_text.LeadingNewline && _nextRecordChar == 0)
            {
                // The line end the text reader put in front (PipeTextReader.FirstRead): not a line of the file.
                _nextRecordChar += raw.Length;
                continue;
            }

            Line = _nextLine;
            if (raw.Length > _options.MaxRecordChars && WithoutLineEnd(raw).Length > _options.MaxRecordChars)
            {
                throw new FileErrorException(_fileKey, _nextLine, OverCap);
            }

            var lines = Math.Max(1, raw.Count('\n'));
            _nextLine += lines;
            _nextRecordChar += raw.Length;
            if (_headersLeft > 0)
            {
                // Header lines are lines: a header record with a quoted line break is two of them.
                _headersLeft -= lines;
                continue;
            }

            if (_csv.RowFieldCount <= 1 && _csv.GetFieldSpan(0).IsEmpty && raw.Trim().IsEmpty)
            {
                // A blank line holds no data: skipped, not counted as a row.
                continue;
            }

            Records++;
            return true;
        }
    }

    /// <summary>Room in Sylvan's buffer for a record of the cap's length and its line end (CR LF).</summary>
    private const int LineEndRoom = 2;

    private string OverCap => string.Create(CultureInfo.InvariantCulture,
        $"a record is longer than the record size cap of {_options.MaxRecordChars} characters (raise the cap if the file is right)");

    /// <summary>A raw record without the line end that closed it (LF, CR LF or CR; none at the end of the text).</summary>
    private static ReadOnlySpan<char> WithoutLineEnd(ReadOnlySpan<char> raw)
    {
        if (raw.EndsWith('\n'))
        {
            raw = raw[..^1];
        }

        return raw.EndsWith('\r') ? raw[..^1] : raw;
    }

    private Exception Translate(Exception ex)
    {
        var inner = ex is AggregateException { InnerException: { } single } ? single : ex;
        return inner switch
        {
            FileErrorException or OperationCanceledException => inner,
            CommentLineException => new FileErrorException(_fileKey, _nextLine, NoncharacterLine),
            CsvRecordTooLargeException => new FileErrorException(_fileKey, _nextLine, OverCap, inner),
            CsvInvalidCharacterException invalid when invalid.Message.Contains("without a closing quote", StringComparison.Ordinal) =>
                UnclosedQuote(invalid),
            CsvInvalidCharacterException invalid when invalid.Message.Contains("after a closing quote", StringComparison.Ordinal) =>
                AfterClosingQuote(invalid, invalid.InvalidCharacter),
            CsvFormatException format => new FileErrorException(_fileKey, _nextLine, $"malformed CSV: {format.Message}", inner),
            InvalidDataException text => new FileErrorException(_fileKey, _nextLine, text.Message, inner),
            _ => inner,
        };
    }

    // Sylvan 1.4.4 (CsvStyle.Standard) says "ends without a closing quote" for two faults: a quote never
    // closed before the end of the text, and a closed quote followed by a character that its check after a
    // closing quote lets through (a code below ',' other than a quote or line end: a space, a tab, '!',
    // '+', ...), which it only notices at the field's end. Its exception does not say which, so the
    // failed field is read back from Sylvan's buffer and its quotes are followed as Sylvan follows them.
    private FileErrorException UnclosedQuote(CsvInvalidCharacterException invalid)
    {
        var field = FailedField(invalid);
        var close = ClosingQuote(field);
        return close >= 0 && close + 1 < field.Length
            ? AfterClosingQuote(invalid, field[close + 1])
            : new FileErrorException(_fileKey, _nextLine, "unterminated quoted field: a quote opened here is never closed", invalid);
    }

    private FileErrorException AfterClosingQuote(CsvInvalidCharacterException invalid, char found) =>
        new(_fileKey, _nextLine, string.Create(CultureInfo.InvariantCulture,
            $"malformed CSV: characters after a closing quote in column {invalid.FieldOrdinal} ({Show(found)}): a quoted value must end at a comma or the end of the line"),
            invalid);

    /// <summary>
    /// The failed field as Sylvan read it, from its opening quote to the character it stopped at, or empty
    /// when it cannot be found. Sylvan keeps the failed record in its buffer: the raw record span still
    /// ends where the failed field starts, and <see cref="CsvInvalidCharacterException.RecordOffset"/> is
    /// where in the record it stopped. The record's place in the buffer comes from counting the text
    /// before it, since the span of a first field's failure is empty and so cannot be placed.
    /// </summary>
    private ReadOnlySpan<char> FailedField(CsvInvalidCharacterException invalid)
    {
        // _csv is still null if Sylvan throws while the constructor creates it (it reads the first record).
        if (_csv is null || _text.LastBuffer is not { } buffer)
        {
            return default;
        }

        var before = _csv.GetRawRecordSpan();
        var recordStart = _nextRecordChar - _text.LastBufferStartChar;
        var start = recordStart + before.Length;
        var end = recordStart + invalid.RecordOffset + 1;
        if (recordStart < 0 || start >= end || end > _text.LastBufferEnd || buffer[(int)start] != '"'
            || (!before.IsEmpty && !(buffer.AsSpan().Overlaps(before, out var offset) && offset == recordStart)))
        {
            // Not where Sylvan should have left it: keep Sylvan's own reading rather than guess.
            return default;
        }

        return buffer.AsSpan((int)start, (int)(end - start));
    }

    // The index of a quoted field's closing quote, or -1 when it has none: inside, a doubled quote is one
    // quote, and any other quote closes the field.
    private static int ClosingQuote(ReadOnlySpan<char> field)
    {
        for (var i = 1; i < field.Length; i++)
        {
            if (field[i] == '"')
            {
                if (i + 1 < field.Length && field[i + 1] == '"')
                {
                    i++;
                    continue;
                }

                return i;
            }
        }

        return -1;
    }

    private static string Show(char c) => c switch
    {
        ' ' => "a space",
        '\t' => "a tab",
        _ when char.IsControl(c) || char.IsWhiteSpace(c) || char.IsSurrogate(c) => string.Create(CultureInfo.InvariantCulture, $"the character U+{(int)c:X4}"),
        _ => $"'{c}'",
    };

    public void Dispose()
    {
        _csv.Dispose();
        _text.Dispose();
        _pipe.Reader.Complete();
        if (_buffer is { } buffer)
        {
            _buffer = null;
            System.Buffers.ArrayPool<char>.Shared.Return(buffer);
        }
    }
}

/// <summary>
/// Thrown from Sylvan's comment callback when a record starts with the comment char: the reader's
/// <c>Translate</c> makes it a file error at the current line.
/// </summary>
internal sealed class CommentLineException : Exception
{
}

/// <summary>The current record of a <see cref="CsvDataReader"/> as an <see cref="IRowSource"/>.</summary>
internal readonly struct CsvRow(CsvDataReader reader) : IRowSource
{
    public int FieldCount => reader.RowFieldCount;

    public ReadOnlySpan<char> GetField(int ordinal) => reader.GetFieldSpan(ordinal);
}
