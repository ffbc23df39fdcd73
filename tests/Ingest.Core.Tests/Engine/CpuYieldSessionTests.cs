using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ingest.Core.Tests.Copy;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Engine;

namespace Ingest.Core.Tests.Engine;

/// <summary>
/// The real <c>ingest import</c> run as a job of a shell that leads a session of its own (as a login shell or an ssh
/// session's does): the import lowers the whole session's priority while it loads, and the shell must get it back
/// however the import ends, SIGKILL included. These read the shell's autogroup, never the test process's.
/// </summary>
public sealed class CpuYieldSessionTests
{
    [SkippableFact]
    public async Task An_import_killed_with_SIGKILL_gives_its_shells_session_the_priority_back_and_leaves_nothing_running()
    {
        SkipUnlessAutogroups();
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/slow.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(20_000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(50), ChunkSize = 32 * 1024 });

        using var shell = StartShell("dotnet \"$@\" >/dev/null 2>&1 & echo $!; read -r _", Import(f, server.Url("/slow.csv").ToString()));
        var import = int.Parse((await shell.StandardOutput.ReadLineAsync())!, CultureInfo.InvariantCulture);
        await PostgresFaultTests.WaitUntilAsync(async () => await f.ScalarAsync("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE 'COPY %'") == 1);
        Assert.Equal(CpuYielder.YieldNice, AutogroupNice(shell.Id));

        await RealProcess.SignalAsync(import, "KILL");

        // No handler of the import runs: the session's priority comes back all the same, and nothing of the import stays.
        await PostgresFaultTests.WaitUntilAsync(() => Task.FromResult(AutogroupNice(shell.Id) == 0 && SessionMembers(shell.Id).SequenceEqual([shell.Id])));
        Assert.Equal(0, AutogroupNice(shell.Id));
        Assert.Equal([shell.Id], SessionMembers(shell.Id));
        await EndAsync(shell);
    }

    [SkippableFact]
    public async Task An_import_that_ends_gives_the_priority_back_itself_and_its_watchdog_is_gone_with_it()
    {
        SkipUnlessAutogroups();
        await using var f = await EngineFixture.CreateAsync();

        // The import's exit code, then the session's nice value and its processes as the shell sees them right after.
        using var shell = StartShell("dotnet \"$@\" >/dev/null 2>&1; echo $?; read -r _", Import(f, f.WriteFile("a.csv", EngineFixture.Rows(100))));
        var exit = await shell.StandardOutput.ReadLineAsync();

        Assert.Equal("0", exit);
        Assert.Equal(0, AutogroupNice(shell.Id));
        Assert.Contains("(Linux autogroup nice 0 -> 19)", (await f.RowsAsync("SELECT log FROM ingest.import_batch"))[0], StringComparison.Ordinal);
        await PostgresFaultTests.WaitUntilAsync(() => Task.FromResult(SessionMembers(shell.Id).SequenceEqual([shell.Id])));
        await EndAsync(shell);
    }

    private static void SkipUnlessAutogroups() =>
        Skip.IfNot(OperatingSystem.IsLinux() && File.Exists("/proc/self/autogroup") && File.Exists("/usr/bin/setsid") && CpuYielder.Process.TryReadNice(out _), "Linux autogroups and setsid only.");

    private static string[] Import(EngineFixture f, string source) =>
        [BuiltApp.Cli, "import", "--dataset", "plants", "--schema", RowEncoderTests.Plants, "--format", RowEncoderTests.PlantsFormat, "--connection", f.ConnectionString, source];

    /// <summary><c>/bin/sh -c script</c> leading a new session (setsid execs in place: the shell's pid is the session's id); it waits on its input to end.</summary>
    private static Process StartShell(string script, string[] args)
    {
        var start = new ProcessStartInfo("/usr/bin/setsid") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])["/bin/sh", "-c", script, "sh", .. args])
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start)!;
    }

    private static async Task EndAsync(Process shell)
    {
        shell.StandardInput.Close();
        await shell.WaitForExitAsync();
    }

    private static int AutogroupNice(int pid) => CpuYielder.ParseNice(File.ReadAllText($"/proc/{pid}/autogroup"));

    /// <summary>The processes of session <paramref name="session"/>, by their <c>/proc/&lt;pid&gt;/stat</c>.</summary>
    private static List<int> SessionMembers(int session)
    {
        var members = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                try
                {
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    if (CpuYielder.ParseSession(stat) == session && stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z')
                    {
                        members.Add(pid);
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    _ = ex; // Gone meanwhile.
                }
            }
        }

        return members;
    }
}
