namespace Ingest.LocalPostgres;

/// <summary>
/// An exclusive lock on a file (flock on Unix, through <see cref="FileShare.None"/>), held while one
/// process creates or starts the persistent cluster; the OS releases it if the process dies.
/// </summary>
internal sealed class ClusterLock : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);
    private readonly FileStream _stream;

    private ClusterLock(FileStream stream) => _stream = stream;

    public static async Task<ClusterLock> AcquireAsync(string path, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            try
            {
                return new ClusterLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                throw new TimeoutException($"Another process held {path} for over {Patience.TotalMinutes:0} minutes.", ex);
            }
        }
    }

    public ValueTask DisposeAsync() => _stream.DisposeAsync();
}
