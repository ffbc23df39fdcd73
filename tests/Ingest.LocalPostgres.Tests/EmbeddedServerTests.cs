using Npgsql;

namespace Ingest.LocalPostgres.Tests;

/// <summary>The persistent cluster of the sample hosts, in a folder of its own under /tmp (never the real one).</summary>
public sealed class EmbeddedServerTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine("/tmp", "ingest-embedded-test-" + Guid.NewGuid().ToString("N")[..8]);

    private DiscoveryOptions Options => new()
    {
        Variable = "INGEST_CONNECTION",
        TryDocker = false,
        DataRoot = _root,
        PreferredPort = 0,
    };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        var bin = PostgresBinaries.FindBinDirectory();
        if (bin is not null)
        {
            // Unlike a throwaway one, the persistent cluster is left running on dispose: stop it here.
            await new LocalCluster(bin, _root).DestroyAsync(default);
        }
    }

    [SkippableFact]
    public async Task Second_start_finds_the_same_server_and_data()
    {
        Skip.If(PostgresBinaries.FindBinDirectory() is null, "PostgreSQL's binaries are not installed.");

        await using (var first = await PostgresServer.StartEmbeddedAsync(Options, default))
        {
            Assert.Equal("ingest", await Sql.ScalarAsync(first.ConnectionString, "SELECT current_database()"));
            Assert.Equal("on", await Sql.ScalarAsync(first.ConnectionString, "SHOW fsync"));
            await Sql.ExecuteAsync(first.ConnectionString, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')");
        }

        // Left running on dispose, so a later process (here: a later start) connects to it as it is.
        await using var second = await PostgresServer.StartEmbeddedAsync(Options, default);
        Assert.Equal("still here", await Sql.ScalarAsync(second.ConnectionString, "SELECT v FROM kept"));
    }

    [SkippableFact]
    public async Task Stopped_cluster_is_started_again_on_its_recorded_port()
    {
        var bin = PostgresBinaries.FindBinDirectory();
        Skip.If(bin is null, "PostgreSQL's binaries are not installed.");

        string firstConnection;
        await using (var first = await PostgresServer.StartEmbeddedAsync(Options, default))
        {
            firstConnection = first.ConnectionString;
            await Sql.ExecuteAsync(first.ConnectionString, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)");
            await first.Cluster!.StopAsync(immediate: false, default);
        }

        await using var second = await PostgresServer.StartEmbeddedAsync(Options, default);
        Assert.Equal(firstConnection, second.ConnectionString);
        Assert.Equal(42, await Sql.ScalarAsync(second.ConnectionString, "SELECT v FROM kept"));
    }

    [SkippableFact]
    public async Task Concurrent_starts_share_one_cluster()
    {
        Skip.If(PostgresBinaries.FindBinDirectory() is null, "PostgreSQL's binaries are not installed.");

        var servers = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => PostgresServer.StartEmbeddedAsync(Options, default)));

        Assert.Single(servers.Select(s => s.ConnectionString).Distinct());
        foreach (var server in servers)
        {
            Assert.Equal(1, await Sql.ScalarAsync(server.ConnectionString, "SELECT 1"));
            await server.DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task Stale_pid_file_does_not_stop_a_start()
    {
        Skip.If(PostgresBinaries.FindBinDirectory() is null, "PostgreSQL's binaries are not installed.");
        Skip.IfNot(OperatingSystem.IsLinux(), "The stale-PID check reads /proc.");

        LocalCluster cluster;
        await using (var first = await PostgresServer.StartEmbeddedAsync(Options, default))
        {
            cluster = first.Cluster!;
            await cluster.StopAsync(immediate: false, default);
        }

        // A postmaster.pid naming a live process that is not a postgres (this test host), as after a crash and PID reuse.
        var pidFile = Path.Combine(cluster.DataDirectory, "postmaster.pid");
        await File.WriteAllTextAsync(pidFile, $"{Environment.ProcessId}\n{cluster.DataDirectory}\n0\n{cluster.Port}\n\n127.0.0.1\n0 0\nready\n");

        await using var second = await PostgresServer.StartEmbeddedAsync(Options, default);
        Assert.Equal(1, await Sql.ScalarAsync(second.ConnectionString, "SELECT 1"));
    }

    [SkippableFact]
    public async Task The_cluster_asks_every_connection_for_its_superusers_password_which_only_this_user_can_read()
    {
        Skip.If(PostgresBinaries.FindBinDirectory() is null, "PostgreSQL's binaries are not installed.");
        Skip.If(OperatingSystem.IsWindows(), "File modes are Unix's.");

        await using var server = await PostgresServer.StartEmbeddedAsync(Options, default);

        var withoutPassword = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Password = null, Pooling = false }.ConnectionString;
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => Sql.ScalarAsync(withoutPassword, "SELECT 1"));
        var wrongPassword = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Password = "guess", Pooling = false }.ConnectionString;
        var refused = await Assert.ThrowsAsync<PostgresException>(() => Sql.ScalarAsync(wrongPassword, "SELECT 1"));
        Assert.Equal(PostgresErrorCodes.InvalidPassword, refused.SqlState);
        Assert.Equal(1, await Sql.ScalarAsync(server.ConnectionString, "SELECT 1"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, OperatingSystem.IsWindows() ? default : File.GetUnixFileMode(server.Cluster!.PasswordFile));
        Assert.Equal(new NpgsqlConnectionStringBuilder(server.ConnectionString).Password, (await File.ReadAllTextAsync(server.Cluster!.PasswordFile)).Trim());
        Assert.False(File.Exists(Path.Combine(_root, "initdb.pw")));
    }

    [SkippableFact]
    public async Task A_cluster_made_trusting_every_local_connection_is_given_a_password_at_its_next_start_and_keeps_its_data()
    {
        var bin = PostgresBinaries.FindBinDirectory();
        Skip.If(bin is null, "PostgreSQL's binaries are not installed.");

        // As an earlier version made it: trust on loopback, no password.
        Directory.CreateDirectory(_root);
        await FileOwnership.GiveToPostgresAsync(_root, default);
        var old = new LocalCluster(bin, _root);
        await old.InitializeAsync(durable: false, default);
        await old.WriteSettingsAsync(FreePort.Any(), [], default);
        await old.StartAsync(default);
        var trusting = old.ConnectionString("postgres");
        await Sql.ExecuteAsync(trusting, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)");

        // As PostgreSQL 13 and older hash passwords by default: the password set must be SCRAM all the same.
        await Sql.ExecuteAsync(trusting, "ALTER SYSTEM SET password_encryption = 'md5'");
        await Sql.ExecuteAsync(trusting, "SELECT pg_reload_conf()");
        NpgsqlConnection.ClearAllPools();

        await using var server = await PostgresServer.StartEmbeddedAsync(Options, default);

        Assert.True(File.Exists(server.Cluster!.PasswordFile));
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => Sql.ScalarAsync(new NpgsqlConnectionStringBuilder(trusting) { Pooling = false }.ConnectionString, "SELECT 1"));
        Assert.Equal(7, await Sql.ScalarAsync(new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = "postgres" }.ConnectionString, "SELECT v FROM kept"));
        Assert.DoesNotMatch(@"(?m)^[^#\n]*\btrust\s*$", await File.ReadAllTextAsync(Path.Combine(server.Cluster.DataDirectory, "pg_hba.conf")));
        Assert.StartsWith("SCRAM-SHA-256$4096:", (string)(await Sql.ScalarAsync(server.ConnectionString, "SELECT rolpassword FROM pg_authid WHERE rolname = 'postgres'"))!, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_root, "hba.reload")));
    }

    [SkippableFact]
    public async Task A_start_cut_short_after_pg_hba_was_rewritten_but_before_the_reload_is_finished_by_the_next_start()
    {
        var bin = PostgresBinaries.FindBinDirectory();
        Skip.If(bin is null, "PostgreSQL's binaries are not installed.");
        await using (var first = await PostgresServer.StartEmbeddedAsync(Options, default))
        {
        }

        // The state such a start leaves: the file says SCRAM and a reload is owed, while the running server still trusts.
        var cluster = new LocalCluster(bin, _root);
        var hba = Path.Combine(cluster.DataDirectory, "pg_hba.conf");
        var rules = await File.ReadAllTextAsync(hba);
        await File.WriteAllTextAsync(hba, rules.Replace("scram-sha-256", "trust", StringComparison.Ordinal));
        Assert.True(cluster.TryReadPort());
        var password = new NpgsqlConnectionStringBuilder(cluster.ConnectionString("postgres")) { Pooling = false };
        await Sql.ExecuteAsync(password.ConnectionString, "SELECT pg_reload_conf()");
        var withoutPassword = new NpgsqlConnectionStringBuilder(password.ConnectionString) { Password = null }.ConnectionString;

        // pg_reload_conf() only signals the server: the file must stay as it is until the server has read it.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await Sql.AcceptsConnectionsAsync(withoutPassword))
        {
            Assert.True(DateTime.UtcNow < deadline, "the server never took the trust rules back");
            await Task.Delay(50);
        }

        await File.WriteAllTextAsync(hba, rules);
        await File.WriteAllTextAsync(Path.Combine(_root, "hba.reload"), string.Empty);
        Assert.Equal(1, await Sql.ScalarAsync(withoutPassword, "SELECT 1")); // trusted until the reload

        await using var server = await PostgresServer.StartEmbeddedAsync(Options, default);

        await Assert.ThrowsAnyAsync<NpgsqlException>(() => Sql.ScalarAsync(withoutPassword, "SELECT 1"));
        Assert.False(File.Exists(Path.Combine(_root, "hba.reload")));
    }
}
