using System.Diagnostics;

namespace Ingest.LocalPostgres;

/// <summary>The outcome of one finished child process.</summary>
internal readonly record struct ProcessResult(int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>Both streams, trimmed, for error messages.</summary>
    public string Output => string.Join('\n', new[] { StandardError.Trim(), StandardOutput.Trim() }.Where(s => s.Length > 0));
}

/// <summary>Runs PostgreSQL's tools, as the <c>postgres</c> user when this process is root (initdb and pg_ctl refuse root).</summary>
internal static class ProcessRunner
{
    public const string PostgresUser = "postgres";

    /// <summary>True when the tools must be run through <c>runuser -u postgres</c>.</summary>
    public static bool RunAsPostgresUser => OperatingSystem.IsLinux() && Environment.IsPrivilegedProcess;

    /// <summary>Runs <paramref name="tool"/> as the user that may run PostgreSQL tools.</summary>
    public static Task<ProcessResult> RunPostgresToolAsync(
        string tool, IReadOnlyList<string> arguments, string workingDirectory, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!RunAsPostgresUser)
        {
            return RunAsync(tool, arguments, workingDirectory, timeout, cancellationToken);
        }

        var wrapped = new List<string>(arguments.Count + 4) { "-u", PostgresUser, "--", tool };
        wrapped.AddRange(arguments);
        return RunAsync(FindSystemTool("runuser"), wrapped, workingDirectory, timeout, cancellationToken);
    }

    /// <summary>The full path of a system tool, also when PATH lacks the sbin folders (as it often does for services).</summary>
    public static string FindSystemTool(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Concat(SystemFolders))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return name;
    }

    private static readonly string[] SystemFolders = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

    /// <summary>Runs a process to its end (or kills it after <paramref name="timeout"/>) and captures both streams.</summary>
    public static async Task<ProcessResult> RunAsync(
        string fileName, IReadOnlyList<string> arguments, string? workingDirectory, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            // The caller's folder may be one the postgres user cannot enter (e.g. under /root): tools warn or fail there.
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // Messages are parsed and shown to users: keep them in English whatever the machine's locale.
        startInfo.Environment["LC_MESSAGES"] = "C";

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return new ProcessResult(127, string.Empty, $"could not start {fileName}: {ex.Message}");
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);

        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(timeoutSource.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish within {timeout.TotalSeconds:0} s.");
        }

        return new ProcessResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }
}
