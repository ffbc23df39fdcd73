using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using Npgsql;

namespace Ingest.Engine;

/// <summary>
/// Lowers this process's CPU priority while loads run, when the PostgreSQL server shares the machine
/// (see <see cref="CpuYield"/>). Linux puts every session in its own scheduling group (autogroup) and
/// shares the CPU fairly between groups, whatever the threads' nice values; a loader started from a
/// shell and a server started by <c>pg_ctl</c> are two groups, so the loader takes up to half the CPU
/// even while the server's backends wait for it. The group's nice value, in <c>/proc/self/autogroup</c>,
/// is the only lever, and it belongs to the whole session. Counted: concurrent loads in one process
/// lower it once, and the last to end restores it (also at exit and on a terminating signal). A run killed
/// outright (SIGKILL) cannot: a watchdog it started in the session gives the priority back when it dies
/// (<c>CpuYielder.Watchdog.cs</c>), and it leaves a note (in a folder only its user can write) from which the next run in
/// the same session gives the session its priority back when it ends, should the watchdog have failed (<c>CpuYielder.Note.cs</c>).
/// </summary>
internal sealed partial class CpuYielder(string autogroupPath, string statPath, Action<string, string>? write = null, string? noteFolder = null)
{
    /// <summary>The nice value loads run at: the lowest priority, so the server's backends always go first.</summary>
    public const int YieldNice = 19;

    private static readonly TimeSpan RestoreRetry = TimeSpan.FromMilliseconds(110);
    private const int RestoreAttempts = 10;

    private readonly Lock _gate = new();
    private int _holders;
    private readonly Action<string, string> _write = write ?? File.WriteAllText;
    private int? _restoreTo;
    private PosixSignalRegistration[]? _exitHooks;

    /// <summary>This process's yielder.</summary>
    public static CpuYielder Process { get; } = new(ProcessAutogroup, "/proc/self/stat");

    private const string ProcessAutogroup = "/proc/self/autogroup";

    /// <summary>
    /// Lowers the priority when <paramref name="mode"/> and the facts call for it; null when nothing
    /// changed (and nothing needs undoing). Dispose the lease when the loads end.
    /// </summary>
    /// <param name="mode">The host's choice.</param>
    /// <param name="hosts">The connection string's <c>Host</c>: one or more hosts, comma-separated.</param>
    public Lease? TryEnter(CpuYield mode, string? hosts)
    {
        if (mode == CpuYield.Never || !OperatingSystem.IsLinux() || (mode == CpuYield.Auto && !IsLocal(hosts)) || !File.Exists(autogroupPath))
        {
            return null;
        }

        lock (_gate)
        {
            string? healed = null;
            if (_holders == 0 && _restoreTo is null)
            {
                try
                {
                    var line = File.ReadAllText(autogroupPath);
                    var current = ParseNice(line);
                    if (current < 0)
                    {
                        return null; // Raised on purpose by someone privileged; we could not give it back.
                    }

                    // A session of its own (a service) gets its priority back with its last process; a shared one (a
                    // shell's) is noted, so that a run killed outright is mended by the next.
                    var shared = !LeadsSession();
                    _note = shared ? NotePath(line) : null;
                    if (current == YieldNice && TakeOverDeadRun() is { } before)
                    {
                        healed = $"; a run killed earlier in this session had left it at {YieldNice}, and it goes back to {before} after this load";
                        _restoreTo = before;
                    }
                    else if (current < YieldNice)
                    {
                        _write(autogroupPath, YieldNice.ToString(CultureInfo.InvariantCulture));
                        _restoreTo = current;
                    }

                    if (_restoreTo is { } restoreTo)
                    {
                        WriteNote(restoreTo);
                        HookExit();
                        if (shared && autogroupPath == ProcessAutogroup)
                        {
                            StartWatchdog(restoreTo); // The real session's, not a test's stand-in file.
                        }
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
                {
                    return null; // Not allowed or not there (a sandbox): load at the priority we have.
                }
            }

            _holders++;
            var from = healed is null ? _restoreTo ?? YieldNice : YieldNice;
            return new Lease(this, $"PostgreSQL runs on this machine: Ingest runs at the lowest CPU priority while it loads (Linux autogroup nice {from} -> {YieldNice}{healed}), so the server's COPY backends get the cores first; set YieldCpuToLocalServer to Never (--yield-cpu never) to keep the priority");
        }
    }

    /// <summary>As <see cref="TryEnter(CpuYield, string?)"/>, for the server behind <paramref name="dataSource"/>.</summary>
    public Lease? TryEnter(CpuYield mode, NpgsqlDataSource dataSource) =>
        mode == CpuYield.Never ? null : TryEnter(mode, new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).Host);

    /// <summary>Whether every host of a connection string is this machine: a loopback address, <c>localhost</c> or a Unix socket folder.</summary>
    public static bool IsLocal(string? hosts)
    {
        if (string.IsNullOrWhiteSpace(hosts))
        {
            return false;
        }

        foreach (var entry in hosts.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!IsLocalHost(entry))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsLocalHost(string host)
    {
        if (host.StartsWith('/') || host.StartsWith('@'))
        {
            return true; // A Unix socket folder, or an abstract socket name.
        }

        if (host.StartsWith('['))
        {
            var close = host.IndexOf(']', StringComparison.Ordinal);
            host = close > 0 ? host[1..close] : host; // [::1]:5432
        }
        else if (host.Count(c => c == ':') == 1)
        {
            host = host[..host.IndexOf(':', StringComparison.Ordinal)]; // name:5432
        }

        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
    }

    /// <summary>The autogroup's nice value, from a line like <c>/autogroup-123 nice 0</c> (or a bare number, as written).</summary>
    public static int ParseNice(string line)
    {
        var at = line.LastIndexOf("nice", StringComparison.Ordinal);
        var value = at < 0 ? line.AsSpan() : line.AsSpan(at + 4);
        return int.TryParse(value.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var nice)
            ? nice
            : throw new FormatException($"No nice value in '{line.Trim()}'.");
    }

    /// <summary>The session id in a <c>/proc/&lt;pid&gt;/stat</c> line: the fourth field after the command in parentheses.</summary>
    public static int ParseSession(string stat) => checked((int)StatField(stat, 3)); // state, ppid, pgrp, session

    /// <summary>Field <paramref name="index"/> (0-based) after the command in parentheses of a <c>/proc/&lt;pid&gt;/stat</c> line.</summary>
    internal static long StatField(string stat, int index) =>
        long.Parse(stat[(stat.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[index], CultureInfo.InvariantCulture);

    private int ReadNice() => ParseNice(File.ReadAllText(autogroupPath));

    /// <summary>
    /// The autogroup's nice value, when this machine shows it: false off Linux, on a kernel without the
    /// scheduler autogroup, or in a sandbox whose <c>/proc/self/autogroup</c> reads empty.
    /// </summary>
    public bool TryReadNice(out int nice)
    {
        nice = 0;
        try
        {
            if (OperatingSystem.IsLinux() && File.Exists(autogroupPath))
            {
                nice = ReadNice();
                return true;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            // Not shown here.
        }

        return false;
    }

    private bool LeadsSession()
    {
        try
        {
            return ParseSession(File.ReadAllText(statPath)) == Environment.ProcessId;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return false;
        }
    }

    private string? Exit()
    {
        lock (_gate)
        {
            _holders--;
            try
            {
                // A run that found the session already low (another run of the session lowered it) restores it on that
                // run's behalf when that run has died meanwhile: the last to leave gives the priority back.
                if (_holders == 0 && _restoreTo is null && TakeOverDeadRun() is { } before)
                {
                    _restoreTo = before;
                    WriteNote(before); // Now this run's, so the restore below deletes it.
                }

                if (_holders == 0)
                {
                    RestoreLocked(RestoreAttempts);
                }

                return null;
            }
            catch (IOException ex)
            {
                return ex.Message;
            }
        }
    }

    // The last load ended: give the priority back now, before the caller goes on (a CLI exits right after).
    // An unprivileged process may change the value at most every 100 ms, system-wide (EAGAIN), so a write
    // refused is tried again a little later, a bounded number of times.
    private void RestoreLocked(int attempts)
    {
        for (var attempt = 1; _restoreTo is { } nice; attempt++)
        {
            try
            {
                _write(autogroupPath, nice.ToString(CultureInfo.InvariantCulture));
                _restoreTo = null;
                DeleteNote();
                StopWatchdog();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                if (attempt >= attempts)
                {
                    throw new IOException($"Could not give the session its CPU priority back (autogroup nice {nice}) after {attempt} attempts: {ex.Message}", ex);
                }

                Thread.Sleep(RestoreRetry);
            }
        }
    }

    // A process ending while loads run still gives the priority back: at ProcessExit (Environment.Exit, the end of
    // Main) and at a terminating signal, which .NET ends a process on without raising ProcessExit (a benchmark
    // stopped with SIGTERM while yielding left its shell at nice 19). The handlers leave the signal's outcome to the
    // host (a CLI may cancel it and stop gracefully); the loads still running then go on at normal priority.
    private void HookExit()
    {
        if (_exitHooks is not null)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) => GiveBack();
        _exitHooks = [.. ((PosixSignal[])[PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGHUP, PosixSignal.SIGQUIT])
            .Select(signal => PosixSignalRegistration.Create(signal, _ => GiveBack()))];
    }

    /// <summary>Gives the priority back now, whatever loads still run: one try, as exit must not wait.</summary>
    internal void GiveBack()
    {
        lock (_gate)
        {
            try
            {
                RestoreLocked(attempts: 1);
            }
            catch (IOException)
            {
                // Nothing left to tell it to.
            }
        }
    }

    /// <summary>Holds the lower priority until disposed.</summary>
    public sealed class Lease(CpuYielder owner, string message) : IDisposable
    {
        private int _disposed;

        /// <summary>What changed, for the batch log.</summary>
        public string Message { get; } = message;

        /// <summary>Set by <see cref="Dispose"/> when the priority could not be given back: for the batch log.</summary>
        public string? RestoreError { get; private set; }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                RestoreError = owner.Exit();
            }
        }
    }
}
