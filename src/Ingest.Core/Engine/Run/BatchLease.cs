using Npgsql;

namespace Ingest.Engine.Run;

/// <summary>
/// Proof that a process is running a batch: a PostgreSQL session advisory lock on the batch id, held
/// on a dedicated connection while the batch runs. The server drops it the moment that process dies
/// (even by <c>kill -9</c>), so anyone can tell a running batch from one left <c>started</c> by a dead
/// process, and two processes never run the same batch at once.
/// </summary>
internal sealed class BatchLease : IAsyncDisposable
{
    /// <summary>The advisory lock class of batch leases; the key is <c>hashtext(batch id)</c>.</summary>
    internal const int LockClass = 7355609;
    private const string KeySql = "hashtext($1)";

    private readonly NpgsqlConnection _connection;
    private readonly Guid _batchId;

    private BatchLease(NpgsqlConnection connection, Guid batchId)
    {
        _connection = connection;
        _batchId = batchId;
    }

    /// <summary>Takes the lease, or returns <see langword="null"/> when a live process holds it.</summary>
    public static async Task<BatchLease?> TryAcquireAsync(NpgsqlDataSource dataSource, Guid batchId, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Not cancelled midway: a cancel that reached the server after the lock was taken would leave it held by a
            // connection the pool keeps. The statement does not wait (pg_try_advisory_lock); the caller's waits are cancellable.
            if (await TryLockAsync(connection, batchId, CancellationToken.None).ConfigureAwait(false))
            {
                return new BatchLease(connection, batchId);
            }
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        await connection.DisposeAsync().ConfigureAwait(false);
        return null;
    }

    /// <summary>True when a live process holds the batch's lease (it is running the batch now).</summary>
    public static async Task<bool> IsHeldAsync(NpgsqlDataSource dataSource, Guid batchId, CancellationToken cancellationToken)
    {
        var lease = await TryAcquireAsync(dataSource, batchId, cancellationToken).ConfigureAwait(false);
        if (lease is null)
        {
            return true;
        }

        await lease.DisposeAsync().ConfigureAwait(false);
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var command = new NpgsqlCommand($"SELECT pg_advisory_unlock({LockClass}, {KeySql})", _connection);
            command.Parameters.AddWithValue(_batchId.ToString());
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            // The lock may still be held by this session: it must not go back to the pool alive, where the batch would
            // look running to everyone until the pool dropped it. The pool closes it (and its idle fellows) instead.
            NpgsqlConnection.ClearPool(_connection);
        }

        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    private static async Task<bool> TryLockAsync(NpgsqlConnection connection, Guid batchId, CancellationToken cancellationToken)
    {
        using var command = new NpgsqlCommand($"SELECT pg_try_advisory_lock({LockClass}, {KeySql})", connection);
        command.Parameters.AddWithValue(batchId.ToString());
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }
}
