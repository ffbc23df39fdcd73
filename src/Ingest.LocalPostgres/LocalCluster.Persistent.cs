namespace Ingest.LocalPostgres;

internal sealed partial class LocalCluster
{
    /// <summary>The port the embedded default asks for first.</summary>
    public const int PreferredEmbeddedPort = 54329;

    /// <summary>
    /// The default folder of the persistent cluster: the user's data folder, or <c>/var/lib/ingest/postgres</c>
    /// for root, whose home the postgres user cannot enter.
    /// </summary>
    public static string DefaultPersistentRoot() =>
        ProcessRunner.RunAsPostgresUser
            ? "/var/lib/ingest/postgres"
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "ingest", "postgres");

    /// <summary>
    /// Opens the cluster under <paramref name="root"/>: creates it on first use, starts it when it is not
    /// running, and leaves it running. Two processes doing this at once are serialized by a lock file.
    /// </summary>
    public static async Task<LocalCluster> StartPersistentAsync(
        string binDirectory, string root, int preferredPort, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(root);
        await FileOwnership.GiveToPostgresAsync(root, cancellationToken).ConfigureAwait(false);
        var clusterLock = await ClusterLock.AcquireAsync(Path.Combine(root, "ingest.lock"), cancellationToken).ConfigureAwait(false);
        await using var releaseLock = clusterLock.ConfigureAwait(false);

        var cluster = new LocalCluster(binDirectory, root);
        if (!cluster.IsInitialized)
        {
            if (Directory.Exists(cluster.DataDirectory))
            {
                // An initdb that died half-way: its folder is useless and would make initdb refuse.
                Directory.Delete(cluster.DataDirectory, recursive: true);
            }

            await cluster.InitializeAsync(durable: true, cancellationToken, withPassword: true).ConfigureAwait(false);
            await cluster.WriteSettingsAsync(FreePort.Prefer(preferredPort), [], cancellationToken).ConfigureAwait(false);
        }
        else if (!cluster.TryReadPort())
        {
            await cluster.WriteSettingsAsync(FreePort.Prefer(preferredPort), [], cancellationToken).ConfigureAwait(false);
        }

        cluster.RemoveStalePidFile();
        if (!await cluster.IsRunningAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!FreePort.IsFree(cluster.Port))
            {
                // Someone else took our port since last time: move (later processes read the new one from the config).
                await cluster.WriteSettingsAsync(FreePort.Prefer(preferredPort), [], cancellationToken).ConfigureAwait(false);
            }

            await cluster.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        await ServerReadiness.WaitAsync(cluster.ConnectionString("postgres"), cancellationToken).ConfigureAwait(false);
        await cluster.RequirePasswordAsync(cancellationToken).ConfigureAwait(false);
        await ServerReadiness.EnsureDatabaseAsync(cluster.ConnectionString("postgres"), PostgresServer.EmbeddedDatabase, cancellationToken)
            .ConfigureAwait(false);
        return cluster;
    }

    /// <summary>
    /// Makes a cluster that trusted every loopback connection (made by an earlier version) ask for a password: the
    /// superuser gets a random one, kept in <see cref="PasswordFile"/> and set as a SCRAM verifier made here (so the
    /// server stores SCRAM whatever its <c>password_encryption</c>, and no password text reaches its log), then
    /// pg_hba.conf's trust lines become SCRAM, replaced whole by a rename, and the server reloads. A marker file says a
    /// reload is owed until it is done, so a start cut short at any step is finished by the next.
    /// </summary>
    private async Task RequirePasswordAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(PasswordFile))
        {
            var password = NewPassword();
            await ExecuteAsync($"ALTER ROLE postgres PASSWORD '{ScramVerifier(password)}'", cancellationToken).ConfigureAwait(false); // base64 and '$:': nothing to escape
            await WritePrivateAsync(PasswordFile, password, cancellationToken).ConfigureAwait(false);
        }

        var hba = Path.Combine(DataDirectory, "pg_hba.conf");
        var reloadOwed = Path.Combine(RootDirectory, "hba.reload");
        var rules = await File.ReadAllTextAsync(hba, cancellationToken).ConfigureAwait(false);
        var required = TrustRule().Replace(rules, "$1 scram-sha-256$2");
        if (required != rules)
        {
            await File.WriteAllTextAsync(reloadOwed, string.Empty, cancellationToken).ConfigureAwait(false);
            var next = hba + ".ingest";
            await WritePrivateAsync(next, required, cancellationToken).ConfigureAwait(false);
            await FileOwnership.GiveToPostgresAsync(next, cancellationToken).ConfigureAwait(false);
            File.Move(next, hba, overwrite: true);
        }

        if (File.Exists(reloadOwed))
        {
            await ExecuteAsync("SELECT pg_reload_conf()", cancellationToken).ConfigureAwait(false);
            await WaitUntilPasswordAskedAsync(cancellationToken).ConfigureAwait(false);
            File.Delete(reloadOwed);
        }
    }

    /// <summary>
    /// pg_reload_conf() only signals the server: waits (up to 10 s) until a session without the password is refused, so
    /// the cluster is closed to other users when the start returns.
    /// </summary>
    private async Task WaitUntilPasswordAskedAsync(CancellationToken cancellationToken)
    {
        var withoutPassword = new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString("postgres")) { Password = null, Pooling = false, Timeout = 5 }.ConnectionString;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                var connection = new Npgsql.NpgsqlConnection(withoutPassword);
                await using (connection.ConfigureAwait(false))
                {
                    await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Npgsql.NpgsqlException)
            {
                return; // Asked for a password: the new rules are in force.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException(
                    $"The local cluster at {DataDirectory} still lets sessions in without a password after its pg_hba.conf was changed and reloaded; check that file.");
            }

            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        var connection = new Npgsql.NpgsqlConnection(ConnectionString("postgres"));
        await using (connection.ConfigureAwait(false))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            using var command = new Npgsql.NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The SCRAM-SHA-256 verifier PostgreSQL stores for <paramref name="password"/> (RFC 5802, as libpq's PQencryptPasswordConn makes it).</summary>
    internal static string ScramVerifier(string password)
    {
        const int iterations = 4096;
        var salt = System.Security.Cryptography.RandomNumberGenerator.GetBytes(16);
        var salted = System.Security.Cryptography.Rfc2898DeriveBytes.Pbkdf2(
            System.Text.Encoding.UTF8.GetBytes(password), salt, iterations, System.Security.Cryptography.HashAlgorithmName.SHA256, 32);
        var storedKey = System.Security.Cryptography.SHA256.HashData(System.Security.Cryptography.HMACSHA256.HashData(salted, "Client Key"u8));
        var serverKey = System.Security.Cryptography.HMACSHA256.HashData(salted, "Server Key"u8);
        return $"SCRAM-SHA-256${iterations}:{Convert.ToBase64String(salt)}${Convert.ToBase64String(storedKey)}:{Convert.ToBase64String(serverKey)}";
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^(?!\s*#)(.*\S)[ \t]+trust[ \t]*(\r?)$", System.Text.RegularExpressions.RegexOptions.Multiline)]
    private static partial System.Text.RegularExpressions.Regex TrustRule();
}
