using Npgsql;

namespace Ingest.Engine.Loading;

/// <summary>
/// One stream: a PostgreSQL connection that loads one piece of work at a time, kept open from one piece to the
/// next and replaced when a fault broke it.
/// </summary>
/// <remarks>
/// A stream's connection is opened synchronously, on a thread of its own, and only ever used synchronously: its socket
/// then stays a blocking one, and every send and receive of a COPY is one system call. A connection opened
/// asynchronously (as the pool's async paths do) keeps a non-blocking socket for life, and .NET emulates each blocking
/// call on it through its epoll thread: a wake-up and a hand-off per call that the server's backends pay for on a
/// machine with few cores.
/// </remarks>
internal sealed class LoadStream(NpgsqlDataSource dataSource) : IDisposable
{
    private NpgsqlConnection? _connection;
    private Thread? _opening;
    private bool _announced;

    /// <summary>
    /// Starts opening the connection on a thread of its own, so the backend's start (a fork on the server) overlaps
    /// what the caller does meanwhile; a failure is left for <see cref="Open"/> to meet again and report.
    /// </summary>
    public void OpenAhead()
    {
        _opening = new Thread(() =>
        {
            try
            {
                _connection = dataSource.OpenConnection();
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
            {
                _ = ex; // Open() tries again on the stream's own thread, where the load policy judges the fault.
            }
        })
        {
            IsBackground = true,
            Name = "Ingest stream connect",
        };
        _opening.Start();
    }

    /// <summary>The stream's open connection, opened (and announced to <paramref name="announceTo"/>) when it has none.</summary>
    public NpgsqlConnection Open(ILoadSite? announceTo)
    {
        if (_opening is { } opening)
        {
            opening.Join();
            _opening = null;
        }

        if (_connection is null)
        {
            _connection = dataSource.OpenConnection();
            _announced = false;
        }

        if (!_announced && announceTo is not null)
        {
            announceTo.Connected(_connection);
            _announced = true;
        }

        return _connection;
    }

    /// <summary>Drops the connection when a fault left it anything but open, so the next piece opens a new one.</summary>
    public void DropIfBroken()
    {
        if (_connection is null || _connection.FullState == System.Data.ConnectionState.Open)
        {
            return;
        }

        _connection.Dispose();
        _connection = null;
    }

    public void Dispose()
    {
        _opening?.Join();
        _connection?.Dispose();
        _connection = null;
    }
}
