namespace Ingest.LocalPostgres;

public sealed partial class PostgresServer
{
    /// <summary>
    /// Restarts a local cluster on the same port, dropping every connection at once (an immediate
    /// shutdown, as a crash or a failover would). For fault-injection tests of reconnecting clients.
    /// </summary>
    /// <param name="downtime">How long the server stays down before it starts again.</param>
    /// <param name="cancellationToken">Cancels the restart.</param>
    /// <exception cref="NotSupportedException">The server is not a local cluster (a configured server or a container).</exception>
    public async Task RestartAsync(TimeSpan downtime = default, CancellationToken cancellationToken = default)
    {
        var cluster = Cluster ?? throw new NotSupportedException($"Only a local cluster can be restarted; this server is {Description}.");
        await cluster.StopAsync(immediate: true, cancellationToken).ConfigureAwait(false);
        if (downtime > TimeSpan.Zero)
        {
            await Task.Delay(downtime, cancellationToken).ConfigureAwait(false);
        }

        await cluster.StartAsync(cancellationToken).ConfigureAwait(false);
    }
}
