using Npgsql;

namespace Ingest.Engine.Queue;

/// <summary>
/// Proof that a worker is alive: a session advisory lock on its name, held on a connection of its own while it
/// runs. The server drops it the moment the worker's process dies (even by <c>kill -9</c>), so other workers take
/// over its claims at once (<see cref="WorkStore.TryClaim"/>) instead of waiting for their leases to run out. A
/// lock lost with its connection (a database restart) is taken again at the next claim; meanwhile other workers may
/// take this worker's files, which then roll back here when their claim is found lost.
/// </summary>
internal sealed class WorkerLiveness(NpgsqlDataSource dataSource, string name) : IDisposable
{
    /// <summary>The advisory lock class of worker liveness; the key is <c>hashtext(name)</c>.</summary>
    public const int LockClass = 7355610;

    private readonly Lock _gate = new();
    private NpgsqlConnection? _connection;

    /// <summary>Holds the lock, taking it again if its connection was lost; a fault leaves it for the next call.</summary>
    public void Ensure()
    {
        lock (_gate)
        {
            if (_connection is { FullState: System.Data.ConnectionState.Open })
            {
                return;
            }

            _connection?.Dispose();
            _connection = null;
            try
            {
                var connection = dataSource.OpenConnection();
                using var command = new NpgsqlCommand($"SELECT pg_try_advisory_lock({LockClass}, hashtext($1))", connection);
                command.Parameters.AddWithValue(name);

                // False: a live worker of the same name holds it, which proves the name alive just as well.
                command.ExecuteScalar();
                _connection = connection;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException)
            {
                _ = ex; // The database is away: claims fail too until it is back.
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _connection?.Dispose();
            _connection = null;
        }
    }
}
