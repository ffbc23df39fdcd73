using Npgsql;

namespace Ingest.Engine.Run;

/// <summary>
/// Proof that a process is running a batch: a PostgreSQL session advisory lock on the batch id (a
/// <see cref="SessionLock"/>), held on a dedicated connection while the batch runs. The server drops it the moment
/// that process dies (even by <c>kill -9</c>), so anyone can tell a running batch from one left <c>started</c> by a
/// dead process, and two processes never run the same batch at once. It also drops it when the session dies under a
/// live run (a database restart): the run takes it again (<see cref="EnsureAsync"/>) before it relies on it.
/// </summary>
internal sealed class BatchLease : IAsyncDisposable
{
    /// <summary>The advisory lock class of batch leases; the key is <c>hashtext(batch id)</c>.</summary>
    internal const int LockClass = 7355609;

    private readonly SessionLock _lock;

    private BatchLease(SessionLock sessionLock) => _lock = sessionLock;

    /// <summary>Takes the lease, or returns <see langword="null"/> when a live process holds it.</summary>
    public static async Task<BatchLease?> TryAcquireAsync(NpgsqlDataSource dataSource, Guid batchId, CancellationToken cancellationToken) =>
        await SessionLock.TryTakeAsync(dataSource, LockClass, batchId.ToString(), cancellationToken).ConfigureAwait(false) is { } taken
            ? new BatchLease(taken)
            : null;

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

    /// <inheritdoc cref="SessionLock.EnsureAsync"/>
    public Task<SessionLockState> EnsureAsync(CancellationToken cancellationToken = default) => _lock.EnsureAsync(cancellationToken);

    public ValueTask DisposeAsync() => _lock.DisposeAsync();
}
