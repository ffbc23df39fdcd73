using Npgsql;

namespace Ingest.LocalPostgres;

public sealed partial class PostgresServer
{
    /// <summary>The variable that gives tests and benchmarks a server.</summary>
    internal const string TestVariable = "INGEST_TEST_POSTGRES";

    /// <summary>The variable that gives the sample hosts a server.</summary>
    internal const string ConnectionVariable = "INGEST_CONNECTION";

    /// <summary>
    /// A server for tests and benchmarks: the connection string in <c>INGEST_TEST_POSTGRES</c> if set; else a
    /// Testcontainers PostgreSQL if a Docker engine answers; else a throwaway local cluster in a new folder under
    /// /tmp on a free port, stopped and deleted on dispose.
    /// </summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running server.</returns>
    /// <exception cref="PostgresUnavailableException">No server could be had; the message says what was tried and how to provide one.</exception>
    public static Task<PostgresServer> StartThrowawayAsync(CancellationToken cancellationToken = default) =>
        StartThrowawayAsync(DiscoveryOptions.FromEnvironment(TestVariable), cancellationToken);

    /// <summary>
    /// The server of the sample hosts: the connection string in <c>INGEST_CONNECTION</c> if set; else a reused
    /// Testcontainers PostgreSQL if a Docker engine answers; else a persistent local cluster under the user's data
    /// folder (<c>/var/lib/ingest/postgres</c> for root), created with initdb on first use, started on demand, on port
    /// 54329 when that was free at creation, and left running on dispose, so later processes see the same data.
    /// Its default database is <c>ingest</c>.
    /// </summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running server.</returns>
    /// <exception cref="PostgresUnavailableException">No server could be had; the message says what was tried and how to provide one.</exception>
    public static Task<PostgresServer> StartEmbeddedAsync(CancellationToken cancellationToken = default) =>
        StartEmbeddedAsync(DiscoveryOptions.FromEnvironment(ConnectionVariable), cancellationToken);

    /// <summary>The throwaway discovery with its inputs given, not read from the environment.</summary>
    internal static async Task<PostgresServer> StartThrowawayAsync(DiscoveryOptions options, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return await FromConnectionStringAsync(options, dropCreatedDatabases: true, cancellationToken).ConfigureAwait(false);
        }

        var tried = new List<string>();
        if (await TryDockerAsync(options, tried, ContainerServer.StartThrowawayAsync, cancellationToken).ConfigureAwait(false) is { } container)
        {
            return container;
        }

        var bin = FindBinaries(options, tried);
        try
        {
            var cluster = await LocalCluster.StartThrowawayAsync(bin, cancellationToken).ConfigureAwait(false);
            return new PostgresServer(
                cluster.ConnectionString("postgres"),
                $"local cluster at {cluster.RootDirectory} on port {cluster.Port}",
                () => new ValueTask(cluster.DestroyAsync(CancellationToken.None)),
                dropCreatedDatabases: false)
            { Cluster = cluster };
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            tried.Add($"a throwaway local cluster with {bin}: {ex.Message}");
            throw new PostgresUnavailableException(PostgresUnavailableException.Compose(options.Variable, tried), ex);
        }
    }

    /// <summary>The embedded discovery with its inputs given, not read from the environment.</summary>
    internal static async Task<PostgresServer> StartEmbeddedAsync(DiscoveryOptions options, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return await FromConnectionStringAsync(options, dropCreatedDatabases: false, cancellationToken).ConfigureAwait(false);
        }

        var tried = new List<string>();
        if (await TryDockerAsync(options, tried, ContainerServer.StartEmbeddedAsync, cancellationToken).ConfigureAwait(false) is { } container)
        {
            return container;
        }

        var bin = FindBinaries(options, tried);
        var root = options.DataRoot ?? LocalCluster.DefaultPersistentRoot();
        try
        {
            var cluster = await LocalCluster.StartPersistentAsync(bin, root, options.PreferredPort, cancellationToken).ConfigureAwait(false);
            return new PostgresServer(
                cluster.ConnectionString(EmbeddedDatabase),
                $"local cluster at {cluster.DataDirectory} on port {cluster.Port}",
                onDispose: null,
                dropCreatedDatabases: false)
            { Cluster = cluster };
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            tried.Add($"the local cluster at {root} with {bin}: {ex.Message}");
            throw new PostgresUnavailableException(PostgresUnavailableException.Compose(options.Variable, tried), ex);
        }
    }

    private static async Task<PostgresServer> FromConnectionStringAsync(
        DiscoveryOptions options, bool dropCreatedDatabases, CancellationToken cancellationToken)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        }
        catch (ArgumentException ex)
        {
            throw new PostgresUnavailableException($"{options.Variable} is not a valid Npgsql connection string: {ex.Message}", ex);
        }

        var description = $"server from {options.Variable} (host {builder.Host}, port {builder.Port}, database {builder.Database ?? "(default)"})";
        try
        {
            await ServerReadiness.WaitAsync(builder.ConnectionString, cancellationToken, TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            // The user chose this server: falling back to another one would hide the mistake.
            throw new PostgresUnavailableException($"The {description} does not accept connections: {ex.Message}", ex);
        }

        return new PostgresServer(builder.ConnectionString, description, onDispose: null, dropCreatedDatabases);
    }

    private static async Task<PostgresServer?> TryDockerAsync(
        DiscoveryOptions options, List<string> tried, Func<CancellationToken, Task<PostgresServer>> start, CancellationToken cancellationToken)
    {
        if (!options.TryDocker)
        {
            return null;
        }

        var (answers, reason) = await DockerProbe.ProbeAsync(cancellationToken).ConfigureAwait(false);
        if (!answers)
        {
            tried.Add($"Testcontainers: {reason}");
            return null;
        }

        try
        {
            return await start(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            tried.Add($"Testcontainers with the {reason}: {ex.GetType().Name}: {ex.Message}");
            return null;
        }
    }

    private static string FindBinaries(DiscoveryOptions options, List<string> tried)
    {
        var bin = options.BinDirectory ?? PostgresBinaries.FindBinDirectory();
        if (bin is null)
        {
            tried.Add($"a local cluster: initdb and pg_ctl not found ({PostgresBinaries.SearchedPlaces})");
            throw new PostgresUnavailableException(PostgresUnavailableException.Compose(options.Variable, tried));
        }

        return bin;
    }
}
