using System.Diagnostics;
using System.Globalization;

namespace Ingest.LocalPostgres;

/// <summary>
/// A detached shell that outlives this process and, once it is gone, stops the throwaway cluster and deletes
/// its folder. Test hosts are often killed right after their last test (vstest does not wait for exit handlers),
/// so cleanup that runs inside the process cannot be relied on.
/// </summary>
internal static class OrphanWatchdog
{
    // $1 = cluster folder, $2 = owner PID. SIGQUIT is PostgreSQL's immediate shutdown; the data is thrown away anyway.
    private const string Script = """
        while kill -0 "$2" 2>/dev/null; do sleep 1; done
        pidfile="$1/data/postmaster.pid"
        if [ -f "$pidfile" ]; then
          pid=$(head -n 1 "$pidfile")
          kill -QUIT "$pid" 2>/dev/null
          i=0
          while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        fi
        rm -rf "$1"
        """;

    /// <summary>Starts the watchdog for <paramref name="clusterRoot"/>; false when it could not be started (cleanup then relies on dispose).</summary>
    public static bool Watch(string clusterRoot)
    {
        if (OperatingSystem.IsWindows() || !File.Exists("/bin/sh"))
        {
            return false;
        }

        // The outer shell starts the watcher in the background and exits, so the watcher is re-parented to init:
        // killing this process's tree does not reach it, and it holds none of our standard streams.
        var startInfo = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = "/" };
        startInfo.ArgumentList.Add("-c");
        startInfo.ArgumentList.Add("\"$0\" -c \"$1\" ingest-pg-watchdog \"$2\" \"$3\" </dev/null >/dev/null 2>&1 &");
        startInfo.ArgumentList.Add("/bin/sh");
        startInfo.ArgumentList.Add(Script);
        startInfo.ArgumentList.Add(clusterRoot);
        startInfo.ArgumentList.Add(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        startInfo.RedirectStandardInput = true;
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        try
        {
            using var launcher = Process.Start(startInfo);
            if (launcher is null)
            {
                return false;
            }

            launcher.StandardInput.Close();
            return launcher.WaitForExit(TimeSpan.FromSeconds(10)) && launcher.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
