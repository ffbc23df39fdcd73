using System.Net;
using System.Net.Sockets;

namespace Ingest.Core.Tests.Infrastructure;

/// <summary>A loopback port nothing listens on (one just let go): a database out of reach.</summary>
public static class ClosedPort
{
    /// <summary>The connection string of a PostgreSQL that is not there.</summary>
    public static string ConnectionString()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"Host=127.0.0.1;Port={port};Username=nobody;Password=hunter2;Timeout=5";
    }
}
