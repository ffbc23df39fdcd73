using Npgsql;

namespace Ingest.Engine.Queue;

/// <summary>
/// Proof that a worker is alive: a session advisory lock on its name (a <see cref="SessionLock"/>), held on a
/// connection of its own while it runs. The server drops it the moment the worker's process dies (even by
/// <c>kill -9</c>), so other workers take over its claims at once (<see cref="WorkStore.TryClaim"/>) instead of
/// waiting for their leases to run out. It also drops it when the session dies under a live worker (a database
/// restart): the worker takes it again before each claim and each renewal, and every <see cref="KeepEvery"/> while its
/// streams load, so its claims never look like a dead worker's for longer than that.
/// </summary>
internal sealed class WorkerLiveness(NpgsqlDataSource dataSource, string name) : IAsyncDisposable
{
    /// <summary>The advisory lock class of worker liveness; the key is <c>hashtext(name)</c>.</summary>
    public const int LockClass = 7355610;

    /// <summary>How often <see cref="KeepAsync"/> makes sure the lock is held.</summary>
    public static readonly TimeSpan KeepEvery = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How long after every lock was dropped at once (a database restart, a crash of one backend that ends them all) a
    /// missing lock proves nothing about a worker that has not renewed since: the live ones take theirs again within
    /// <see cref="KeepEvery"/> of the server's coming back. A worker killed while the server runs leaves no such doubt,
    /// and its claims are taken at once (<see cref="WorkStore.TryClaim"/>).
    /// </summary>
    public static readonly TimeSpan TakeoverGrace = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private SessionLock? _lock;

    /// <summary>
    /// When this worker last took its lock again after the session holding it was lost (by the server's clock), so
    /// every worker's lock may have been dropped just before; null while it never was.
    /// </summary>
    public DateTime? RetakenAt { get; private set; }

    /// <summary>
    /// Holds the lock, taking it again if its session was lost. Throws while the database is out of reach: the worker
    /// must not claim or renew as if it were alive to the others.
    /// </summary>
    public async Task EnsureAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_lock is null)
            {
                // Null: a live worker of the same name holds it, which proves the name alive just as well; asked again next time.
                _lock = await SessionLock.TryTakeAsync(dataSource, LockClass, name, cancellationToken).ConfigureAwait(false);
                return;
            }

            switch (await _lock.EnsureAsync(cancellationToken).ConfigureAwait(false))
            {
                case SessionLockState.Retaken:
                    RetakenAt = _lock.HeldSince;
                    break;
                case SessionLockState.HeldElsewhere:
                    await _lock.DisposeAsync().ConfigureAwait(false);
                    _lock = null;
                    break;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Synchronous <see cref="EnsureAsync"/>, for the streams' threads.</summary>
    public void Ensure() => EnsureAsync().GetAwaiter().GetResult();

    /// <summary>
    /// Until <paramref name="cancellationToken"/> is cancelled: the lock taken again soon after a database restart even
    /// while every stream is busy loading (none claims, so none would ask).
    /// </summary>
    public async Task KeepAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(KeepEvery, cancellationToken).ConfigureAwait(false);
                await EnsureAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException)
            {
                _ = ex; // The database is away: asked again at the next tick.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_lock is not null)
            {
                await _lock.DisposeAsync().ConfigureAwait(false);
                _lock = null;
            }
        }
        finally
        {
            _gate.Release();
        }
    }
}
