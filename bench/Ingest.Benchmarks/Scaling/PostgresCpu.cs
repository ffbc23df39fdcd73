using System.Globalization;

namespace Ingest.Benchmarks.Scaling;

/// <summary>
/// CPU time of a PostgreSQL running on this machine (Linux): the postmaster and every process it forked
/// (backends, WAL writer, checkpointer ...). A backend that exits hands its CPU time to the postmaster's
/// cutime/cstime when reaped, so the total counts backends of worker connections that closed during the run.
/// Unlike the machine's busy time, this is not inflated by other work on a shared host.
/// </summary>
internal sealed class PostgresCpu
{
    private const double TicksPerSecond = 100;

    private readonly int _postmaster;

    private PostgresCpu(int postmaster) => _postmaster = postmaster;

    /// <summary>The meter for the server whose backend has <paramref name="backendPid"/>, or null when it is not a local process (a container, another host).</summary>
    public static PostgresCpu? ForBackend(int backendPid)
    {
        var stat = Stat(backendPid);
        return stat is null ? null : new PostgresCpu(int.Parse(stat[1], CultureInfo.InvariantCulture));
    }

    /// <summary>Per process: own CPU ticks; the postmaster also with its reaped children's.</summary>
    public Dictionary<int, long> Take()
    {
        var ticks = new Dictionary<int, long>();
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            var stat = Stat(pid);
            if (stat is null)
            {
                continue;
            }

            if (pid == _postmaster)
            {
                ticks[pid] = Ticks(stat, 11) + Ticks(stat, 12) + Ticks(stat, 13) + Ticks(stat, 14);
            }
            else if (stat[1] == _postmaster.ToString(CultureInfo.InvariantCulture))
            {
                ticks[pid] = Ticks(stat, 11) + Ticks(stat, 12);
            }
        }

        return ticks;
    }

    /// <summary>
    /// Seconds used between two snapshots: what each process gained, where a child that exited in between moved
    /// its whole life's time into the postmaster's reaped total, so its time before the window is taken off again.
    /// </summary>
    public static double Between(Dictionary<int, long> start, Dictionary<int, long> end)
    {
        long used = 0;
        foreach (var (pid, now) in end)
        {
            used += now - start.GetValueOrDefault(pid);
        }

        foreach (var (pid, before) in start)
        {
            if (!end.ContainsKey(pid))
            {
                used -= before;
            }
        }

        return Math.Max(0, used) / TicksPerSecond;
    }

    /// <summary>The fields of /proc/pid/stat after "pid (comm) ": [0] state, [1] ppid ... [11] utime, [12] stime, [13] cutime, [14] cstime.</summary>
    private static string[]? Stat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            return text[(text.LastIndexOf(')') + 2)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long Ticks(string[] stat, int index) => long.Parse(stat[index], CultureInfo.InvariantCulture);
}
