using Npgsql;

namespace Ingest.Engine;

/// <summary>What <see cref="SessionLock.EnsureAsync"/> found.</summary>
internal enum SessionLockState
{
    /// <summary>The session that took the lock is alive, so it still holds it.</summary>
    Held,

    /// <summary>That session was gone (a database restart, its backend terminated): the lock was taken again on a new one.</summary>
    Retaken,

    /// <summary>That session was gone and another session took the lock meanwhile: this process no longer holds it.</summary>
    HeldElsewhere,
}

/// <summary>
/// A PostgreSQL session advisory lock a process holds while it works, as proof to other processes that it is alive
/// (a batch's lease, a queue worker's liveness). The lock lives exactly as long as the server session that took it,
/// on a connection of its own that nothing else uses: when that session dies (a database restart, its backend
/// terminated) the lock is gone while the process goes on, and the connection, idle, still looks open on this side.
/// So whatever depends on the lock asks <see cref="EnsureAsync"/> first: one round trip on that session, and a new
/// session that takes the lock again when it was lost, or the news that another process took it meanwhile.
/// </summary>
internal sealed class SessionLock : IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly int _lockClass;
    private readonly string _key;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private NpgsqlConnection? _connection;
    private int _pid;

    private SessionLock(NpgsqlDataSource dataSource, int lockClass, string key)
    {
        _dataSource = dataSource;
        _lockClass = lockClass;
        _key = key;
    }

    /// <summary>When the session holding the lock took it, by the server's clock.</summary>
    public DateTime HeldSince { get; private set; }

    /// <summary>Takes the lock on a session of its own, or returns <see langword="null"/> when another session holds it.</summary>
    public static async Task<SessionLock?> TryTakeAsync(NpgsqlDataSource dataSource, int lockClass, string key, CancellationToken cancellationToken)
    {
        var sessionLock = new SessionLock(dataSource, lockClass, key);
        if (await sessionLock.TryTakeAsync(cancellationToken).ConfigureAwait(false))
        {
            return sessionLock;
        }

        sessionLock._gate.Dispose();
        return null;
    }

    /// <summary>
    /// Makes sure the lock is held, taking it again on a new session when the one that held it is gone. A database out
    /// of reach throws (<see cref="NpgsqlException"/>, <see cref="IOException"/>, <see cref="TimeoutException"/>): the
    /// caller cannot know, and must not act as if it held the lock. Callers at once share one round trip's wait.
    /// </summary>
    public async Task<SessionLockState> EnsureAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_connection is { } connection)
            {
                try
                {
                    // The session that took the lock is alive (the same backend answers): it holds the lock, which is
                    // never let go of but by DisposeAsync. Not cancelled midway, which would break the connection.
                    using var command = new NpgsqlCommand("SELECT pg_backend_pid()", connection);
                    if (await command.ExecuteScalarAsync(CancellationToken.None).ConfigureAwait(false) is int pid && pid == _pid)
                    {
                        return SessionLockState.Held;
                    }
                }
                catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
                {
                    _ = ex; // The session is gone with its lock: taken again below.
                }

                await DropAsync().ConfigureAwait(false);
            }

            return await TryTakeAsync(cancellationToken).ConfigureAwait(false) ? SessionLockState.Retaken : SessionLockState.HeldElsewhere;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Lets go of the lock (its session ends with it where the unlock cannot be sent).</summary>
    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_connection is { } connection)
            {
                try
                {
                    using var command = new NpgsqlCommand($"SELECT pg_advisory_unlock({_lockClass}, hashtext($1))", connection);
                    command.Parameters.AddWithValue(_key);
                    await command.ExecuteNonQueryAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
                {
                    // The lock may still be held by this session: it must not go back to the pool alive, where the
                    // holder would look alive to everyone until the pool dropped it. The pool closes it (and its idle
                    // fellows) instead.
                    NpgsqlConnection.ClearPool(connection);
                }

                await connection.DisposeAsync().ConfigureAwait(false);
                _connection = null;
            }
        }
        finally
        {
            _gate.Release();
        }

        _gate.Dispose();
    }

    private async Task<bool> TryTakeAsync(CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Not cancelled midway: a cancel that reached the server after the lock was taken would leave it held by a
            // connection the pool keeps. The statement does not wait (pg_try_advisory_lock); the caller's waits are cancellable.
            using var command = new NpgsqlCommand($"SELECT pg_try_advisory_lock({_lockClass}, hashtext($1)), pg_backend_pid(), now()", connection);
            command.Parameters.AddWithValue(_key);
            using (var reader = await command.ExecuteReaderAsync(CancellationToken.None).ConfigureAwait(false))
            {
                await reader.ReadAsync(CancellationToken.None).ConfigureAwait(false);
                if (reader.GetBoolean(0))
                {
                    (_connection, _pid, HeldSince) = (connection, reader.GetInt32(1), reader.GetDateTime(2));
                    return true;
                }
            }
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        await connection.DisposeAsync().ConfigureAwait(false);
        return false;
    }

    private async Task DropAsync()
    {
        if (_connection is { } connection)
        {
            _connection = null;
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
