using Ingest.Testing;
using Npgsql;

namespace Ingest.LocalPostgres.Tests;

/// <summary>The shared server of the test process, as every test project uses it.</summary>
public sealed class TestServerTests
{
    [SkippableFact]
    public async Task Fresh_databases_are_isolated_from_each_other()
    {
        var first = await TestPostgres.CreateDatabaseAsync();
        var second = await TestPostgres.CreateDatabaseAsync();

        Assert.NotEqual(new NpgsqlConnectionStringBuilder(first).Database, new NpgsqlConnectionStringBuilder(second).Database);
        await Sql.ExecuteAsync(first, "CREATE TABLE only_here (id int); INSERT INTO only_here VALUES (1)");
        Assert.Equal(1L, await Sql.ScalarAsync(first, "SELECT count(*) FROM only_here"));
        Assert.Equal(0L, await Sql.ScalarAsync(second, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_here'"));
    }

    [SkippableFact]
    public async Task Server_is_shared_within_the_process()
    {
        var first = await TestPostgres.GetServerAsync();
        var second = await TestPostgres.GetServerAsync();

        Assert.Same(first, second);
        Assert.DoesNotContain("password", first.Description, StringComparison.OrdinalIgnoreCase);
    }

    [SkippableFact]
    public async Task Many_databases_can_be_created_in_parallel()
    {
        var connectionStrings = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => TestPostgres.CreateDatabaseAsync()));
        var answers = await Task.WhenAll(connectionStrings.Select(cs => Sql.ScalarAsync(cs, "SELECT current_database()")));

        Assert.Equal(8, answers.Distinct().Count());
    }
}
