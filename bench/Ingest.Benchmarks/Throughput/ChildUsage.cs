using System.Diagnostics;
using System.Globalization;

namespace Ingest.Benchmarks.Throughput;

/// <summary>
/// CPU time and peak resident memory of one child process's run (Linux), without slowing it down.
/// <see cref="Process.TotalProcessorTime"/> cannot tell: it reads <c>/proc/&lt;pid&gt;/stat</c> and throws once the
/// child has exited. Instead the CPU comes from this process's <c>cutime</c> + <c>cstime</c> (the CPU of reaped
/// children, to which .NET adds the child when it reaps it, before <see cref="Process.WaitForExitAsync"/> returns),
/// before and after; only one child runs at a time here, so the difference is that child's. The peak is the child's
/// <c>VmHWM</c>, read from <c>/proc/&lt;pid&gt;/status</c> every <see cref="PollInterval"/> while it runs: a lower
/// bound, short by whatever it grew in its last few milliseconds (memory a loader holds at its peak is held while
/// it loads, not in its exit).
/// </summary>
internal sealed class ChildUsage
{
    /// <summary>USER_HZ: the unit of /proc/self/stat, 100 on every Linux architecture .NET runs on.</summary>
    private const double TicksPerSecond = 100;

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>User + system CPU of the last run's child (10 ms resolution); zero where /proc is missing.</summary>
    public TimeSpan Cpu { get; private set; }

    /// <summary>The last run's child's peak resident set, as last sampled; 0 where /proc is missing.</summary>
    public long PeakBytes { get; private set; }

    /// <summary>What <see cref="Start"/> returns: call <see cref="Track"/> with the started child, then <see cref="StopAsync"/> after it exited.</summary>
    public sealed class Run(ChildUsage usage, long childTicksAtStart)
    {
        private Task<long>? _peak;

        /// <summary>Starts sampling the child's peak memory until <paramref name="exited"/> completes.</summary>
        public void Track(Process child, Task exited) => _peak = PollPeakAsync(child.Id, exited);

        /// <summary>Records the child's CPU and peak in the <see cref="ChildUsage"/>; the child must have been waited for.</summary>
        public async Task StopAsync()
        {
            usage.PeakBytes = _peak is null ? 0 : await _peak;
            usage.Cpu = TimeSpan.FromSeconds((ReapedChildrenTicks() - childTicksAtStart) / TicksPerSecond);
        }
    }

    /// <summary>Takes the reaped children's CPU so far; call just before starting the child.</summary>
    public Run Start() => new(this, ReapedChildrenTicks());

    private static long ReapedChildrenTicks()
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        // After "pid (comm) ": state is field 3, cutime 16, cstime 17.
        var stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
    }

    private static async Task<long> PollPeakAsync(int pid, Task exited)
    {
        var path = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status";
        long peak = 0;
        while (OperatingSystem.IsLinux() && !exited.IsCompleted)
        {
            peak = Math.Max(peak, ReadHighWaterMark(path));
            await Task.WhenAny(exited, Task.Delay(PollInterval));
        }

        return peak;
    }

    /// <summary>VmHWM in bytes; 0 once the child is gone or a zombie (which has no memory left to report).</summary>
    private static long ReadHighWaterMark(string path)
    {
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return 0;
    }
}
