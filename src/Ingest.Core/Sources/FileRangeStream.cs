namespace Ingest.Sources;

/// <summary>
/// Bytes <c>[start, start + length)</c> of a local file, read forward only: what a chunk of a file reads. Reports
/// the range's length as its own, so progress of a chunk counts to the end of the chunk.
/// </summary>
internal sealed class FileRangeStream : Stream
{
    private readonly FileStream _file;
    private readonly long _length;
    private long _read;

    public FileRangeStream(FileStream file, long start, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _file = file;
        _length = length;
        file.Seek(start, SeekOrigin.Begin);
    }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override int Read(Span<byte> buffer)
    {
        var count = (int)Math.Min(buffer.Length, _length - _read);
        if (count <= 0)
        {
            return 0;
        }

        var read = _file.Read(buffer[..count]);
        _read += read;
        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var count = (int)Math.Min(buffer.Length, _length - _read);
        if (count <= 0)
        {
            return 0;
        }

        var read = await _file.ReadAsync(buffer[..count], cancellationToken).ConfigureAwait(false);
        _read += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _file.Dispose();
        }

        base.Dispose(disposing);
    }
}
