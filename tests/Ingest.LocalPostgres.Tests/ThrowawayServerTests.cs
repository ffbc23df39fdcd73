namespace Ingest.LocalPostgres.Tests;

/// <summary>Throwaway local clusters of their own (not the shared test server), to watch their whole life.</summary>
public sealed class ThrowawayServerTests
{
    private static DiscoveryOptions LocalOnly => new() { Variable = "INGEST_TEST_POSTGRES", TryDocker = false };

    [SkippableFact]
    public async Task Throwaway_cluster_starts_and_dispose_stops_it_and_removes_its_folder()
    {
        Skip.If(PostgresBinaries.FindBinDirectory() is null, "PostgreSQL's binaries are not installed.");
        var server = await PostgresServer.StartThrowawayAsync(LocalOnly, default);
        var cluster = server.Cluster!;
        try
        {
            Assert.Equal(1, await Sql.ScalarAsync(server.ConnectionString, "SELECT 1"));
            Assert.Equal("postgres", await Sql.ScalarAsync(server.ConnectionString, "SELECT current_database()"));
            Assert.Equal("off", await Sql.ScalarAsync(server.ConnectionString, "SHOW fsync"));
            Assert.StartsWith(Path.GetFullPath(ProcessRunnerParent()), cluster.RootDirectory, StringComparison.Ordinal);
            Assert.Contains(cluster.RootDirectory, server.Description, StringComparison.Ordinal);
            Assert.True(Directory.Exists(cluster.DataDirectory));
        }
        finally
        {
            await server.DisposeAsync();
        }

        Assert.False(Directory.Exists(cluster.RootDirectory));
        Assert.False(await Sql.AcceptsConnectionsAsync(server.ConnectionString));
    }

    [SkippableFact]
    public async Task Created_database_connection_string_names_the_new_database()
    {
        Skip.If(PostgresBinaries.FindBinDirectory() is null, "PostgreSQL's binaries are not installed.");
        await using var server = await PostgresServer.StartThrowawayAsync(LocalOnly, default);

        var connectionString = await server.CreateDatabaseAsync("Odd \"name\"");

        Assert.Equal("Odd \"name\"", await Sql.ScalarAsync(connectionString, "SELECT current_database()"));
    }

    [SkippableFact]
    public async Task Configured_test_server_is_used_instead_of_starting_one()
    {
        Skip.If(PostgresBinaries.FindBinDirectory() is null, "PostgreSQL's binaries are not installed.");
        await using var real = await PostgresServer.StartThrowawayAsync(LocalOnly, default);

        await using (var configured = await PostgresServer.StartThrowawayAsync(LocalOnly with { ConnectionString = real.ConnectionString }, default))
        {
            Assert.Null(configured.Cluster);
            Assert.Contains("INGEST_TEST_POSTGRES", configured.Description, StringComparison.Ordinal);
            var database = await configured.CreateDatabaseAsync("made_through_the_variable");
            Assert.Equal("made_through_the_variable", await Sql.ScalarAsync(database, "SELECT current_database()"));
        }

        // Databases made on a configured (shared) test server are dropped on dispose; the server itself stays up.
        Assert.Equal(0L, await Sql.ScalarAsync(real.ConnectionString, "SELECT count(*) FROM pg_database WHERE datname = 'made_through_the_variable'"));
    }

    [Fact]
    public async Task Unreachable_configured_server_is_an_error_not_a_fallback()
    {
        var port = FreePort.Any();
        var options = LocalOnly with { ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Password=secret" };

        var error = await Assert.ThrowsAsync<PostgresUnavailableException>(() => PostgresServer.StartThrowawayAsync(options, default));

        Assert.Contains("INGEST_TEST_POSTGRES", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_binaries_say_how_to_provide_a_server()
    {
        var noBinaries = LocalOnly with { BinDirectory = "/nonexistent/postgres/bin" };

        var error = await Assert.ThrowsAsync<PostgresUnavailableException>(() => PostgresServer.StartThrowawayAsync(noBinaries, default));

        Assert.Contains("INGEST_TEST_POSTGRES", error.Message, StringComparison.Ordinal);
        Assert.Contains("apt-get install postgresql", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Failing_initdb_shows_its_stderr()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new SkipException("Uses a shell script as a fake initdb.");
        }

        var bin = Directory.CreateTempSubdirectory("ingest-fake-bin-").FullName;
        try
        {
            File.SetUnixFileMode(bin, (UnixFileMode)0b111_101_101);
            foreach (var tool in new[] { "initdb", "pg_ctl" })
            {
                var path = Path.Combine(bin, tool);
                await File.WriteAllTextAsync(path, "#!/bin/sh\necho \"fake failure from $0\" >&2\nexit 1\n");
                File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
            }

            var error = await Assert.ThrowsAsync<PostgresUnavailableException>(
                () => PostgresServer.StartThrowawayAsync(LocalOnly with { BinDirectory = bin }, default));

            Assert.Contains("initdb", error.Message, StringComparison.Ordinal);
            Assert.Contains("fake failure from", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(bin, recursive: true);
        }
    }

    [Fact]
    public async Task Bad_connection_string_is_reported_as_such()
    {
        var options = LocalOnly with { ConnectionString = "Host=x;NotAKeyword=1" };

        var error = await Assert.ThrowsAsync<PostgresUnavailableException>(() => PostgresServer.StartThrowawayAsync(options, default));

        Assert.Contains("not a valid", error.Message, StringComparison.Ordinal);
    }

    private static string ProcessRunnerParent() => ProcessRunner.RunAsPostgresUser ? "/tmp" : Path.GetTempPath();
}
