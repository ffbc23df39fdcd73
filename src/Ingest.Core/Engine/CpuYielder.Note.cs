using System.Globalization;

namespace Ingest.Engine;

/// <summary>
/// The note a yielding run leaves while it holds a shared session at the lowest priority: which process lowered it
/// (its pid and start time, so a reused pid is not taken for it), and from what. A run killed outright (SIGKILL: no
/// handler runs) leaves the session's other programs at nice 19; the next run in the session finds the note of a
/// process that is gone and gives the session its priority back when it ends, as the dead run would have.
/// </summary>
/// <remarks>
/// Notes live where only their user can write: <c>$XDG_RUNTIME_DIR</c> (a per-user 0700 tmpfs), or <c>/run/ingest</c>
/// (0700) for root; neither outlives a reboot, so an autogroup id reused after one finds no stale note. Elsewhere no
/// note is kept, and a run killed outright leaves its shell's session low until that session ends. A note is written
/// to a temporary name and renamed into place, and a run deletes only a note it wrote.
/// </remarks>
internal sealed partial class CpuYielder
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private static readonly Lazy<string?> DefaultNoteFolder = new(FindNoteFolder);

    private string? _note;

    /// <summary>The note of the autogroup a line like <c>/autogroup-123 nice 0</c> names; null when it names none or no folder is safe.</summary>
    private string? NotePath(string autogroupLine)
    {
        var folder = noteFolder ?? DefaultNoteFolder.Value;
        var at = autogroupLine.IndexOf("autogroup-", StringComparison.Ordinal);
        if (folder is null || at < 0)
        {
            return null;
        }

        var digits = autogroupLine.AsSpan(at + "autogroup-".Length);
        var end = digits.IndexOfAnyExceptInRange('0', '9');
        var id = end < 0 ? digits : digits[..end];
        return id.IsEmpty ? null : Path.Combine(folder, $"ingest-autogroup-{id}.yield");
    }

    /// <summary>The nice value a dead run of this session lowered it from, when its note says so; null otherwise.</summary>
    private int? TakeOverDeadRun() =>
        ReadNote() is { } note && !note.Self && !IsAlive(note.Pid, note.Started) ? note.Nice : null;

    private (int Pid, long Started, int Nice, bool Self)? ReadNote()
    {
        if (_note is null || !File.Exists(_note))
        {
            return null;
        }

        try
        {
            var parts = File.ReadAllText(_note).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (parts.Length == 3
                && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var started)
                && int.TryParse(parts[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var nice)
                && nice is >= 0 and < YieldNice)
            {
                return (pid, started, nice, pid == Environment.ProcessId && started == StartTime(pid));
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _ = ex; // Gone meanwhile, or not ours: as if there were none.
        }

        return null;
    }

    private void WriteNote(int nice)
    {
        if (_note is null)
        {
            return;
        }

        var pid = Environment.ProcessId;
        var temporary = $"{_note}.{pid}";
        try
        {
            File.WriteAllText(temporary, string.Create(CultureInfo.InvariantCulture, $"{pid} {StartTime(pid)} {nice}"));
            File.Move(temporary, _note, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _note = null; // No note: a SIGKILL then leaves the session low until its shell ends, as before notes.
            TryDelete(temporary);
        }
    }

    /// <summary>Deletes the note when it is this run's own (another live run of the session may have written it since).</summary>
    private void DeleteNote()
    {
        if (_note is not null && ReadNote() is { Self: true })
        {
            TryDelete(_note);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _ = ex; // Left behind: the next run reads it, finds the session not low or its writer alive, and leaves it.
        }
    }

    /// <summary>Whether the process that wrote a note still runs: its pid is there with the same start time.</summary>
    private static bool IsAlive(int pid, long started) => StartTime(pid) == started;

    /// <summary>The start time of a process (clock ticks after boot, field 22 of <c>/proc/&lt;pid&gt;/stat</c>); -1 when it is gone.</summary>
    internal static long StartTime(int pid)
    {
        try
        {
            return StatField(File.ReadAllText($"/proc/{pid}/stat"), 19); // state is field 3 of the line; starttime is field 22.
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return -1;
        }
    }

    /// <summary>A folder only this user can write, that a reboot empties; null when there is none.</summary>
    private static string? FindNoteFolder()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        if (Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } runtime && Path.IsPathRooted(runtime) && Directory.Exists(runtime)
            && File.GetUnixFileMode(runtime) == OwnerOnly)
        {
            return runtime;
        }

        // Root (effective uid 0), asked without a user-name lookup (NSS: nscd's socket, /etc/passwd) on the way to the first row.
        if (!Environment.IsPrivilegedProcess || !Directory.Exists("/run"))
        {
            return null;
        }

        try
        {
            var folder = Directory.CreateDirectory("/run/ingest", OwnerOnly).FullName;
            return File.GetUnixFileMode(folder) == OwnerOnly ? folder : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
