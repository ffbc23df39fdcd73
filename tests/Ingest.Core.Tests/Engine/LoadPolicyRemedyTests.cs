using Ingest.Engine.Loading;
using Npgsql;

namespace Ingest.Core.Tests.Engine;

/// <summary>What a failed batch tells its user to fix: the table when the server refused it (SQLSTATE class 42), else the file.</summary>
public sealed class LoadPolicyRemedyTests
{
    [SkippableFact]
    public async Task A_column_gone_from_the_table_is_the_tables_to_fix_and_a_bad_value_the_files()
    {
        await using var f = await EngineFixture.CreateAsync();
        var gone = await ServerRefusalAsync(f, "SELECT no_such_column FROM pg_class");
        var badValue = await ServerRefusalAsync(f, "SELECT 'x'::int");

        Assert.Equal("42703", gone.SqlState);
        Assert.Equal("Fix the dataset's table (or the privileges on it)", LoadPolicy.WhatToFix(new FileErrorException("a.csv", "copy failed", gone)));
        Assert.Equal("22P02", badValue.SqlState);
        Assert.Equal("Fix the file", LoadPolicy.WhatToFix(new FileErrorException("a.csv", "copy failed", badValue)));
        Assert.Equal("Fix the file", LoadPolicy.WhatToFix(new FileErrorException("a.csv", "unterminated quote")));
    }

    private static async Task<PostgresException> ServerRefusalAsync(EngineFixture f, string sql)
    {
        await using var command = f.DataSource.CreateCommand(sql);
        return await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteScalarAsync());
    }
}
