using System.Diagnostics;
using System.Globalization;

namespace Ingest.Sources;

/// <summary>
/// The stall timer of a streamed body (http and S3): the body must make real progress, at least
/// <see cref="SourceOptions.StallProgressBytes"/> per <see cref="SourceOptions.StallTimeout"/> spent waiting inside reads.
/// Only the time a read waits counts: the consumer may not read for a while (a slow database), and that is not the
/// server's fault. The budget is re-armed by that many bytes, not by any byte: a timer re-armed per read never fired
/// for a server that trickled a byte every 2 s. Real progress is also what starts a fresh count of attempts, so a
/// server that sends a little after each reconnect is not retried forever.
/// </summary>
internal sealed class ReadProgressWatch(TimeSpan stallTimeout) : IDisposable
{
    private CancellationTokenSource _timer = new();
    private TimeSpan _waited;     // read-waiting time of the current budget
    private long _windowBytes;    // bytes of the current budget, for the reason of a stall
    private long _progressBytes;  // bytes toward the next progress; kept across reconnects, so many short answers add up

    /// <summary>
    /// True when the budget ran out during the last read, which was then cancelled (or failed as its response closed).
    /// Also true when the caller's token cancelled it: check that first.
    /// </summary>
    public bool Stalled => _timer.IsCancellationRequested;

    /// <summary>The reason of a stall: <c>no data for 30 s (stalled read)</c> or <c>only 15 bytes in 30 s (stalled read)</c>.</summary>
    public string StallReason => _windowBytes == 0
        ? string.Create(CultureInfo.InvariantCulture, $"no data for {stallTimeout.TotalSeconds:0.###} s (stalled read)")
        : string.Create(CultureInfo.InvariantCulture, $"only {_windowBytes} byte{(_windowBytes == 1 ? "" : "s")} in {stallTimeout.TotalSeconds:0.###} s (stalled read)");

    /// <summary>A new response: a fresh budget. Bytes toward progress carry over.</summary>
    public void Restart()
    {
        _waited = TimeSpan.Zero;
        _windowBytes = 0;
        if (_timer.IsCancellationRequested)
        {
            _timer.Dispose();
            _timer = new CancellationTokenSource();
        }
    }

    /// <summary>
    /// Reads once from <paramref name="body"/> within what is left of the budget. <c>Progress</c> is true when this read
    /// completed <see cref="SourceOptions.StallProgressBytes"/> since the last progress: the caller starts a fresh count
    /// of attempts. <paramref name="closeOnStall"/> closes the body when the budget runs out, for a body that does not
    /// watch its token (the AWS SDK's).
    /// </summary>
    public async ValueTask<(int Read, bool Progress)> ReadAsync(Stream body, Memory<byte> buffer, bool closeOnStall, CancellationToken cancellationToken)
    {
        using var link = cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _timer);
        using var close = closeOnStall ? _timer.Token.UnsafeRegister(static state => ((Stream)state!).Dispose(), body) : default;
        var pending = body.ReadAsync(buffer, _timer.Token);
        int read;
        if (pending.IsCompleted)
        {
            // Bytes (or the end) already here: no wait, nothing to time, never a stall, even with the budget spent.
            read = await pending.ConfigureAwait(false);
        }
        else
        {
            var started = Stopwatch.GetTimestamp();
            var left = stallTimeout - _waited;
            if (left > TimeSpan.Zero)
            {
                _timer.CancelAfter(left);
            }
            else
            {
                await _timer.CancelAsync().ConfigureAwait(false);
            }

            try
            {
                read = await pending.ConfigureAwait(false);
            }
            finally
            {
                _timer.CancelAfter(Timeout.InfiniteTimeSpan);
                _waited += Stopwatch.GetElapsedTime(started);
            }
        }

        _windowBytes += read;
        _progressBytes += read;
        if (_progressBytes < SourceOptions.StallProgressBytes)
        {
            return (read, false);
        }

        (_progressBytes, _windowBytes, _waited) = (0, 0, TimeSpan.Zero);
        return (read, true);
    }

    public void Dispose() => _timer.Dispose();
}
