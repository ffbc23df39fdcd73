using Testcontainers.PostgreSql;

namespace Ingest.LocalPostgres;

/// <summary>A PostgreSQL in a Docker container, through Testcontainers.</summary>
internal static class ContainerServer
{
    private const string Image = "postgres:15-alpine";

    /// <summary>A container removed on dispose; tuned for tests (no fsync, many connections).</summary>
    public static async Task<PostgresServer> StartThrowawayAsync(CancellationToken cancellationToken)
    {
        var container = new PostgreSqlBuilder(Image)
            .WithCommand("-c", "max_connections=200", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
            .Build();
        try
        {
            await container.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await container.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new PostgresServer(
            container.GetConnectionString(),
            $"Testcontainers PostgreSQL ({Image}) on port {container.GetMappedPublicPort(PostgreSqlBuilder.PostgreSqlPort)}",
            container.DisposeAsync,
            dropCreatedDatabases: false);
    }

    /// <summary>
    /// A reusable container (same configuration, same container) that is left running on dispose,
    /// so a later process finds the same server and data, as with the persistent local cluster.
    /// </summary>
    public static async Task<PostgresServer> StartEmbeddedAsync(CancellationToken cancellationToken)
    {
        var container = new PostgreSqlBuilder(Image)
            .WithDatabase(PostgresServer.EmbeddedDatabase)
            .WithLabel("ingest.embedded", "true")
            .WithReuse(true)
            .Build();
        await container.StartAsync(cancellationToken).ConfigureAwait(false);
        return new PostgresServer(
            container.GetConnectionString(),
            $"Testcontainers PostgreSQL ({Image}, reused) on port {container.GetMappedPublicPort(PostgreSqlBuilder.PostgreSqlPort)}",
            onDispose: null,
            dropCreatedDatabases: false);
    }
}
