using System.Globalization;
using System.Text.RegularExpressions;

namespace Ingest.LocalPostgres;

/// <summary>
/// A PostgreSQL cluster on this machine, driven with initdb and pg_ctl. Its folder holds
/// <c>data/</c> (PGDATA) and <c>postgres.log</c>; our settings live in <c>data/postgresql.ingest.conf</c>,
/// included from postgresql.conf, so the port chosen once is found again by later processes.
/// </summary>
internal sealed partial class LocalCluster
{
    private const string SettingsFile = "postgresql.ingest.conf";
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(120);

    private readonly string _binDirectory;

    public LocalCluster(string binDirectory, string rootDirectory)
    {
        _binDirectory = binDirectory;
        RootDirectory = rootDirectory;
    }

    /// <summary>The cluster's own folder.</summary>
    public string RootDirectory { get; }

    /// <summary>PGDATA.</summary>
    public string DataDirectory => Path.Combine(RootDirectory, "data");

    /// <summary>The server's log, written by pg_ctl.</summary>
    public string LogFile => Path.Combine(RootDirectory, "postgres.log");

    /// <summary>The TCP port on 127.0.0.1, once known.</summary>
    public int Port { get; private set; }

    /// <summary>True once initdb has completed here.</summary>
    public bool IsInitialized => File.Exists(Path.Combine(DataDirectory, "PG_VERSION"));

    /// <summary>
    /// The file holding the superuser's password of a cluster made with one (the persistent cluster): readable by
    /// this user alone, in the cluster's folder, never printed.
    /// </summary>
    public string PasswordFile => Path.Combine(RootDirectory, "password");

    /// <summary>
    /// On loopback only. With a password where the cluster has one (the persistent cluster: anyone on the machine can
    /// reach 127.0.0.1, and a superuser session can run programs as the server's OS user); trust for a throwaway
    /// test cluster, which lives as long as a test run.
    /// </summary>
    public string ConnectionString(string database)
    {
        var text = $"Host=127.0.0.1;Port={Port.ToString(CultureInfo.InvariantCulture)};Username=postgres;Database={database}";
        return ReadPassword() is { } password ? $"{text};Password={password}" : text;
    }

    /// <summary>
    /// Runs initdb; its stderr is in the exception when it fails. <paramref name="withPassword"/>: the superuser gets a
    /// random password, kept in <see cref="PasswordFile"/>, and every connection must give it (SCRAM); else trust.
    /// </summary>
    public async Task InitializeAsync(bool durable, CancellationToken cancellationToken, bool withPassword = false)
    {
        var arguments = new List<string> { "-D", DataDirectory, "-U", "postgres", "-E", "UTF8", "--locale=C" };
        string? initdbPasswordFile = null;
        if (withPassword)
        {
            var password = NewPassword();
            await WritePrivateAsync(PasswordFile, password, cancellationToken).ConfigureAwait(false);

            // initdb reads its own copy, which it can read as the postgres user when this process is root.
            initdbPasswordFile = Path.Combine(RootDirectory, "initdb.pw");
            await WritePrivateAsync(initdbPasswordFile, password, cancellationToken).ConfigureAwait(false);
            await FileOwnership.GiveToPostgresAsync(initdbPasswordFile, cancellationToken).ConfigureAwait(false);
            arguments.AddRange(["-A", "scram-sha-256", "--pwfile", initdbPasswordFile]);
        }
        else
        {
            arguments.AddRange(["-A", "trust"]);
        }

        if (!durable)
        {
            arguments.Add("--no-sync");
        }

        ProcessResult result;
        try
        {
            result = await ProcessRunner.RunPostgresToolAsync(Tool("initdb"), arguments, RootDirectory, ToolTimeout, cancellationToken)
                .ConfigureAwait(false);
        }
        finally
        {
            if (initdbPasswordFile is not null)
            {
                File.Delete(initdbPasswordFile);
            }
        }

        if (!result.Succeeded)
        {
            throw new InvalidOperationException(
                $"initdb -D {DataDirectory} failed with exit code {result.ExitCode}{AsUser()}: {result.Output}");
        }

        await File.AppendAllTextAsync(
            Path.Combine(DataDirectory, "postgresql.conf"),
            $"\n# Settings of Ingest.LocalPostgres (port, listen address, ...)\ninclude_if_exists = '{SettingsFile}'\n",
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes our settings file, replacing the previous one; <paramref name="port"/> becomes <see cref="Port"/>.</summary>
    public async Task WriteSettingsAsync(int port, IReadOnlyList<string> extraSettings, CancellationToken cancellationToken)
    {
        var lines = new List<string>
        {
            "# Written by Ingest.LocalPostgres; rewritten when the port has to change.",
            "listen_addresses = '127.0.0.1'",
            $"port = {port.ToString(CultureInfo.InvariantCulture)}",
            // No Unix socket: nothing to clash with a system cluster's /var/run/postgresql, and no folder rights to need.
            "unix_socket_directories = ''",
        };
        lines.AddRange(extraSettings);
        var path = Path.Combine(DataDirectory, SettingsFile);
        await File.WriteAllLinesAsync(path, lines, cancellationToken).ConfigureAwait(false);
        await FileOwnership.GiveToPostgresAsync(path, cancellationToken).ConfigureAwait(false);
        Port = port;
    }

    /// <summary>Reads the port from our settings file; false when there is none.</summary>
    public bool TryReadPort()
    {
        var path = Path.Combine(DataDirectory, SettingsFile);
        if (!File.Exists(path))
        {
            return false;
        }

        var matches = PortSetting().Matches(File.ReadAllText(path));
        if (matches.Count == 0)
        {
            return false;
        }

        Port = int.Parse(matches[^1].Groups[1].ValueSpan, CultureInfo.InvariantCulture);
        return true;
    }

    [GeneratedRegex(@"^\s*port\s*=\s*(\d+)", RegexOptions.Multiline)]
    private static partial Regex PortSetting();

    private string Tool(string name) => Path.Combine(_binDirectory, name);

    private string? ReadPassword() => File.Exists(PasswordFile) ? File.ReadAllText(PasswordFile).Trim() : null;

    /// <summary>32 random bytes as URL-safe base64: nothing a connection string or SQL literal must escape.</summary>
    private static string NewPassword() =>
        Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Writes a file only its owner can read or write (created so, never readable by others for a moment).</summary>
    private static async Task WritePrivateAsync(string path, string text, CancellationToken cancellationToken)
    {
        // (Windows: the user's own profile folder is private already.)
        const UnixFileMode ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = ownerOnly;
        }

        var stream = new FileStream(path, options);
        await using (stream.ConfigureAwait(false))
        {
            await stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text), cancellationToken).ConfigureAwait(false);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, ownerOnly); // An older file keeps its mode on Create.
        }
    }

    private static string AsUser() => ProcessRunner.RunAsPostgresUser ? " (run as the postgres user, because this process is root)" : string.Empty;
}
