using Npgsql;

namespace Ingest.Engine.Loading;

/// <summary>
/// One stream: a PostgreSQL connection that loads one piece of work at a time, kept open from one piece to the
/// next and replaced when a fault broke it.
/// </summary>
internal sealed class LoadStream(NpgsqlDataSource dataSource) : IDisposable
{
    private NpgsqlConnection? _connection;
    private int _processId;

    /// <summary>The server process of the stream's open connection (0 when it has none): readable from any thread.</summary>
    public int ProcessId => Volatile.Read(ref _processId);

    /// <summary>The stream's open connection, opened (and announced to <paramref name="announceTo"/>) when it has none.</summary>
    public NpgsqlConnection Open(ILoadSite? announceTo)
    {
        if (_connection is null)
        {
            _connection = dataSource.OpenConnection();
            Volatile.Write(ref _processId, _connection.ProcessID);
            announceTo?.Connected(_connection);
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

        Volatile.Write(ref _processId, 0);
        _connection.Dispose();
        _connection = null;
    }

    public void Dispose()
    {
        Volatile.Write(ref _processId, 0);
        _connection?.Dispose();
        _connection = null;
    }
}
