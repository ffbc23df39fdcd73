using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using Ingest.Status;
using ZstdSharp;

namespace Ingest.Sources;

/// <summary>
/// The stream the engine reads a file from. It turns every fault into a <see cref="FileErrorException"/>
/// naming the file by its key, and for gzip it decompresses, proves the stream was whole
/// (<see cref="GzipEndMarker"/>) and enforces <see cref="SourceOptions.MaxDecompressedBytes"/> and
/// <see cref="SourceOptions.MaxCompressionRatio"/>; zstd gets the same caps (see the <c>.Zstd.cs</c> part).
/// </summary>
internal sealed partial class GuardedDecompressionStream : ReadOnlyStream
{
    private const int ChunkSize = 256 * 1024;

    // Decompressed bytes held back until more follow or the end proves the stream whole. A cut stream runs into
    // the end marker's member (about 40 bytes), which the decoder may turn into output before anything shows
    // the cut: deflate makes at most 258 bytes of every 2 bits, so about 41 KB. None of it may reach the parser,
    // which would report it as rows (seen with repetitive data compressed at gzip's level 9).
    private const int HoldBack = 64 * 1024;

    private readonly Stream _inner;
    private readonly string _key;
    private readonly bool _gzip;
    private readonly long _cap;
    private readonly double _maxRatio;
    private readonly GzipEndMarker.Appended? _compressed;
    private byte[]? _buffer;
    private int _start;
    private int _end;
    private bool _innerDone;
    private long _delivered;

    private GuardedDecompressionStream(Stream inner, string key, GzipEndMarker.Appended? compressed, SourceOptions options)
    {
        _inner = inner;
        _key = key;
        _gzip = compressed is not null;
        _compressed = compressed;
        _cap = options.MaxDecompressedBytes;
        _maxRatio = options.MaxCompressionRatio;
        _buffer = _gzip ? ArrayPool<byte>.Shared.Rent(ChunkSize) : null;
    }

    /// <summary>Wraps the raw stream of <paramref name="file"/>; decompresses it as <paramref name="compression"/> says.</summary>
    public static Stream Wrap(Stream raw, SourceFile file, SourceCompression compression, SourceOptions options)
    {
        if (compression == SourceCompression.Zstd)
        {
            return WrapZstd(raw, file.Key, options);
        }

        if (compression != SourceCompression.Gzip)
        {
            // Uncompressed and seekable (a local file): its size is known, so progress can show an ETA.
            return new GuardedDecompressionStream(raw, file.Key, null, options) { ExpectedLength = raw.CanSeek ? raw.Length : null };
        }

        var compressed = GzipEndMarker.Append(raw);
        return new GuardedDecompressionStream(new GZipStream(compressed, CompressionMode.Decompress), file.Key, compressed, options);
    }

    /// <summary>The bytes this stream will give when known up front (an uncompressed local file); else null.</summary>
    public long? ExpectedLength { get; private init; }

    /// <summary>
    /// True for an uncompressed local file: a read is a copy out of the page cache (the kernel's read-ahead
    /// overlaps the disk), so the parsing thread reads it itself (<see cref="ReadInline"/>) rather than
    /// through a pump task, which costs a thread-pool hop and a wake-up per block.
    /// </summary>
    public bool CanReadInline => !_gzip && _zstdInput is null && _inner is FileStream or FileRangeStream;

    /// <summary>A blocking read of an uncompressed local file (see <see cref="CanReadInline"/>).</summary>
    public int ReadInline(Span<byte> buffer)
    {
        if (!CanReadInline)
        {
            throw new InvalidOperationException("Only an uncompressed local file is read inline.");
        }

        try
        {
            return _inner.Read(buffer);
        }
        catch (IOException ex)
        {
            throw new FileErrorException(_key, $"read failed: {Redactor.RedactText(ex.Message)}", ex) { IsTransient = true };
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return _gzip ? await ReadGzipAsync(buffer, cancellationToken).ConfigureAwait(false)
                : _zstdInput is not null ? await ReadZstdAsync(buffer, cancellationToken).ConfigureAwait(false)
                : await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            throw BrokenGzip(ex);
        }
        catch (Exception ex) when (_zstdInput is not null && ex is ZstdException or EndOfStreamException)
        {
            throw BrokenZstd(ex);
        }
        catch (IOException ex)
        {
            throw new FileErrorException(_key, $"read failed: {Redactor.RedactText(ex.Message)}", ex) { IsTransient = true };
        }
    }

    // The last HoldBack bytes wait until more follow or the end proves the last of them is the marker.
    private async ValueTask<int> ReadGzipAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_buffer is null, this);
        while (true)
        {
            var ready = _end - _start - (_innerDone ? 0 : HoldBack);
            if (ready > 0 && !destination.IsEmpty)
            {
                var count = Math.Min(ready, destination.Length);
                _buffer.AsSpan(_start, count).CopyTo(destination.Span);
                _start += count;
                _delivered += count;
                return count;
            }

            if (_innerDone || destination.IsEmpty)
            {
                return 0;
            }

            if (_start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }

            var read = await _inner.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            _end += read;
            if (read == 0)
            {
                _innerDone = true;
                // An empty raw stream decodes as nothing but the marker: whole, yet no gzip at all.
                if (_compressed!.StartsAsGzip == false
                    || _end - _start < GzipEndMarker.Length
                    || !_buffer.AsSpan(_end - GzipEndMarker.Length, GzipEndMarker.Length).SequenceEqual(GzipEndMarker.Marker.Span))
                {
                    throw BrokenGzip(null);
                }

                _end -= GzipEndMarker.Length;
            }

            var produced = _delivered + (_end - _start) - (_innerDone ? 0 : GzipEndMarker.Length);
            if (_cap > 0 && produced > _cap)
            {
                throw new FileErrorException(_key, string.Create(CultureInfo.InvariantCulture, $"decompressed size exceeds the cap of {_cap} bytes (SourceOptions.MaxDecompressedBytes)"));
            }

            // GZipStream reads ahead, so the compressed count runs a little high: the ratio errs low.
            if (_maxRatio > 0 && produced > SourceOptions.CompressionRatioFloor && produced > _maxRatio * Math.Max(1, _compressed!.RawBytesRead))
            {
                throw new FileErrorException(_key, string.Create(
                    CultureInfo.InvariantCulture,
                    $"decompressed data is over {_maxRatio:0.###} times its compressed size ({produced} bytes from {_compressed.RawBytesRead}): a gzip bomb? (SourceOptions.MaxCompressionRatio)"));
            }
        }
    }

    private FileErrorException BrokenGzip(Exception? inner) => new(
        _key,
        _compressed?.StartsAsGzip == false
            ? _compressed.RawBytesRead == 0
                ? "not a gzip stream: the file is empty (a .gz file or a gzip-encoded response holds at least a gzip header)"
                : "not a gzip stream: it does not start with the gzip header (bytes 1f 8b); is it a plain file named .gz?"
            : inner switch
            {
                null => "broken gzip stream: it does not end where its last member ends (cut short, or bytes after it)",

                // zlib's data error reaches .NET as "...compressed using an unsupported compression method", which
                // sends the reader the wrong way: it is a bad deflate block, or a CRC or length that does not match.
                InvalidDataException => "broken gzip stream: its data is corrupt (a damaged file: the compressed data, or the checksum or length at its end, does not match)",
                _ => $"broken gzip stream: {Redactor.RedactText(inner.Message)}",
            },
        inner);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
            ReturnBuffer();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await _inner.DisposeAsync().ConfigureAwait(false);
        ReturnBuffer();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private void ReturnBuffer()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
