using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Ingest.Core.Tests.Infrastructure;

/// <summary>
/// A loopback TCP proxy put between a client and a server (s3rver) that can cut one connection once: the first
/// connection whose answer passes <c>N</c> bytes gets exactly N, then a reset (or, to stall, nothing more until
/// the client gives up); or trickle every answer past its first N bytes. It records the head of every HTTP request it forwards, so a test can see the Range and
/// If-Match of a resumed read.
/// <code>
/// await using var proxy = DroppingProxy.Start(server.Endpoint);
/// proxy.DropOnceAfter(100_000, beforeDrop: () => replaceTheObjectAsync());
/// // point the client at proxy.Endpoint
/// </code>
/// </summary>
public sealed class DroppingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentQueue<ProxiedRequest> _requests = new();
    private readonly ConcurrentBag<Task> _connections = [];
    private readonly Task _accepting;
    private long _dropAfter = -1;
    private Func<Task>? _beforeDrop;
    private bool _stall;
    private int _armed;
    private long _forwarded;
    private int _dropped;
    private long _trickleAfter = -1;
    private long _trickleInterval;

    private DroppingProxy(Uri target)
    {
        _target = new IPEndPoint(IPAddress.Parse(target.Host), target.Port);
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Endpoint = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _accepting = AcceptAsync();
    }

    /// <summary>The proxy's address, to give the client instead of the server's.</summary>
    public Uri Endpoint { get; }

    /// <summary>The heads of the requests forwarded, in order.</summary>
    public IReadOnlyList<ProxiedRequest> Requests => [.. _requests];

    /// <summary>The answer bytes forwarded to clients so far.</summary>
    public long ForwardedBytes => Interlocked.Read(ref _forwarded);

    /// <summary>How many connections were cut (or stalled).</summary>
    public int Dropped => Volatile.Read(ref _dropped);

    /// <summary>Starts a proxy to <paramref name="target"/> (an http://127.0.0.1:port/ URL).</summary>
    public static DroppingProxy Start(Uri target) => new(target);

    /// <summary>
    /// Cuts the first connection whose answers from now on pass <paramref name="bytes"/> bytes (headers included),
    /// after forwarding exactly that many and running <paramref name="beforeDrop"/>; once.
    /// </summary>
    public void DropOnceAfter(long bytes, Func<Task>? beforeDrop = null)
    {
        _beforeDrop = beforeDrop;
        _stall = false;
        Interlocked.Increment(ref _armed);
        Volatile.Write(ref _dropAfter, bytes);
    }

    /// <summary>Like <see cref="DropOnceAfter"/>, but the connection then stays open and silent until the client closes it.</summary>
    public void StallOnceAfter(long bytes)
    {
        _beforeDrop = null;
        _stall = true;
        Interlocked.Increment(ref _armed);
        Volatile.Write(ref _dropAfter, bytes);
    }

    /// <summary>
    /// From now on every connection forwards the first <paramref name="bytes"/> bytes of its answers (headers included) as
    /// they come, then one byte per <paramref name="interval"/>: a server that trickles, on every reconnect too.
    /// </summary>
    public void TrickleAfter(long bytes, TimeSpan interval)
    {
        Volatile.Write(ref _trickleInterval, interval.Ticks);
        Volatile.Write(ref _trickleAfter, bytes);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        await Task.WhenAll([_accepting, .. _connections]).ContinueWith(static _ => { }, TaskScheduler.Default);
        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                var client = await _listener.AcceptSocketAsync(_stopping.Token);
                _connections.Add(ServeAsync(client));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using (client)
        {
            try
            {
                await server.ConnectAsync(_target, _stopping.Token);
                using var connection = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                var up = PumpRequestsAsync(client, server, connection.Token);
                var down = PumpAnswersAsync(server, client, connection.Token);
                await Task.WhenAny(up, down);
                await connection.CancelAsync();
                await Task.WhenAll(up, down).ContinueWith(static _ => { }, TaskScheduler.Default);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // The connection ended.
            }
        }
    }

    private async Task PumpRequestsAsync(Socket from, Socket to, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var head = new StringBuilder();
        while (true)
        {
            var read = await from.ReceiveAsync(buffer, cancellationToken);
            if (read == 0)
            {
                to.Shutdown(SocketShutdown.Send);
                return;
            }

            Record(head, buffer.AsSpan(0, read));
            await SendAllAsync(to, buffer.AsMemory(0, read), cancellationToken);
        }
    }

    private async Task PumpAnswersAsync(Socket from, Socket to, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        long sent = 0; // since the drop was armed: a pooled connection's earlier answers do not count
        var armed = Volatile.Read(ref _armed);
        while (true)
        {
            var read = await from.ReceiveAsync(buffer, cancellationToken);
            if (read == 0)
            {
                to.Shutdown(SocketShutdown.Send);
                return;
            }

            if (Volatile.Read(ref _armed) != armed)
            {
                armed = Volatile.Read(ref _armed);
                sent = 0;
            }

            var dropAfter = Volatile.Read(ref _dropAfter);
            if (dropAfter >= 0 && sent + read > dropAfter && Interlocked.CompareExchange(ref _dropAfter, -1, dropAfter) == dropAfter)
            {
                Interlocked.Add(ref _forwarded, dropAfter - sent);
                await SendAllAsync(to, buffer.AsMemory(0, (int)(dropAfter - sent)), cancellationToken);
                if (_beforeDrop is { } beforeDrop)
                {
                    await beforeDrop();
                }

                Interlocked.Increment(ref _dropped);
                if (_stall)
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken); // until the client closes (or the proxy stops)
                }

                to.LingerState = new LingerOption(true, 0); // a reset, as a broken network gives
                to.Close();
                return;
            }

            var trickleAfter = Volatile.Read(ref _trickleAfter);
            if (trickleAfter >= 0 && sent + read > trickleAfter)
            {
                await TrickleAsync(to, buffer.AsMemory(0, read), Math.Max(0, trickleAfter - sent), cancellationToken);
                sent += read;
                continue;
            }

            // Counted before it is sent: a reader that has a byte finds it counted (counted after, a test reading the
            // count right after its first byte could see 0).
            Interlocked.Add(ref _forwarded, read);
            await SendAllAsync(to, buffer.AsMemory(0, read), cancellationToken);
            sent += read;
        }
    }

    // The first 'fast' bytes at once, then the rest a byte at a time.
    private async Task TrickleAsync(Socket to, ReadOnlyMemory<byte> bytes, long fast, CancellationToken cancellationToken)
    {
        var interval = TimeSpan.FromTicks(Volatile.Read(ref _trickleInterval));
        Interlocked.Add(ref _forwarded, fast);
        await SendAllAsync(to, bytes[..(int)fast], cancellationToken);
        for (var i = (int)fast; i < bytes.Length; i++)
        {
            await Task.Delay(interval, cancellationToken);
            Interlocked.Increment(ref _forwarded);
            await SendAllAsync(to, bytes.Slice(i, 1), cancellationToken);
        }
    }

    private static async Task SendAllAsync(Socket to, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        while (!bytes.IsEmpty)
        {
            var sent = await to.SendAsync(bytes, cancellationToken);
            bytes = bytes[sent..];
        }
    }

    // Requests through the proxy are GETs and other bodiless ones: every "\r\n\r\n" ends a head.
    private void Record(StringBuilder head, ReadOnlySpan<byte> bytes)
    {
        head.Append(Encoding.Latin1.GetString(bytes));
        var text = head.ToString();
        int end;
        while ((end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal)) >= 0)
        {
            _requests.Enqueue(ProxiedRequest.Parse(text[..end]));
            text = text[(end + 4)..];
        }

        head.Clear().Append(text);
    }
}

/// <summary>The head of one request through <see cref="DroppingProxy"/>.</summary>
/// <param name="RequestLine">The request line, e.g. <c>GET /bucket/key HTTP/1.1</c>.</param>
/// <param name="Headers">Every header line as sent, <c>name: value</c>.</param>
public sealed record ProxiedRequest(string RequestLine, IReadOnlyList<string> Headers)
{
    /// <summary>The value of the header <paramref name="name"/>, or null.</summary>
    public string? Header(string name)
    {
        foreach (var line in Headers)
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line.AsSpan(0, colon).Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return line[(colon + 1)..].Trim();
            }
        }

        return null;
    }

    /// <summary>The whole head, request line and headers.</summary>
    public string Text => string.Join("\r\n", [RequestLine, .. Headers]);

    internal static ProxiedRequest Parse(string head)
    {
        var lines = head.Split("\r\n");
        return new ProxiedRequest(lines[0], lines[1..]);
    }
}
