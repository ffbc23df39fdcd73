using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Ingest.LocalPostgres;

/// <summary>
/// Asks a Docker engine for <c>/_ping</c> with a short deadline, so that a machine without one
/// falls through to a local cluster at once instead of waiting on Testcontainers' own discovery.
/// </summary>
internal static class DockerProbe
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(2);

    /// <summary>True when an engine answered the ping; the reason says what was found either way.</summary>
    public static async Task<(bool Answers, string Reason)> ProbeAsync(CancellationToken cancellationToken)
    {
        var dockerHost = Environment.GetEnvironmentVariable("DOCKER_HOST");
        EndPoint endPoint;
        string where;
        if (!string.IsNullOrWhiteSpace(dockerHost))
        {
            if (!TryParseDockerHost(dockerHost, out endPoint!))
            {
                // An address we cannot ping (ssh://, npipe://): let Testcontainers try it.
                return (true, $"DOCKER_HOST={dockerHost}");
            }

            where = $"DOCKER_HOST={dockerHost}";
        }
        else
        {
            const string socket = "/var/run/docker.sock";
            if (OperatingSystem.IsWindows() || !File.Exists(socket))
            {
                return (false, $"no Docker engine ({socket} does not exist, DOCKER_HOST is not set)");
            }

            endPoint = new UnixDomainSocketEndPoint(socket);
            where = socket;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Deadline);
        try
        {
            var answered = await PingAsync(endPoint, deadline.Token).ConfigureAwait(false);
            return (answered, answered ? $"Docker engine at {where}" : $"the Docker engine at {where} did not answer /_ping with 200");
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return (false, $"no Docker engine answers at {where} ({ex.GetType().Name}: {ex.Message})");
        }
    }

    private static bool TryParseDockerHost(string dockerHost, out EndPoint endPoint)
    {
        endPoint = null!;
        if (!Uri.TryCreate(dockerHost, UriKind.Absolute, out var uri))
        {
            return false;
        }

        switch (uri.Scheme)
        {
            case "unix":
                endPoint = new UnixDomainSocketEndPoint(uri.AbsolutePath);
                return true;
            case "tcp" or "http":
                endPoint = new DnsEndPoint(uri.Host, uri.Port > 0 ? uri.Port : 2375);
                return true;
            default:
                return false;
        }
    }

    private static async Task<bool> PingAsync(EndPoint endPoint, CancellationToken cancellationToken)
    {
        var protocol = endPoint is UnixDomainSocketEndPoint ? ProtocolType.Unspecified : ProtocolType.Tcp;
        var family = endPoint is UnixDomainSocketEndPoint ? AddressFamily.Unix : AddressFamily.Unspecified;
        using var socket = family == AddressFamily.Unix
            ? new Socket(family, SocketType.Stream, protocol)
            : new Socket(SocketType.Stream, protocol);
        await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
        var request = Encoding.ASCII.GetBytes("GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n");
        await socket.SendAsync(request, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        var buffer = new byte[256];
        var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        var statusLine = Encoding.ASCII.GetString(buffer, 0, read);
        return statusLine.StartsWith("HTTP/1.", StringComparison.Ordinal) && statusLine.Contains(" 200 ", StringComparison.Ordinal);
    }
}
