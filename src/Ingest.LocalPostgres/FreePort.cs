using System.Net;
using System.Net.Sockets;

namespace Ingest.LocalPostgres;

/// <summary>Loopback TCP ports.</summary>
internal static class FreePort
{
    /// <summary>A port the OS says is free right now (another process may still take it before we bind).</summary>
    public static int Any()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>True when nothing listens on 127.0.0.1:<paramref name="port"/>.</summary>
    public static bool IsFree(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary><paramref name="preferred"/> when free (and not 0), else any free port.</summary>
    public static int Prefer(int preferred) => preferred > 0 && IsFree(preferred) ? preferred : Any();
}
