using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using ChildProcess = System.Diagnostics.Process;

namespace Ingest.Engine;

/// <summary>
/// A run killed outright (SIGKILL, the OOM killer) runs no handler: the shell's whole session would stay at nice 19, and
/// everything typed in it after run at the lowest priority, until another run in the session mends it from its note. So
/// a run that lowers a shared session's priority starts a watchdog in the same session: a shell reading a pipe whose
/// write end only this process holds. The run's restore writes <c>done</c> and closes it; a pipe that reaches its end
/// without that (the kernel closes it when the process dies, however it dies) makes the watchdog give the session's
/// autogroup its nice value back, when it still reads 19. Either way the watchdog then exits: it never outlives the run.
/// </summary>
/// <remarks>
/// The watchdog holds no terminal and none of the run's standard streams (all three are pipes of its own), so a shell,
/// an ssh session or <c>$(ingest ...)</c> never waits for it; it ignores the terminal's job-control signals (Ctrl+C and
/// Ctrl+Z go to the whole foreground process group), as it must outlast the run they stop. A process that leads its
/// own session (a service, a container's process) starts none: its autogroup ends with it. Starting it costs a vfork and
/// an exec of <c>/bin/sh</c> (dash: about a millisecond), only when the priority is lowered.
/// </remarks>
internal sealed partial class CpuYielder
{
    // $1 is the nice value to give back. The autogroup is the session's, so the watchdog's own /proc/self/autogroup is
    // the run's. An unprivileged process may change it at most every 100 ms, system-wide (EAGAIN): tried again a little later.
    private const string WatchdogScript = """
        trap '' INT QUIT HUP TSTP TTIN TTOU
        read -r word
        [ "$word" = done ] && exit 0
        i=0
        while [ $i -lt 10 ]; do
          read -r line < /proc/self/autogroup || exit 0
          case "$line" in *" nice 19") ;; *) exit 0 ;; esac
          { echo "$1" > /proc/self/autogroup; } 2>/dev/null && exit 0
          sleep 0.11
          i=$((i + 1))
        done
        """;

    private ChildProcess? _watchdog;

    /// <summary>Starts the watchdog that restores <paramref name="nice"/> if this process dies holding the session low; best effort.</summary>
    private void StartWatchdog(int nice)
    {
        if (_watchdog is not null || !File.Exists("/bin/sh"))
        {
            return;
        }

        // All three streams redirected: the child holds none of ours (and .NET leaves the terminal alone for it).
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])["-c", WatchdogScript, "ingest-cpu-watchdog", nice.ToString(CultureInfo.InvariantCulture)])
        {
            start.ArgumentList.Add(arg);
        }

        try
        {
            _watchdog = ChildProcess.Start(start);
        }
        catch (Exception ex) when (ex is Win32Exception or IOException or InvalidOperationException or PlatformNotSupportedException)
        {
            _watchdog = null; // No watchdog: the note still lets the next run of the session mend a SIGKILL.
        }
    }

    /// <summary>The priority is back: the watchdog is told so (it exits without touching anything) and let go.</summary>
    private void StopWatchdog()
    {
        if (Interlocked.Exchange(ref _watchdog, null) is not { } watchdog)
        {
            return;
        }

        try
        {
            watchdog.StandardInput.Write("done\n");
            watchdog.StandardInput.Close();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            _ = ex; // It is gone already (killed with the run's process group): nothing to tell it.
        }
        finally
        {
            watchdog.StandardOutput.Close();
            watchdog.StandardError.Close();
            watchdog.Dispose();
        }
    }
}
