using System.Globalization;
using Ingest.Core.Tests.Copy;
using Ingest.Engine;
using Ingest.Status;

namespace Ingest.Core.Tests.Engine;

/// <summary>
/// Tests of the CPU priority that loads into a local server run at. Some change and read this test process's own
/// priority (its session's autogroup, see Shared/OwnSession.cs), which every import into the local test server lowers
/// by default: they run alone, after the tests that run side by side.
/// </summary>
[Collection(ProcessPriority.Name)]
public sealed class CpuYieldTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ingest-yield-").FullName;

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("localhost", true)]
    [InlineData("LOCALHOST:5433", true)]
    [InlineData("::1", true)]
    [InlineData("[::1]:5432", true)]
    [InlineData("127.0.0.2", true)]
    [InlineData("/var/run/postgresql", true)]
    [InlineData("127.0.0.1, localhost", true)]
    [InlineData("db.example.com", false)]
    [InlineData("10.0.0.5:5432", false)]
    [InlineData("127.0.0.1,db.example.com", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void A_server_is_local_only_when_every_host_is_this_machine(string? hosts, bool local) =>
        Assert.Equal(local, CpuYielder.IsLocal(hosts));

    [Theory]
    [InlineData("/autogroup-24684 nice 0\n", 0)]
    [InlineData("/autogroup-7 nice 19", 19)]
    [InlineData("/autogroup-7 nice -5\n", -5)]
    public void The_autogroup_line_gives_its_nice_value(string line, int nice) => Assert.Equal(nice, CpuYielder.ParseNice(line));

    [Fact]
    public void The_session_is_read_after_the_command_even_when_it_holds_spaces_and_parentheses() =>
        Assert.Equal(456, CpuYielder.ParseSession("123 (my (odd) proc) S 1 321 456 34816 123 4194560 1 0"));

    [Fact]
    public void Always_lowers_the_priority_until_the_last_of_overlapping_loads_ends_then_restores_it()
    {
        var (yielder, autogroup) = Yielder(nice: 3, leadsSession: false);

        var first = yielder.TryEnter(CpuYield.Always, "127.0.0.1");
        var second = yielder.TryEnter(CpuYield.Always, "localhost");

        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.Contains("nice 3 -> 19", first.Message, StringComparison.Ordinal);
        Assert.Equal(19, Nice(autogroup));
        first.Dispose();
        first.Dispose(); // a second dispose must not end the other load's lease
        Assert.Equal(19, Nice(autogroup));
        second.Dispose();
        Assert.Equal(3, Nice(autogroup));
    }

    [Fact]
    public void Auto_yields_from_a_shared_session_too_and_notes_it_until_it_gives_the_priority_back()
    {
        var (shared, sharedGroup) = Yielder(nice: 0, leadsSession: false);
        var (leader, leaderGroup) = Yielder(nice: 0, leadsSession: true);
        var note = Path.Combine(_folder, "ingest-autogroup-1.yield");

        using (var lease = shared.TryEnter(CpuYield.Auto, "127.0.0.1"))
        {
            Assert.NotNull(lease);
            Assert.Equal(19, Nice(sharedGroup));
            Assert.Equal($"{Environment.ProcessId} {CpuYielder.StartTime(Environment.ProcessId)} 0", File.ReadAllText(note)); // a shell's session: noted
        }

        Assert.Equal(0, Nice(sharedGroup));
        Assert.False(File.Exists(note));
        using (var lease = leader.TryEnter(CpuYield.Auto, "127.0.0.1"))
        {
            Assert.NotNull(lease);
            Assert.Equal(19, Nice(leaderGroup));
            Assert.False(File.Exists(note)); // a session of its own ends with the process: nothing to note
        }

        Assert.Equal(0, Nice(leaderGroup));
    }

    [Fact]
    public void A_session_a_killed_run_left_at_the_lowest_priority_gets_its_own_back_after_the_next_run()
    {
        var (yielder, autogroup) = Yielder(nice: 19, leadsSession: false);
        var note = Path.Combine(_folder, "ingest-autogroup-1.yield");
        File.WriteAllText(note, $"{int.MaxValue} 12345 2"); // a process that is gone lowered it from 2

        using (var lease = yielder.TryEnter(CpuYield.Auto, "localhost"))
        {
            Assert.NotNull(lease);
            Assert.Contains("a run killed earlier in this session had left it at 19, and it goes back to 2 after this load", lease.Message, StringComparison.Ordinal);
            Assert.Equal(19, Nice(autogroup));
        }

        Assert.Equal(2, Nice(autogroup));
        Assert.False(File.Exists(note));
    }

    [Fact]
    public void A_session_a_live_run_holds_low_is_left_to_that_run()
    {
        var (yielder, autogroup) = Yielder(nice: 19, leadsSession: false);
        var note = Path.Combine(_folder, "ingest-autogroup-1.yield");
        var live = $"1 {CpuYielder.StartTime(1)} 0";
        File.WriteAllText(note, live); // pid 1 runs (since it started): that run gives the priority back itself

        using (var lease = yielder.TryEnter(CpuYield.Auto, "localhost"))
        {
            Assert.NotNull(lease);
        }

        Assert.Equal(19, Nice(autogroup));
        Assert.Equal(live, File.ReadAllText(note));
    }

    [Fact]
    public void A_run_that_found_the_session_low_restores_it_for_the_run_that_lowered_it_when_that_run_died_meanwhile()
    {
        // Three workers in one shell: the first lowered the session and was killed (SIGKILL) while the others loaded.
        var (yielder, autogroup) = Yielder(nice: 19, leadsSession: false);
        var note = Path.Combine(_folder, "ingest-autogroup-1.yield");
        File.WriteAllText(note, $"1 {CpuYielder.StartTime(1)} 4"); // alive when this run starts: that run gives the priority back itself

        var lease = yielder.TryEnter(CpuYield.Auto, "localhost");
        Assert.NotNull(lease);
        File.WriteAllText(note, $"1 {CpuYielder.StartTime(1) + 1} 4"); // ... then it is gone (pid 1 is now another process)
        lease.Dispose();

        Assert.Equal(4, Nice(autogroup));
        Assert.False(File.Exists(note));
    }

    [Fact]
    public void Always_yields_also_for_a_server_not_recognized_as_local()
    {
        var (yielder, autogroup) = Yielder(nice: 0, leadsSession: true);

        using (var lease = yielder.TryEnter(CpuYield.Always, "db.example.com"))
        {
            Assert.NotNull(lease);
            Assert.Equal(19, Nice(autogroup));
        }

        Assert.Equal(0, Nice(autogroup));
    }

    [Theory]
    [InlineData(CpuYield.Never, "127.0.0.1", 0)]
    [InlineData(CpuYield.Auto, "db.example.com", 0)]
    [InlineData(CpuYield.Always, "127.0.0.1", -5)]
    public void Nothing_changes_when_turned_off_for_a_remote_server_or_for_a_raised_priority(CpuYield mode, string host, int nice)
    {
        var (yielder, autogroup) = Yielder(nice, leadsSession: true);

        Assert.Null(yielder.TryEnter(mode, host));
        Assert.Equal(nice, Nice(autogroup));
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("/autogroup-7 nice\n")]
    public void An_autogroup_that_reads_empty_or_garbled_is_left_alone(string content)
    {
        var writes = 0;
        var (yielder, autogroup) = Yielder(0, leadsSession: true, (path, text) =>
        {
            writes++;
            File.WriteAllText(path, text);
        });
        File.WriteAllText(autogroup, content);

        Assert.False(yielder.TryReadNice(out _));
        Assert.Null(yielder.TryEnter(CpuYield.Always, "127.0.0.1"));
        Assert.Equal(0, writes);
        Assert.Equal(content, File.ReadAllText(autogroup));
    }

    [Fact]
    public void An_already_lowest_priority_is_kept_and_not_raised_after()
    {
        var (yielder, autogroup) = Yielder(nice: 19, leadsSession: true);

        using (var lease = yielder.TryEnter(CpuYield.Always, "127.0.0.1"))
        {
            Assert.NotNull(lease);
        }

        Assert.Equal(19, Nice(autogroup));
    }

    [Fact]
    public void A_restore_refused_for_now_is_retried_before_the_lease_is_let_go()
    {
        // An unprivileged process may change the value only every 100 ms: a load shorter than that is refused once.
        var refusals = 2;
        var (yielder, autogroup) = Yielder(nice: 0, leadsSession: true, write: (path, text) =>
        {
            if (text == "0" && refusals-- > 0)
            {
                throw new IOException("Resource temporarily unavailable");
            }

            File.WriteAllText(path, text);
        });

        var lease = yielder.TryEnter(CpuYield.Auto, "127.0.0.1");
        Assert.NotNull(lease);
        lease.Dispose();

        Assert.Equal(0, Nice(autogroup));
        Assert.Null(lease.RestoreError);
        Assert.Equal(-1, refusals);
    }

    [Fact]
    public void A_terminating_signal_gives_the_priority_back_while_loads_still_hold_it_and_the_leases_end_cleanly_after()
    {
        var (yielder, autogroup) = Yielder(nice: 3, leadsSession: true);
        var first = yielder.TryEnter(CpuYield.Always, "127.0.0.1");
        var second = yielder.TryEnter(CpuYield.Always, "localhost");
        Assert.Equal(19, Nice(autogroup));

        yielder.GiveBack(); // what SIGTERM, SIGINT, SIGHUP, SIGQUIT and ProcessExit call

        Assert.Equal(3, Nice(autogroup));
        first!.Dispose();
        second!.Dispose();
        Assert.Equal((3, null, null), (Nice(autogroup), first.RestoreError, second.RestoreError));
        using var again = yielder.TryEnter(CpuYield.Always, "127.0.0.1");
        Assert.Equal(19, Nice(autogroup));
    }

    [Fact]
    public void A_restore_that_keeps_failing_is_reported_not_thrown()
    {
        var (yielder, autogroup) = Yielder(nice: 0, leadsSession: true, write: (path, text) =>
        {
            if (text == "0")
            {
                throw new UnauthorizedAccessException("denied");
            }

            File.WriteAllText(path, text);
        });

        var lease = yielder.TryEnter(CpuYield.Auto, "127.0.0.1");
        Assert.NotNull(lease);
        lease.Dispose();

        Assert.Equal(19, Nice(autogroup));
        Assert.Contains("Could not give the session its CPU priority back (autogroup nice 0)", lease.RestoreError, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task An_import_into_a_local_server_runs_at_the_lowest_priority_and_gets_its_own_back_after()
    {
        var before = ProcessNiceOrSkip();
        var during = new List<int>();
        var options = EngineFixture.FastOptions with
        {
            YieldCpuToLocalServer = CpuYield.Always,
            OnLogLine = (_, _, line) =>
            {
                if (line.Contains("lowest CPU priority", StringComparison.Ordinal))
                {
                    lock (during)
                    {
                        during.Add(ProcessNice());
                    }
                }
            },
        };
        await using var f = await EngineFixture.CreateAsync(options);

        var result = await f.ImportAsync([f.WriteFile("a.csv", EngineFixture.Rows(500))]);

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(500, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal([CpuYielder.YieldNice], during);
        Assert.Contains($"(Linux autogroup nice {before} -> 19)", (await f.Recorder.GetBatchAsync(result.BatchId)).Log, StringComparison.Ordinal);
        Assert.Equal(before, ProcessNice());
    }

    // Here, not in CliTests: this class runs alone (see ProcessPriority), so no other test changes the test process's
    // priority meanwhile.
    [SkippableFact]
    public async Task The_cli_yield_flag_reaches_the_engine_always_lowers_the_priority_and_gives_it_back_and_never_keeps_it()
    {
        var before = ProcessNiceOrSkip();
        await using var f = await EngineFixture.CreateAsync();
        var file = f.WriteFile("a.csv", EngineFixture.Rows(5));
        string[] common = ["import", "--dataset", "yield_plants", "--schema", RowEncoderTests.Plants, "--format", RowEncoderTests.PlantsFormat, "--connection", f.ConnectionString];

        var always = await Ingest.Cli.CliApp.RunAsync([.. common, "--yield-cpu", "always", file], new StringWriter(), new StringWriter());
        var afterAlways = ProcessNice();
        var never = await Ingest.Cli.CliApp.RunAsync([.. common, "--yield-cpu", "never", "--batch-id", Guid.NewGuid().ToString(), file], new StringWriter(), new StringWriter());

        Assert.Equal((0, 0), (always, never));
        Assert.Equal(before, afterAlways);
        var logs = await f.RowsAsync("SELECT log FROM ingest.import_batch ORDER BY added_at");
        Assert.Equal(2, logs.Count);
        Assert.Contains("lowest CPU priority", logs[0], StringComparison.Ordinal);
        Assert.DoesNotContain("CPU priority", logs[1], StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static int Nice(string autogroup) => CpuYielder.ParseNice(File.ReadAllText(autogroup));

    private const string ProcessAutogroup = "/proc/self/autogroup";

    private static int ProcessNice() => Nice(ProcessAutogroup);

    // The tests that change this process's priority need Linux's autogroup, and a priority they can lower and restore.
    private static int ProcessNiceOrSkip()
    {
        // Some sandboxes show the file but read it empty: no autogroup to test with there.
        Skip.IfNot(CpuYielder.Process.TryReadNice(out var nice), "needs Linux's scheduler autogroup, readable in /proc/self/autogroup");
        Skip.If(nice < 0 || nice == CpuYielder.YieldNice, $"the test process already runs at autogroup nice {nice}");
        return nice;
    }

    private (CpuYielder Yielder, string Autogroup) Yielder(int nice, bool leadsSession, Action<string, string>? write = null)
    {
        var name = Guid.NewGuid().ToString("N");
        var autogroup = Path.Combine(_folder, name + ".autogroup");
        var stat = Path.Combine(_folder, name + ".stat");
        File.WriteAllText(autogroup, $"/autogroup-1 nice {nice}\n");
        var pid = Environment.ProcessId;
        var session = leadsSession ? pid : pid + 1;
        File.WriteAllText(stat, string.Create(CultureInfo.InvariantCulture, $"{pid} (testhost) S 1 {pid} {session} 0 -1 4194560 1 0\n"));
        return (new CpuYielder(autogroup, stat, write, noteFolder: _folder), autogroup);
    }
}

/// <summary>The collection of tests that read this process's CPU priority: never run beside another test.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessPriority
{
    public const string Name = "process priority";
}

