using Ingest.Status;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ingest.Hosting;

/// <summary>Registers Ingest in a <see cref="IServiceCollection"/>.</summary>
public static class IngestServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IngestEngine"/>, <see cref="IStatusRecorder"/> and <see cref="IngestService"/> as singletons.
    /// The database is the <see cref="NpgsqlDataSource"/> already registered (register it before this call, e.g.
    /// with Npgsql's <c>AddNpgsqlDataSource</c>), else one made from <see cref="IngestHostOptions.ConnectionString"/>
    /// and registered here. Services registered before this call win (e.g. your own <see cref="IStatusRecorder"/>).
    /// Missing or conflicting settings fail when the engine is first resolved (or at start with a generic host),
    /// with a message that says what to set.
    /// </summary>
    public static IServiceCollection AddIngest(this IServiceCollection services, Action<IngestHostOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var hasDataSource = services.Any(d => d.ServiceType == typeof(NpgsqlDataSource));
        var options = services.AddOptions<IngestHostOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options
            .Validate(o => !hasDataSource || string.IsNullOrWhiteSpace(o.ConnectionString), "IngestHostOptions.ConnectionString is set but an NpgsqlDataSource is registered too: use one of them.")
            .Validate(o => hasDataSource || !string.IsNullOrWhiteSpace(o.ConnectionString), "Ingest needs a database: set IngestHostOptions.ConnectionString, pass an NpgsqlDataSource to AddIngest, or register one before calling AddIngest.")
            .Validate(o => o.WatchInterval > TimeSpan.Zero, "IngestHostOptions.WatchInterval must be positive.")
            .Validate(o => o.Engine is not null, "IngestHostOptions.Engine must not be null.")
            .ValidateOnStart();

        // Made by the container, so disposed with it.
        services.TryAddSingleton(sp => NpgsqlDataSource.Create(ConnectionStrings.Normalize(Options(sp).ConnectionString!)));
        services.TryAddSingleton<IStatusRecorder>(sp => Options(sp).StatusStore == IngestStatusStore.InMemory
            ? new InMemoryStatusRecorder()
            : new PostgresStatusRecorder(sp.GetRequiredService<NpgsqlDataSource>()));
        // Batch log lines reach ILogger as the engine adds them (IngestOptions.OnLogLine), not by polling the store.
        services.TryAddSingleton(sp => new BatchLogBridge((sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger(BatchLogBridge.Category)));
        services.TryAddSingleton(sp =>
        {
            var engineOptions = Options(sp).Engine;
            if (Options(sp).LogBatchLines)
            {
                var bridge = sp.GetRequiredService<BatchLogBridge>();
                var theirs = engineOptions.OnLogLine;
                engineOptions = engineOptions with { OnLogLine = (id, level, line) => { theirs?.Invoke(id, level, line); bridge.Write(id, level, line); } };
            }

            return new IngestEngine(sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<IStatusRecorder>(), engineOptions);
        });
        services.TryAddSingleton(sp => new IngestService(
            sp.GetRequiredService<IngestEngine>(),
            Options(sp),
            Options(sp).LogBatchLines ? sp.GetRequiredService<BatchLogBridge>() : null,
            sp.GetService<TimeProvider>() ?? TimeProvider.System));
        return services;
    }

    /// <summary>
    /// Like <see cref="AddIngest(IServiceCollection, Action{IngestHostOptions}?)"/> on <paramref name="dataSource"/>, which
    /// is registered as the <see cref="NpgsqlDataSource"/> and stays yours: the container does not dispose it.
    /// </summary>
    public static IServiceCollection AddIngest(this IServiceCollection services, NpgsqlDataSource dataSource, Action<IngestHostOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(dataSource);
        services.AddSingleton(dataSource);
        return services.AddIngest(configure);
    }

    private static IngestHostOptions Options(IServiceProvider services) => services.GetRequiredService<IOptions<IngestHostOptions>>().Value;
}
