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
    // No comment lines in this format: a character that cannot start a record in UTF-8 text we accept.
    private const char NoComment = '\uFFFF';

    private readonly string _fileKey;
    private readonly CsvReadOptions _options;
    private readonly Pipe _pipe;
    private readonly PipeTextReader _text;
    private readonly CsvDataReader _csv;
    private char[]? _buffer;
    private long _nextLine = 1;
    private int _headersLeft;

    public CsvRecordReader(Stream source, string fileKey, CsvReadOptions options, Action<int>? bytesRead, CancellationToken cancellationToken)
    {
        _fileKey = fileKey;
        _options = options;
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
            CsvStyle = CsvStyle.Standard,
            BufferSize = Math.Min(options.BufferChars, options.MaxRecordChars),
            MaxBufferSize = options.MaxRecordChars,
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
            throw Translate(ex);
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
                return false;
            }

            Line = _nextLine;
            _nextLine += Math.Max(1, _csv.GetRawRecordSpan().Count('\n'));
            if (_headersLeft > 0)
            {
                _headersLeft--;
                continue;
            }

            if (_csv.RowFieldCount <= 1 && _csv.GetFieldSpan(0).IsEmpty && _csv.GetRawRecordSpan().Trim().IsEmpty)
            {
                // A blank line holds no data: skipped, not counted as a row.
                continue;
            }

            Records++;
            return true;
        }
    }

    private Exception Translate(Exception ex)
    {
        var inner = ex is AggregateException { InnerException: { } single } ? single : ex;
        return inner switch
        {
            FileErrorException or OperationCanceledException => inner,
            CsvRecordTooLargeException => new FileErrorException(_fileKey, _nextLine,
                $"a record is longer than the record size cap of {_options.MaxRecordChars} characters (raise the cap if the file is right)", inner),
            CsvInvalidCharacterException invalid when invalid.Message.Contains("without a closing quote", StringComparison.Ordinal) =>
                new FileErrorException(_fileKey, _nextLine, "unterminated quoted field: a quote opened here is never closed", inner),
            CsvFormatException format => new FileErrorException(_fileKey, _nextLine, $"malformed CSV: {format.Message}", inner),
            _ => inner,
        };
    }

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

/// <summary>The current record of a <see cref="CsvDataReader"/> as an <see cref="IRowSource"/>.</summary>
internal readonly struct CsvRow(CsvDataReader reader) : IRowSource
{
    public int FieldCount => reader.RowFieldCount;

    public ReadOnlySpan<char> GetField(int ordinal) => reader.GetFieldSpan(ordinal);
}
