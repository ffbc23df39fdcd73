namespace Ingest.Hosting;

/// <summary>
/// How <see cref="IngestServiceCollectionExtensions.AddIngest(Microsoft.Extensions.DependencyInjection.IServiceCollection, Action{IngestHostOptions}?)"/>
/// sets Ingest up. Settable (the Options pattern configures an instance in place); read once, when the
/// engine is first resolved.
/// </summary>
public sealed class IngestHostOptions
{
    /// <summary>
    /// The target database, when no <see cref="Npgsql.NpgsqlDataSource"/> is registered: Ingest then registers one
    /// on this connection string, owned (and disposed) by the container. Default <see langword="null"/>.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>Where batch timelines are kept. Default <see cref="IngestStatusStore.PostgreSql"/> (the target database, schema <c>ingest</c>).</summary>
    public IngestStatusStore StatusStore { get; set; } = IngestStatusStore.PostgreSql;

    /// <summary>The engine's options (streams, retries, intervals, sources). Default <see cref="IngestOptions"/>'s defaults.</summary>
    public IngestOptions Engine { get; set; } = new();

    /// <summary>How often <see cref="IngestService.WatchAsync"/> (and the log mirror) ask the recorder for news. Default 250 ms.</summary>
    public TimeSpan WatchInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Write batch log lines to <c>ILogger</c> (category <c>Ingest.Batch</c>, batch id in scope). Default true.</summary>
    public bool LogBatchLines { get; set; } = true;
}

/// <summary>Where a host keeps batch timelines.</summary>
public enum IngestStatusStore
{
    /// <summary>In PostgreSQL, beside the data (<c>ingest.import_batch</c>, <c>ingest.import_batch_status</c>): shared by every process on the database.</summary>
    PostgreSql,

    /// <summary>In this process's memory: gone when it exits; for tests and one-shot tools.</summary>
    InMemory,
}
