using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Ingest.Benchmarks.Throughput;

/// <summary>What the results were measured on: hardware, OS, runtime and package versions.</summary>
internal static class MachineInfo
{
    public static IReadOnlyList<(string Name, string Value)> Describe(string postgresVersion, string serverDescription) =>
    [
        ("CPU", $"{CpuModel()}, {Environment.ProcessorCount} logical cores (nproc)"),
        ("Memory", Memory()),
        ("OS", $"{OsName()} ({RuntimeInformation.OSDescription}, {RuntimeInformation.OSArchitecture})"),
        (".NET", $"{RuntimeInformation.FrameworkDescription}, server GC {System.Runtime.GCSettings.IsServerGC}"),
        ("PostgreSQL", postgresVersion),
        ("Server", serverDescription),
        ("psql", PsqlVersion()),
        ("Source", SourceVersion()),
        ("Packages", $"Npgsql {Version(typeof(Npgsql.NpgsqlConnection))}, Sylvan.Data.Csv {Version(typeof(Sylvan.Data.Csv.CsvDataReader))}, BenchmarkDotNet {Version(typeof(BenchmarkDotNet.Running.BenchmarkSwitcher))}"),
    ];

    private static string CpuModel() => FirstValue("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString();

    private static string Memory()
    {
        var total = FirstValue("/proc/meminfo", "MemTotal");
        if (total is null)
        {
            return "unknown";
        }

        var kilobytes = long.Parse(total.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture, $"{kilobytes / 1024.0 / 1024.0:0.0} GiB");
    }

    private static string OsName()
    {
        const string Path = "/etc/os-release";
        if (File.Exists(Path))
        {
            foreach (var line in File.ReadLines(Path))
            {
                if (line.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))
                {
                    return line["PRETTY_NAME=".Length..].Trim('"');
                }
            }
        }

        return RuntimeInformation.OSDescription;
    }

    private static string PsqlVersion()
    {
        var psql = Loaders.PsqlPath();
        if (psql is null)
        {
            return "not found";
        }

        using var process = Process.Start(new ProcessStartInfo(psql, "--version") { RedirectStandardOutput = true, UseShellExecute = false });
        var text = process?.StandardOutput.ReadToEnd().Trim() ?? "unknown";
        process?.WaitForExit();
        return $"{text} ({psql})";
    }

    /// <summary>The commit measured, and whether src/ had uncommitted changes (then the numbers are of those).</summary>
    private static string SourceVersion()
    {
        var commit = Git("rev-parse --short HEAD");
        if (commit is null)
        {
            return "not a git checkout";
        }

        var changes = Git("status --porcelain -- src");
        return string.IsNullOrEmpty(changes) ? $"commit {commit}, src/ clean" : $"commit {commit} with uncommitted changes in src/";
    }

    private static string? Git(string arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("git", arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (process is null)
            {
                return null;
            }

            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private static string Version(Type type)
    {
        var version = type.Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? type.Assembly.GetName().Version?.ToString() ?? "?";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? version : version[..plus];
    }

    private static string? FirstValue(string file, string key)
    {
        if (!File.Exists(file))
        {
            return null;
        }

        foreach (var line in File.ReadLines(file))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon].Trim() == key)
            {
                return line[(colon + 1)..].Trim();
            }
        }

        return null;
    }
}
