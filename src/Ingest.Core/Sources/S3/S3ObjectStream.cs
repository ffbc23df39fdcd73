using System.Globalization;
using Amazon.S3.Model;

namespace Ingest.Sources.S3;

/// <summary>
/// The raw body of an <c>s3://</c> object, streamed. It retries faults that may pass (a reset or stalled
/// connection, 5xx, throttling) with the batch's backoff, and when the body breaks mid-way it asks for the rest
/// (<c>Range: bytes=N-</c> with <c>If-Match</c> on the first answer's ETag), going on only with byte N of the same
/// version; a changed object throws <see cref="SourceRestartRequiredException"/> so the file is loaded again from
/// its start.
/// </summary>
internal sealed partial class S3ObjectStream : ReadOnlyStream
{
    private readonly SourceOpener _opener;
    private readonly SourceFile _file;
    private readonly S3ObjectAddress _address;
    private readonly SourceOptions _options;
    private readonly S3Attempts _attempts;
    private GetObjectResponse? _response;
    private Stream? _body;
    private readonly ReadProgressWatch _watch;
    private long _position;
    private long _length = -1;
    private string? _etag;
    private bool _ended;
    private bool _disposed;

    private S3ObjectStream(SourceOpener opener, SourceFile file)
    {
        _opener = opener;
        _file = file;
        _address = file.S3!.Value;
        _options = opener.Options;
        _attempts = new S3Attempts(opener, file.Key, reason => new FileErrorException(file.Key, reason));
        _watch = new ReadProgressWatch(_options.StallTimeout);
    }

    /// <summary>True when the object is stored with <c>Content-Encoding: gzip</c>.</summary>
    public bool IsGzipEncoded { get; private set; }

    private string Key => _file.Key;

    private TimeSpan HeadersTimeout => _options.ConnectTimeout + _options.StallTimeout;

    /// <summary>Sends the first request, with retries, and returns the stream positioned at the body's start.</summary>
    public static async ValueTask<S3ObjectStream> OpenAsync(SourceOpener opener, SourceFile file, CancellationToken cancellationToken)
    {
        var stream = new S3ObjectStream(opener, file);
        try
        {
            await stream.FetchAsync(cancellationToken).ConfigureAwait(false);
            return stream;
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.IsEmpty || _ended)
        {
            return 0;
        }

        while (true)
        {
            string reason;
            try
            {
                // The body is closed on a stall too, in case the SDK's body stream does not watch the token.
                var (read, progress) = await _watch.ReadAsync(_body!, buffer, closeOnStall: true, cancellationToken).ConfigureAwait(false);
                if (read > 0)
                {
                    _position += read;
                    if (progress)
                    {
                        _attempts.Progress();
                    }

                    return read;
                }

                if (_length < 0 || _position >= _length)
                {
                    _ended = true;
                    return 0;
                }

                reason = string.Create(CultureInfo.InvariantCulture, $"connection closed at byte {_position} of {_length}");
            }
            catch (Exception) when (_watch.Stalled && !cancellationToken.IsCancellationRequested)
            {
                // The stall timer fired: the read was cancelled, or failed when the timer closed the response under it.
                reason = _watch.StallReason;
            }
            catch (Exception ex) when (S3Failure.IsRetryable(ex, cancellationToken))
            {
                reason = S3Failure.Describe(ex, HeadersTimeout);
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not FileErrorException)
            {
                // A fault that will not pass (the SDK's checksum check of a whole body, say): final, in our words.
                throw new FileErrorException(Key, string.Create(CultureInfo.InvariantCulture, $"read failed at byte {_position}: {S3Failure.Describe(ex, HeadersTimeout)} ({ex.GetType().Name})"));
            }

            ReleaseResponse();
            await _attempts.FailedAsync(reason, _position, cancellationToken).ConfigureAwait(false);
            await FetchAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void ReleaseResponse()
    {
        _body?.Dispose();
        _body = null;
        _response?.Dispose();
        _response = null;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            ReleaseResponse();
            _watch.Dispose();
        }

        base.Dispose(disposing);
    }
}
