using System.Globalization;

namespace Ingest.Engine;

/// <summary>
/// The note a yielding run leaves while it holds a shared session at the lowest priority: which process lowered it,
/// and from what. A run killed outright (SIGKILL: no handler runs) leaves the session's other programs at nice 19; the
/// next run in the session finds the note of a process that is gone and gives the session its priority back when it
/// ends, as the dead run would have.
/// </summary>
internal sealed partial class CpuYielder
{
    private string? _note;

    /// <summary>The note of the autogroup a line like <c>/autogroup-123 nice 0</c> names; null when it names none.</summary>
    private string? NotePath(string autogroupLine)
    {
        var at = autogroupLine.IndexOf("autogroup-", StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var digits = autogroupLine.AsSpan(at + "autogroup-".Length);
        var end = digits.IndexOfAnyExceptInRange('0', '9');
        var id = end < 0 ? digits : digits[..end];
        return id.IsEmpty ? null : Path.Combine(noteFolder ?? Path.GetTempPath(), $"ingest-autogroup-{id}.yield");
    }

    /// <summary>The nice value a dead run of this session lowered it from, when its note says so; null otherwise.</summary>
    private int? TakeOverDeadRun()
    {
        if (_note is null || !File.Exists(_note))
        {
            return null;
        }

        var parts = File.ReadAllText(_note).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            || !int.TryParse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var nice)
            || nice is < 0 or >= YieldNice)
        {
            return null;
        }

        // A live process of the session is yielding now: it gives the priority back itself.
        return pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}") ? nice : null;
    }

    private void WriteNote(int nice)
    {
        if (_note is null)
        {
            return;
        }

        try
        {
            File.WriteAllText(_note, string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId} {nice}"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _note = null; // No note: a SIGKILL then leaves the session low until its shell ends, as before.
        }
    }

    private void DeleteNote()
    {
        if (_note is null)
        {
            return;
        }

        try
        {
            File.Delete(_note);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _ = ex; // Left behind: the next run reads it, finds the session not low, and leaves it.
        }
    }
}
