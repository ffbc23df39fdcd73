namespace Ingest;

/// <summary>
/// Whether Ingest lowers its own CPU priority while it loads, so that a PostgreSQL server on the same
/// machine gets the cores first. On a machine the client and the server share, the server's COPY
/// backends are the bottleneck; every slice of CPU the client takes from them slows the load.
/// Linux only (through the scheduler's autogroup, which plain <c>nice</c> cannot reach); elsewhere, and
/// when the server is on another machine, nothing changes.
/// </summary>
public enum CpuYield
{
    /// <summary>
    /// Yield when the server is on this machine (a loopback address, <c>localhost</c> or a Unix socket)
    /// and this process leads its own session, as a service, a container's process or a program started
    /// with <c>setsid</c> does: then the lower priority applies to this process (and its children) only.
    /// </summary>
    Auto,

    /// <summary>
    /// Yield whenever the server is on this machine, even when the process shares its session (a shell's):
    /// while loads run, the whole session runs at the lower priority; it gets its priority back after.
    /// </summary>
    Always,

    /// <summary>Never change the process's priority.</summary>
    Never,
}
