namespace Ingest.Core.Tests.Infrastructure;

/// <summary>Bodies generated on the fly, so a test can serve 100 MB without holding it.</summary>
public sealed partial class LoopbackHttpServer
{
    /// <summary>
    /// Serves <paramref name="length"/> bytes at <paramref name="path"/>, read from a fresh
    /// <paramref name="open"/>() per request and streamed; <see cref="BytesSent"/> tells how much left.
    /// </summary>
    public void AddGenerated(string path, long length, Func<Stream> open, string contentType = "text/csv") =>
        _entries[path] = new Entry([], new HttpFault { ContentType = contentType }, null, null, open, length);

    /// <summary>Body bytes written for <paramref name="path"/> so far (generated entries only).</summary>
    public long BytesSent(string path) => _entries.TryGetValue(path, out var entry) ? entry.BytesSent : 0;

    private async Task ServeGeneratedAsync(Microsoft.AspNetCore.Http.HttpContext context, Entry entry)
    {
        context.Response.ContentType = entry.Fault.ContentType;
        context.Response.ContentLength = entry.Length;
        using var aborted = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        await using var source = entry.Generator!();
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer, aborted.Token)) > 0)
            {
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), aborted.Token);
                entry.Sent(read);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            context.Abort(); // the client went away: stop generating
        }
    }
}

/// <summary>A read-only stream of <c>length</c> bytes from a repeating pattern, generated as read.</summary>
public sealed class PatternStream(byte[] pattern, long length, byte[]? tail = null) : Stream
{
    private readonly byte[] _tail = tail ?? [];
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => length + _tail.Length;

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        var n = 0;
        while (n < count && _position < Length)
        {
            buffer[offset + n++] = _position < length ? pattern[_position % pattern.Length] : _tail[_position - length];
            _position++;
        }

        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
