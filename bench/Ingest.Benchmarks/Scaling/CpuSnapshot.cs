using System.Globalization;

namespace Ingest.Benchmarks.Scaling;

/// <summary>
/// Where the machine's CPU went during one run (Linux): the whole machine's busy and I/O-wait time from
/// <c>/proc/stat</c>, and the CPU of this process's finished children (the worker processes, reaped by .NET)
/// from <c>cutime</c>/<c>cstime</c> of <c>/proc/self/stat</c>. The busy time includes anything else running
/// on the machine; PostgreSQL's own share is measured by <see cref="PostgresCpu"/>.
/// </summary>
internal readonly record struct CpuSnapshot(long BusyTicks, long IoWaitTicks, long ChildTicks, long SelfTicks)
{
    /// <summary>USER_HZ: the unit of /proc/stat and /proc/self/stat, 100 on every Linux architecture .NET runs on.</summary>
    private const double TicksPerSecond = 100;

    public static bool Available => OperatingSystem.IsLinux() && File.Exists("/proc/stat");

    public static CpuSnapshot Take()
    {
        if (!Available)
        {
            return default;
        }

        // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest time is inside user)
        var cpu = File.ReadLines("/proc/stat").First(l => l.StartsWith("cpu ", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(Ticks).ToArray();
        var busy = cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + (cpu.Length > 7 ? cpu[7] : 0);

        // After "pid (comm) ": state is field 3, utime 14, stime 15, cutime 16, cstime 17.
        var stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return new CpuSnapshot(busy, cpu[4], Ticks(fields[13]) + Ticks(fields[14]), Ticks(fields[11]) + Ticks(fields[12]));
    }

    /// <summary>The CPU used between <paramref name="start"/> and this snapshot.</summary>
    public CpuUse Since(CpuSnapshot start) => new(
        (BusyTicks - start.BusyTicks) / TicksPerSecond,
        (IoWaitTicks - start.IoWaitTicks) / TicksPerSecond,
        (ChildTicks - start.ChildTicks) / TicksPerSecond,
        (SelfTicks - start.SelfTicks) / TicksPerSecond);

    private static long Ticks(string text) => long.Parse(text, CultureInfo.InvariantCulture);
}

/// <summary>CPU seconds over one run.</summary>
/// <param name="Busy">All cores of the machine, not idle and not waiting for I/O.</param>
/// <param name="IoWait">All cores, idle while some task waited for the disk.</param>
/// <param name="Workers">The worker processes (children of this process that exited during the run).</param>
/// <param name="Self">This process (submit, checks, the server COPY's client side).</param>
internal readonly record struct CpuUse(double Busy, double IoWait, double Workers, double Self);
