using System.Diagnostics;
using System.Text;
using Ingest.Core.Tests.Copy;
using Ingest.Core.Tests.Engine;
using Ingest.Core.Tests.Infrastructure;

namespace Ingest.Core.Tests.Cli;

/// <summary>
/// The real <c>ingest</c> process with its standard streams as a shell leaves them: closed (<c>&gt;&amp;-</c>,
/// <c>2&gt;&amp;-</c>), under a locale whose charset is not UTF-8, on a terminal.
/// </summary>
public sealed class StandardStreamTests
{
    [SkippableFact]
    public async Task Json_is_utf8_whatever_the_locale_says()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "POSIX shells and locales.");
        await using var f = await EngineFixture.CreateAsync();
        var result = await f.ImportAsync([f.WriteFile("中文.csv", EngineFixture.Rows(3))]);

        // The locale need not exist on the machine: .NET takes the console's charset from the variables' text.
        foreach (var variable in (string[])["LANG", "LC_ALL"])
        {
            var (exit, stdout, stderr) = await ShellAsync("", new() { [variable] = "de_DE.ISO-8859-1" }, "batch", result.BatchId.ToString(), "--connection", f.ConnectionString);

            Assert.True(exit == 0, stderr);
            Assert.Contains("中文.csv\"", Encoding.UTF8.GetString(stdout), StringComparison.Ordinal);
        }
    }

    [SkippableFact]
    public async Task A_closed_stdout_is_treated_as_dev_null_the_import_loads_and_status_exits_0_without_a_crash()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "POSIX shells and file descriptors.");
        await using var f = await EngineFixture.CreateAsync();
        var id = Guid.NewGuid();

        var import = await ShellAsync(">&-", null, "import", "--dataset", "plants", "--schema", RowEncoderTests.Plants, "--format", RowEncoderTests.PlantsFormat,
            "--batch-id", id.ToString(), "--connection", f.ConnectionString, f.WriteFile("a.csv", EngineFixture.Rows(50)));
        var status = await ShellAsync(">&-", null, "status", id.ToString(), "--connection", f.ConnectionString);

        Assert.True(import.Exit == 0, import.Err);
        Assert.Equal(50, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.True(status.Exit == 0, status.Err);
        Assert.DoesNotContain("Unhandled exception", import.Err + status.Err, StringComparison.Ordinal);
        Assert.Contains($"Batch {id} finished: 50 rows inserted", import.Err, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_closed_stderr_drops_the_messages_and_never_sends_them_into_stdout()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "POSIX shells and file descriptors.");
        await using var f = await EngineFixture.CreateAsync();

        var (exit, stdout, _) = await ShellAsync("2>&-", null, "status", Guid.NewGuid().ToString(), "--connection", f.ConnectionString);

        Assert.Equal(2, exit);
        Assert.Equal(string.Empty, Encoding.UTF8.GetString(stdout));
    }

    [SkippableTheory]
    [InlineData("help")]
    [InlineData("import")]
    [InlineData("interrupted import")]
    public async Task On_a_terminal_the_keypad_is_never_left_in_transmit_mode(string run)
    {
        Skip.IfNot(OperatingSystem.IsLinux() && File.Exists("/usr/bin/script"), "util-linux 'script' runs the process on a pseudo-terminal.");
        await using var f = await EngineFixture.CreateAsync();
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/slow.csv", Encoding.UTF8.GetBytes(EngineFixture.Rows(20_000)), new HttpFault { ChunkDelay = TimeSpan.FromMilliseconds(50), ChunkSize = 32 * 1024 });
        string[] import = ["import", "--dataset", "plants", "--schema", RowEncoderTests.Plants, "--format", RowEncoderTests.PlantsFormat, "--connection", f.ConnectionString];
        string[] args = run switch
        {
            "help" => ["import", "--help"],
            "import" => [.. import, f.WriteFile("a.csv", EngineFixture.Rows(10))],
            _ => [.. import, server.Url("/slow.csv").ToString()],
        };

        // 'script' runs the command through $SHELL -c, or /bin/sh when SHELL is unset (as under CI). dash then stays
        // between the terminal and the process, and Ctrl+C ends dash itself: the exit status would be the shell's 130,
        // not ingest's. 'exec' makes ingest the terminal's process whatever the shell.
        var command = "exec " + string.Join(' ', ((string[])["dotnet", BuiltApp.Cli, .. args]).Select(a => "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'"));
        var start = new ProcessStartInfo("/usr/bin/script") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])["-qec", command, "/dev/null"])
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var terminal = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(terminal);
        var error = process.StandardError.ReadToEndAsync();
        if (run == "interrupted import")
        {
            // Ctrl+C typed on the terminal once rows flow: the terminal's line discipline sends SIGINT.
            await PostgresFaultTests.WaitUntilAsync(async () => await f.ScalarAsync("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE 'COPY %'") == 1);
            await process.StandardInput.BaseStream.WriteAsync(new byte[] { 3 });
            await process.StandardInput.BaseStream.FlushAsync();
        }

        await process.WaitForExitAsync();
        await copy;
        var written = Encoding.UTF8.GetString(terminal.ToArray());

        Assert.True(process.ExitCode == (run == "interrupted import" ? 1 : 0), $"exit {process.ExitCode}: {written}{await error}");
        Assert.Contains(run == "help" ? "Usage:" : run == "import" ? "finished: 10 rows inserted" : "interrupted (resume it with the same --batch-id)", written, StringComparison.Ordinal);

        // Keypad-transmit (smkx, "\e[?1h\e=") switches the terminal's arrow keys to application codes: left on, a shell's
        // line editing gets "\eOA" for the up arrow. Not sent at all, or taken back (rmkx, "\e[?1l\e>") after it.
        var on = written.LastIndexOf("\u001b[?1h", StringComparison.Ordinal);
        Assert.True(on < 0 || written.IndexOf("\u001b[?1l", on, StringComparison.Ordinal) > on, $"left in keypad-transmit mode: {written.Replace("\u001b", "\\e", StringComparison.Ordinal)}");
    }

    /// <summary>Runs <c>dotnet ingest.dll args</c> through <c>/bin/sh</c> with <paramref name="redirections"/> applied; standard output as bytes.</summary>
    private static async Task<(int Exit, byte[] Out, string Err)> ShellAsync(string redirections, Dictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, StandardErrorEncoding = Encoding.UTF8 };
        foreach (var arg in (string[])["-c", $"exec \"$@\" {redirections}", "sh", "dotnet", BuiltApp.Cli, .. args])
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? [])
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        await copy;
        return (process.ExitCode, stdout.ToArray(), await stderr);
    }
}
