using System.Globalization;
using System.Net.Http.Headers;

namespace Ingest.Sources;

/// <summary>
/// The raw body of an http(s) file. It retries the request on faults that may pass, and when the
/// connection breaks or stalls mid-body it asks for the rest (<c>Range: bytes=N-</c> with
/// <c>If-Range</c>) and goes on only if the server answers <c>206</c> from byte N of the same version;
/// otherwise it throws <see cref="SourceRestartRequiredException"/> so the file is loaded again from its start.
/// </summary>
internal sealed partial class ResumableHttpStream : ReadOnlyStream
{
    private readonly SourceOpener _opener;
    private readonly SourceFile _file;
    private readonly SourceOptions _options;
    private HttpResponseMessage? _response;
    private Stream? _body;
    private readonly ReadProgressWatch _watch;
    private long _position;
    private long? _length;
    private EntityTagHeaderValue? _etag;
    private DateTimeOffset? _lastModified;
    private int _failures;
    private bool _ended;
    private bool _disposed;

    private ResumableHttpStream(SourceOpener opener, SourceFile file)
    {
        _opener = opener;
        _file = file;
        _options = opener.Options;
        _watch = new ReadProgressWatch(_options.StallTimeout);
    }

    /// <summary>True when the server compressed the body (<c>Content-Encoding: gzip</c>).</summary>
    public bool IsGzipEncoded { get; private set; }

    private string Key => _file.Key;

    /// <summary>Sends the first request, with retries, and returns the stream positioned at the body's start.</summary>
    public static async ValueTask<ResumableHttpStream> OpenAsync(SourceOpener opener, SourceFile file, CancellationToken cancellationToken)
    {
        var stream = new ResumableHttpStream(opener, file);
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
                var (read, progress) = await _watch.ReadAsync(_body!, buffer, closeOnStall: false, cancellationToken).ConfigureAwait(false);
                if (read > 0)
                {
                    _position += read;
                    if (progress)
                    {
                        _failures = 0; // real progress: a later fault starts a fresh count of attempts
                    }

                    return read;
                }

                if (_length is not { } length || _position >= length)
                {
                    _ended = true;
                    return 0;
                }

                reason = string.Create(CultureInfo.InvariantCulture, $"connection closed at byte {_position} of {length}");
            }
            catch (Exception) when (_watch.Stalled && !cancellationToken.IsCancellationRequested)
            {
                reason = _watch.StallReason;
            }
            catch (Exception ex) when (IsRetryable(ex, cancellationToken))
            {
                reason = HttpFailure.Describe(ex);
            }

            ReleaseResponse();
            await ResumeAsync(reason, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ResumeAsync(string reason, CancellationToken cancellationToken)
    {
        if (_position > 0 && _etag is null && _lastModified is null)
        {
            throw new SourceRestartRequiredException(Key, string.Create(
                CultureInfo.InvariantCulture,
                $"{reason}; the server sent no ETag or Last-Modified, so byte {_position} on cannot be fetched safely: the file must be read again from its start"));
        }

        await FailedAsync(reason, null, cancellationToken).ConfigureAwait(false);
        await FetchAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Requests the body from <see cref="_position"/> until an answer is accepted, the attempts run out or the answer is final.</summary>
    private async Task FetchAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            string reason;
            TimeSpan? retryAfter = null;
            try
            {
                var response = await SendAsync(cancellationToken).ConfigureAwait(false);
                if (HttpFailure.IsRetryable(response.StatusCode))
                {
                    reason = HttpFailure.Describe(response.StatusCode);
                    retryAfter = HttpFailure.RetryAfter(response);
                    response.Dispose();
                }
                else
                {
                    await AcceptAsync(response, cancellationToken).ConfigureAwait(false);
                    return;
                }
            }
            catch (HttpRequestException ex) when (ex.InnerException is SourceDeniedException denied)
            {
                // The SSRF guard refused the host (maybe a redirect's): final, not a fault to retry.
                throw new FileErrorException(Key, denied.Message, ex);
            }
            catch (Exception ex) when (IsRetryable(ex, cancellationToken))
            {
                reason = ex is OperationCanceledException
                    ? string.Create(CultureInfo.InvariantCulture, $"no response within {(_options.ConnectTimeout + _options.StallTimeout).TotalSeconds:0.###} s")
                    : HttpFailure.Describe(ex);
            }
            catch (HttpRequestException ex)
            {
                // A fault that will not pass (a certificate that failed validation): final, in words that say what to fix.
                // Let through, the engine made a file error of .NET's own message ("... see inner exception.").
                throw new FileErrorException(Key, HttpFailure.Describe(ex), ex);
            }

            await FailedAsync(reason, retryAfter, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task FailedAsync(string reason, TimeSpan? retryAfter, CancellationToken cancellationToken)
    {
        _failures++;
        var max = _options.MaxAttempts;
        var wait = Backoff.Delay(_options, _failures, retryAfter);
        if (wait.TooLong)
        {
            // Retrying sooner than asked would be refused again, and waiting longer would hold a stream of the batch.
            throw new FileErrorException(Key, wait.TooLongReason(reason, _options));
        }

        if (_failures >= max)
        {
            // Final: the retries with backoff were the policy for a source that fails. Retrying the whole file
            // again would repeat them (5 requests became 15, a silent server held a batch 11 minutes).
            throw new FileErrorException(Key, string.Create(CultureInfo.InvariantCulture, $"gave up after {max} attempts: {reason}"));
        }

        var from = _position > 0 ? string.Create(CultureInfo.InvariantCulture, $" from byte {_position}") : string.Empty;
        _opener.OnRetrying(string.Create(
            CultureInfo.InvariantCulture,
            $"Retrying {Key}{from} (attempt {_failures + 1} of {max}) after {reason} {wait.Words}"));
        await Task.Delay(wait.Delay, cancellationToken).ConfigureAwait(false);
    }

    private static bool IsRetryable(Exception exception, CancellationToken cancellationToken) =>
        exception is OperationCanceledException ? !cancellationToken.IsCancellationRequested : HttpFailure.IsTransient(exception);

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
