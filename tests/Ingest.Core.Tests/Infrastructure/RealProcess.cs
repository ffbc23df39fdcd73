using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Ingest.Core.Tests.Infrastructure;

/// <summary>
/// A real process of an app of this repository (<c>dotnet app.dll args</c>) for tests that kill, signal and restart it:
/// its standard output and error are kept line by line. Disposing it kills it if it still runs.
/// </summary>
public sealed class RealProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly ConcurrentQueue<string> _error = new();

    private RealProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Keep(_output, e.Data);
        process.ErrorDataReceived += (_, e) => Keep(_error, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    private const string SetSid = "/usr/bin/setsid";

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The lines written to standard output so far.</summary>
    public IReadOnlyList<string> Output => [.. _output];

    /// <summary>The lines written to standard error so far.</summary>
    public IReadOnlyList<string> Error => [.. _error];

    /// <summary>
    /// Starts <c>dotnet <paramref name="dll"/> <paramref name="args"/></c> with extra environment variables, in a session of
    /// its own (<c>setsid</c>, which execs in place: the process keeps its pid), as a service manager starts a service. A
    /// run into the local test server yields the CPU of its whole session: in the test's session it would slow the test's
    /// own polling for the moments it must catch.
    /// </summary>
    public static RealProcess Start(string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = StartInfo(dll, args);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return new RealProcess(Process.Start(start)!);
    }

    /// <summary>How <see cref="Start"/> starts <c>dotnet <paramref name="dll"/> <paramref name="args"/></c>: in a session of its own, output redirected.</summary>
    public static ProcessStartInfo StartInfo(string dll, IEnumerable<string> args)
    {
        var ownSession = OperatingSystem.IsLinux() && File.Exists(SetSid);
        var start = new ProcessStartInfo(ownSession ? SetSid : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (ownSession)
        {
            start.ArgumentList.Add("dotnet");
        }

        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }

    /// <summary>SIGKILL (no chance to clean up, as <c>kill -9</c>), then waits until the process is gone.</summary>
    public async Task KillAsync()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It had already exited.
        }

        await _process.WaitForExitAsync();
    }

    /// <summary>Sends a signal by name (<c>TERM</c>, <c>INT</c>, <c>STOP</c>, <c>CONT</c>) to this process.</summary>
    public Task SignalAsync(string signal) => SignalAsync(Id, signal);

    /// <summary>Sends a signal by name to any process (a PostgreSQL backend, say), with the system's <c>kill</c>.</summary>
    public static async Task SignalAsync(long pid, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        Assert.True(kill.ExitCode == 0, $"kill -{signal} {pid} failed with exit code {kill.ExitCode}");
    }

    /// <summary>Waits for the process to exit, at most <paramref name="bound"/>; false when it was still running then.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan bound)
    {
        using var timeout = new CancellationTokenSource(bound);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Waits until a line of standard error matches, at most <paramref name="bound"/>; false when none did (or the process exited first).</summary>
    public async Task<bool> WaitForErrorLineAsync(Func<string, bool> match, TimeSpan bound)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < bound)
        {
            if (_error.Any(match))
            {
                return true;
            }

            if (_process.HasExited)
            {
                await _process.WaitForExitAsync();
                return _error.Any(match);
            }

            await Task.Delay(10);
        }

        return false;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
        }
        catch (InvalidOperationException)
        {
            // Gone already.
        }

        _process.Dispose();
    }

    private static void Keep(ConcurrentQueue<string> lines, string? line)
    {
        if (line is not null)
        {
            lines.Enqueue(line);
        }
    }
}
