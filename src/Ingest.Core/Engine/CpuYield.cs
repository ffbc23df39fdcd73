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
    /// Yield when the server is on this machine (a loopback address, <c>localhost</c> or a Unix socket), from any
    /// session. Started from a shell, the process shares the shell's session: while loads run, the whole session runs
    /// at the lower priority, and it gets its priority back when they end, at exit and on a terminating signal (for a run
    /// killed outright, a small watchdog it started in the session gives the priority back as it dies; failing that, the
    /// run's note in <c>$XDG_RUNTIME_DIR</c>, or <c>/run/ingest</c> for root, lets the next run in the session give it
    /// back). A process that leads
    /// its own session (a service, a container's process, <c>setsid</c>) lowers only itself.
    /// </summary>
    Auto,

    /// <summary>
    /// Yield whatever the server's address: for a server on this machine reached through an address Ingest does not
    /// recognize as local (the machine's own name or network address, a container's published port).
    /// </summary>
    Always,

    /// <summary>Never change the process's priority.</summary>
    Never,
}
