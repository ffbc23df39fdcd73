using System.Collections.Concurrent;
using System.Diagnostics;

namespace Ingest.Core.Tests.Infrastructure;

/// <summary>
/// The built apps of this repository that tests run as real processes: the <c>ingest</c> CLI and the API host. A test
/// that needs one never skips for want of it: when it is not built next to the tests (a test project built alone),
/// it is built here, and a build that fails fails the test.
/// </summary>
public static class BuiltApp
{
    private static readonly ConcurrentDictionary<string, Lazy<string>> Found = new(StringComparer.Ordinal);

    /// <summary>The ingest.dll of samples/Ingest.Cli.</summary>
    public static string Cli => Find(Path.Combine("samples", "Ingest.Cli"), "ingest.dll");

    /// <summary>The ingest-api.dll of samples/Ingest.Api.</summary>
    public static string Api => Find(Path.Combine("samples", "Ingest.Api"), "ingest-api.dll");

    private static string Find(string project, string dll) =>
        Found.GetOrAdd(project, _ => new Lazy<string>(() => Locate(project, dll), LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    private static string Locate(string project, string dll)
    {
        var root = RepositoryRoot();

        // The configuration the tests were built in first (bin/Release/... or bin/Debug/...), then the other.
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        foreach (var candidate in new[] { configuration, configuration == "Release" ? "Debug" : "Release" })
        {
            var path = Path.Combine(root, project, "bin", candidate, "net10.0", dll);
            if (File.Exists(path))
            {
                return path;
            }
        }

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])["build", Path.Combine(root, project), "-c", configuration, "--nologo"])
        {
            start.ArgumentList.Add(arg);
        }

        using var build = Process.Start(start)!;
        var output = build.StandardOutput.ReadToEndAsync();
        var error = build.StandardError.ReadToEndAsync();
        build.WaitForExit();
        var built = Path.Combine(root, project, "bin", configuration, "net10.0", dll);
        if (build.ExitCode != 0 || !File.Exists(built))
        {
            throw new InvalidOperationException($"{dll} is not built and 'dotnet build {project} -c {configuration}' failed (exit {build.ExitCode}):\n{output.Result}\n{error.Result}");
        }

        return built;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Ingest.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Ingest.sln above {AppContext.BaseDirectory}: the tests run outside the repository.");
    }
}
