namespace Ingest.Sources;

/// <summary>Passes a raw stream through, counting its bytes and keeping its first four (a format's magic number).</summary>
internal sealed class CountingReadStream(Stream raw) : ReadOnlyStream
{
    private readonly byte[] _head = new byte[4];

    /// <summary>Bytes read so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>The first bytes read, up to four.</summary>
    public ReadOnlySpan<byte> Head => _head.AsSpan(0, (int)Math.Min(BytesRead, _head.Length));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await raw.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        for (var i = 0; BytesRead + i < _head.Length && i < read; i++)
        {
            _head[BytesRead + i] = buffer.Span[i];
        }

        BytesRead += read;
        return read;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            raw.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await raw.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
