using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Ingest.Tests;

/// <summary>
/// Every test process leads a session of its own (Linux): Ingest lowers the CPU priority of its whole session
/// (autogroup) while it loads into a local PostgreSQL, and test processes of a solution run side by side in the session
/// of whoever ran <c>dotnet test</c>. Alone in its session, a test process's imports lower only its own priority (and
/// that of the processes it starts), never its siblings' nor the shell's, and the tests that read the priority read
/// their own.
/// </summary>
internal static class OwnSession
{
    [ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries", Justification = "A test assembly: it must hold before any test runs.")]
    internal static void Enter()
    {
        if (OperatingSystem.IsLinux())
        {
            _ = setsid(); // Fails (and changes nothing) for a process group leader: it then stays where it is.
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int setsid();
}
