using Ingest.Status;
using Ingest.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ingest.Hosting.Tests;

public sealed class AddIngestTests
{
    [SkippableFact]
    public async Task A_connection_string_gives_an_engine_that_loads_a_batch_and_a_PostgreSQL_recorder()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync();
        var services = new ServiceCollection().AddIngest(o =>
        {
            o.ConnectionString = connectionString;
            o.Engine = Plants.FastOptions;
        });
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        var ingest = provider.GetRequiredService<IngestService>();
        var file = Plants.File(Plants.Rows(250));

        var result = await ingest.ImportAsync(Plants.Request(file));

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(250, result.InsertCount);
        Assert.IsType<PostgresStatusRecorder>(provider.GetRequiredService<IStatusRecorder>());
        Assert.Same(provider.GetRequiredService<IngestEngine>(), ingest.Engine);
        await using var count = provider.GetRequiredService<NpgsqlDataSource>().CreateCommand("SELECT count(*) FROM plants");
        Assert.Equal(250L, await count.ExecuteScalarAsync());
    }

    [SkippableFact]
    public async Task A_data_source_passed_in_is_used_and_stays_the_callers_after_the_container_is_disposed()
    {
        await using var dataSource = NpgsqlDataSource.Create(await TestPostgres.CreateDatabaseAsync());
        await using (var provider = new ServiceCollection().AddIngest(dataSource, o => o.Engine = Plants.FastOptions).BuildServiceProvider())
        {
            var result = await provider.GetRequiredService<IngestService>().ImportAsync(Plants.Request(Plants.File(Plants.Rows(10))));
            Assert.Equal(10, result.InsertCount);
            Assert.Same(dataSource, provider.GetRequiredService<NpgsqlDataSource>());
        }

        await using var count = dataSource.CreateCommand("SELECT count(*) FROM plants");
        Assert.Equal(10L, await count.ExecuteScalarAsync());
    }

    [SkippableFact]
    public async Task A_data_source_registered_before_AddIngest_is_the_database_and_the_in_memory_store_keeps_timelines()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync();
        var services = new ServiceCollection();
        services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
        services.AddIngest(o =>
        {
            o.StatusStore = IngestStatusStore.InMemory;
            o.Engine = Plants.FastOptions;
        });
        await using var provider = services.BuildServiceProvider();
        var ingest = provider.GetRequiredService<IngestService>();

        var result = await ingest.ImportAsync(Plants.Request(Plants.File(Plants.Rows(3))));

        Assert.Equal(3, result.InsertCount);
        Assert.IsType<InMemoryStatusRecorder>(ingest.Recorder);
        Assert.Equal(BatchStatus.Finished, (await ingest.Recorder.GetBatchAsync(result.BatchId)).Status);
    }

    [Fact]
    public void Without_a_database_resolving_the_engine_says_what_to_set()
    {
        using var provider = new ServiceCollection().AddIngest().BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IngestEngine>());

        Assert.Contains("set IngestHostOptions.ConnectionString", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_connection_string_beside_a_registered_data_source_is_refused()
    {
        var services = new ServiceCollection();
        services.AddSingleton(_ => NpgsqlDataSource.Create("Host=localhost"));
        using var provider = services.AddIngest(o => o.ConnectionString = "Host=elsewhere").BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IngestEngine>());

        Assert.Contains("use one of them", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Services_registered_before_AddIngest_win()
    {
        var mine = new InMemoryStatusRecorder();
        var services = new ServiceCollection();
        services.AddSingleton<IStatusRecorder>(mine);
        await using var provider = services.AddIngest(o => o.ConnectionString = "Host=localhost").BuildServiceProvider();

        Assert.Same(mine, provider.GetRequiredService<IngestEngine>().Recorder);
    }
}
