using System.Diagnostics;
using System.Globalization;

namespace Ingest.Benchmarks.Throughput;

/// <summary>
/// CPU time and peak resident memory of this process over one run. On Linux the peak (VmHWM) is reset
/// at the start through <c>/proc/self/clear_refs</c>, so each run's peak is its own, not the largest so far.
/// </summary>
internal sealed class ProcessMeter
{
    private readonly TimeSpan _cpuAtStart;

    private ProcessMeter(TimeSpan cpuAtStart) => _cpuAtStart = cpuAtStart;

    /// <summary>True when the peak could be reset, so <see cref="PeakBytes"/> is this run's own.</summary>
    public bool PeakIsPerRun { get; private init; }

    public static ProcessMeter Start()
    {
        var reset = false;
        if (OperatingSystem.IsLinux())
        {
            try
            {
                File.WriteAllText("/proc/self/clear_refs", "5");
                reset = true;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
        }

        using var self = Process.GetCurrentProcess();
        return new ProcessMeter(self.TotalProcessorTime) { PeakIsPerRun = reset };
    }

    public TimeSpan CpuTime
    {
        get
        {
            using var self = Process.GetCurrentProcess();
            return self.TotalProcessorTime - _cpuAtStart;
        }
    }

    public static long PeakBytes
    {
        get
        {
            if (OperatingSystem.IsLinux())
            {
                foreach (var line in File.ReadLines("/proc/self/status"))
                {
                    if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    {
                        return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
                    }
                }
            }

            using var self = Process.GetCurrentProcess();
            return self.PeakWorkingSet64;
        }
    }
}
