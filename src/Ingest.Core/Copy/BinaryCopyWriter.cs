using System.Buffers;
using System.Buffers.Binary;

namespace Ingest.Copy;

/// <summary>
/// Writes a PostgreSQL binary COPY stream (header, tuples, trailer) through one pooled buffer that is
/// handed to the COPY stream whenever it cannot hold another row. Tuples are encoded in place.
/// </summary>
internal sealed class BinaryCopyWriter : IDisposable
{
    // "PGCOPY\n\xff\r\n\0": written as bytes, since a u8 literal would encode \xff as two UTF-8 bytes.
    private static ReadOnlySpan<byte> Signature => [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00];

    private readonly Stream _destination;
    private readonly int _maxRowBytes;
    private byte[] _buffer;
    private int _position;

    public BinaryCopyWriter(Stream destination, int maxRowBytes, int bufferSize = 256 * 1024)
    {
        _destination = destination;
        _maxRowBytes = maxRowBytes;
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(bufferSize, maxRowBytes + 64));
        Signature.CopyTo(_buffer);
        // Flags (no OIDs) and header extension length, both zero.
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(11), 0);
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(15), 0);
        _position = 19;
    }

    /// <summary>Bytes handed to the destination so far.</summary>
    public long BytesWritten { get; private set; }

    /// <summary>Room for the next tuple, at least as long as the longest possible row.</summary>
    public Span<byte> GetRowSpan()
    {
        if (_buffer.Length - _position < _maxRowBytes)
        {
            Flush();
        }

        return _buffer.AsSpan(_position);
    }

    /// <summary>Keeps <paramref name="bytes"/> bytes of the span from <see cref="GetRowSpan"/> as a tuple.</summary>
    public void Advance(int bytes) => _position += bytes;

    /// <summary>Writes the trailer and hands everything left to the destination.</summary>
    public void Complete()
    {
        if (_buffer.Length - _position < 2)
        {
            Flush();
        }

        BinaryPrimitives.WriteInt16BigEndian(_buffer.AsSpan(_position), -1);
        _position += 2;
        Flush();
    }

    private void Flush()
    {
        if (_position == 0)
        {
            return;
        }

        _destination.Write(_buffer, 0, _position);
        BytesWritten += _position;
        _position = 0;
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
