using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using Ingest.Status;

namespace Ingest.Sources;

/// <summary>
/// The stream the engine reads a file from. It turns every fault into a <see cref="FileErrorException"/>
/// naming the file by its key, and for gzip it decompresses, proves the stream was whole
/// (<see cref="GzipEndMarker"/>) and enforces <see cref="SourceOptions.MaxDecompressedBytes"/>.
/// </summary>
internal sealed class GuardedDecompressionStream : ReadOnlyStream
{
    private const int ChunkSize = 64 * 1024;

    private readonly Stream _inner;
    private readonly string _key;
    private readonly bool _gzip;
    private readonly long _cap;
    private byte[]? _buffer;
    private int _start;
    private int _end;
    private bool _innerDone;
    private long _delivered;

    private GuardedDecompressionStream(Stream inner, string key, bool gzip, long cap)
    {
        _inner = inner;
        _key = key;
        _gzip = gzip;
        _cap = cap;
        _buffer = gzip ? ArrayPool<byte>.Shared.Rent(ChunkSize) : null;
    }

    /// <summary>Wraps the raw stream of <paramref name="file"/>; decompresses it when <paramref name="gzip"/>.</summary>
    public static Stream Wrap(Stream raw, SourceFile file, bool gzip, SourceOptions options) => gzip
        ? new GuardedDecompressionStream(new GZipStream(GzipEndMarker.Append(raw), CompressionMode.Decompress), file.Key, true, options.MaxDecompressedBytes)
        : new GuardedDecompressionStream(raw, file.Key, false, 0);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return _gzip
                ? await ReadGzipAsync(buffer, cancellationToken).ConfigureAwait(false)
                : await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            throw BrokenGzip(ex);
        }
        catch (IOException ex)
        {
            throw new FileErrorException(_key, $"read failed: {Redactor.RedactText(ex.Message)}", ex) { IsTransient = true };
        }
    }

    // The last marker-length bytes are held back until the end proves they are the marker, not data.
    private async ValueTask<int> ReadGzipAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_buffer is null, this);
        while (true)
        {
            var ready = _end - _start - (_innerDone ? 0 : GzipEndMarker.Length);
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
                if (_end - _start < GzipEndMarker.Length || !_buffer.AsSpan(_end - GzipEndMarker.Length, GzipEndMarker.Length).SequenceEqual(GzipEndMarker.Marker.Span))
                {
                    throw BrokenGzip(null);
                }

                _end -= GzipEndMarker.Length;
            }

            if (_cap > 0 && _delivered + (_end - _start) - (_innerDone ? 0 : GzipEndMarker.Length) > _cap)
            {
                throw new FileErrorException(_key, string.Create(CultureInfo.InvariantCulture, $"decompressed size exceeds the cap of {_cap} bytes (SourceOptions.MaxDecompressedBytes)"));
            }
        }
    }

    private FileErrorException BrokenGzip(Exception? inner) => new(
        _key,
        inner is null ? "broken gzip stream: it ends before its end (truncated file?)" : $"broken gzip stream: {Redactor.RedactText(inner.Message)}",
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
