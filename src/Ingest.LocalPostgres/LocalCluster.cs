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

    /// <summary>Trust authentication on loopback only: no password exists to leak.</summary>
    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port.ToString(CultureInfo.InvariantCulture)};Username=postgres;Database={database}";

    /// <summary>Runs initdb; its stderr is in the exception when it fails.</summary>
    public async Task InitializeAsync(bool durable, CancellationToken cancellationToken)
    {
        var arguments = new List<string> { "-D", DataDirectory, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C" };
        if (!durable)
        {
            arguments.Add("--no-sync");
        }

        var result = await ProcessRunner.RunPostgresToolAsync(Tool("initdb"), arguments, RootDirectory, ToolTimeout, cancellationToken)
            .ConfigureAwait(false);
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

    private static string AsUser() => ProcessRunner.RunAsPostgresUser ? " (run as the postgres user, because this process is root)" : string.Empty;
}
