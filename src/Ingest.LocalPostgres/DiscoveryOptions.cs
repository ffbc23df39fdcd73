namespace Ingest.LocalPostgres;

/// <summary>The inputs of server discovery, so tests can give them without touching the process environment.</summary>
internal sealed record DiscoveryOptions
{
    /// <summary>The environment variable the connection string comes from (named in messages).</summary>
    public required string Variable { get; init; }

    /// <summary>A configured server; when set, nothing else is tried. Default: none.</summary>
    public string? ConnectionString { get; init; }

    /// <summary>Whether to probe for a Docker engine and use Testcontainers. Default: true.</summary>
    public bool TryDocker { get; init; } = true;

    /// <summary>The folder of initdb and pg_ctl. Default: searched (PATH, /usr/lib/postgresql/*/bin).</summary>
    public string? BinDirectory { get; init; }

    /// <summary>The persistent cluster's folder. Default: <see cref="LocalCluster.DefaultPersistentRoot"/>.</summary>
    public string? DataRoot { get; init; }

    /// <summary>The port a new persistent cluster asks for first; 0 for any. Default: 54329.</summary>
    public int PreferredPort { get; init; } = LocalCluster.PreferredEmbeddedPort;

    public static DiscoveryOptions FromEnvironment(string variable) =>
        new() { Variable = variable, ConnectionString = Environment.GetEnvironmentVariable(variable) };
}
