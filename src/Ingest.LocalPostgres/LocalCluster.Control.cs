namespace Ingest.LocalPostgres;

internal sealed partial class LocalCluster
{
    /// <summary>True when pg_ctl reports a server running on this data folder.</summary>
    public async Task<bool> IsRunningAsync(CancellationToken cancellationToken)
    {
        var result = await ProcessRunner.RunPostgresToolAsync(
            Tool("pg_ctl"), ["status", "-D", DataDirectory], RootDirectory, ToolTimeout, cancellationToken).ConfigureAwait(false);

        // 3 is pg_ctl's "no server running"; anything else (the tool failing) must not pass for it,
        // or a running server's port would look taken by someone else and be moved.
        return result.ExitCode switch
        {
            0 => true,
            3 => false,
            _ => throw new InvalidOperationException(
                $"pg_ctl status -D {DataDirectory} failed with exit code {result.ExitCode}{AsUser()}: {result.Output}"),
        };
    }

    /// <summary>Starts the server and waits until pg_ctl sees it accept connections.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var result = await ProcessRunner.RunPostgresToolAsync(
            Tool("pg_ctl"),
            ["start", "-w", "-t", "60", "-D", DataDirectory, "-l", LogFile],
            RootDirectory,
            ToolTimeout,
            cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(
                $"pg_ctl start -D {DataDirectory} (port {Port}) failed with exit code {result.ExitCode}{AsUser()}: {result.Output}\n"
                + $"Last lines of {LogFile}:\n{TailOfLog()}");
        }
    }

    /// <summary>Stops the server: <paramref name="immediate"/> for throwaway data, else a clean (fast) shutdown.</summary>
    public async Task StopAsync(bool immediate, CancellationToken cancellationToken)
    {
        if (!File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            return;
        }

        await ProcessRunner.RunPostgresToolAsync(
            Tool("pg_ctl"),
            ["stop", "-w", "-t", "60", "-D", DataDirectory, "-m", immediate ? "immediate" : "fast"],
            RootDirectory,
            ToolTimeout,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Removes a postmaster.pid whose process is gone or is no longer a postgres (its PID reused after a
    /// reboot or in a container), which would otherwise make the server refuse to start. Linux only (/proc).
    /// </summary>
    public bool RemoveStalePidFile()
    {
        var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
        if (!OperatingSystem.IsLinux() || !File.Exists(pidFile))
        {
            return false;
        }

        string firstLine;
        try
        {
            firstLine = File.ReadLines(pidFile).FirstOrDefault() ?? string.Empty;
        }
        catch (IOException)
        {
            return false;
        }

        if (!int.TryParse(firstLine.Trim(), out var pid) || pid <= 0)
        {
            return false;
        }

        var comm = $"/proc/{pid}/comm";
        var alive = File.Exists(comm) && File.ReadAllText(comm).Trim().StartsWith("postgres", StringComparison.Ordinal);
        if (alive)
        {
            return false;
        }

        File.Delete(pidFile);
        return true;
    }

    private string TailOfLog()
    {
        try
        {
            return File.Exists(LogFile) ? string.Join('\n', File.ReadLines(LogFile).TakeLast(20)) : "(no log)";
        }
        catch (IOException ex)
        {
            return $"(unreadable: {ex.Message})";
        }
    }
}
