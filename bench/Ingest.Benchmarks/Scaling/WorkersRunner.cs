using System.Diagnostics;
using System.Globalization;
using Ingest.Benchmarks.Data;
using Ingest.Benchmarks.Throughput;
using Ingest.Schema;
using Ingest.Status;
using Npgsql;

namespace Ingest.Benchmarks.Scaling;

/// <summary>
/// The <c>workers</c> command: one batch submitted to the PostgreSQL queue, loaded by 1, 2, 3 ... real
/// <c>ingest worker</c> processes, timed from submit to the batch's <c>finished</c>, next to the server's own
/// binary COPY of the same rows. Runs are interleaved, each on a fresh logged table.
/// </summary>
internal static class WorkersRunner
{
    public const string WorkersLoader = "ingest worker processes";

    private static readonly CsvFormat Format = CsvFormat.Parse(PlantCsv.Format);

    public static async Task<int> RunAsync(WorkersOptions options)
    {
        var total = Stopwatch.StartNew();
        await using var setup = await BenchSetup.CreateAsync(options.Rows, options.Files, options.AsIs, Log);
        var (workload, server, database, before, settings, configured) = (setup.Workload, setup.Server, setup.Database, setup.Before, setup.Settings, setup.Configured);

        var serverCpu = PostgresCpu.ForBackend(await BackendPidAsync(database));
        Log(serverCpu is null ? "  PostgreSQL is not a local process: its CPU is not measured" : "  PostgreSQL is local: its CPU is measured from /proc");
        var processes = WorkerProcesses.Find(options.IngestDll, database.ConnectionString);
        Log($"  workers: {processes.Dotnet} {processes.IngestDll} worker ...");
        await using var engine = IngestEngine.Create(database.ConnectionString);

        await WarmUpAsync(options, database, workload, engine, processes);
        var idleStarts = await IdleStartsAsync(options, processes);

        var loadBefore = LoadAverage();
        var cases = Cases(options, database, workload, engine, processes);
        for (var repeat = 1; repeat <= options.Repeat; repeat++)
        {
            foreach (var scalingCase in cases)
            {
                await MeasureAsync(database, workload, scalingCase, serverCpu, repeat);
            }
        }

        var report = new WorkersReport(options, workload, cases, idleStarts, before, settings,
            [.. MachineInfo.Describe(await database.ServerVersionAsync(), server.Description), ("Load average (1, 5, 15 min)", $"{loadBefore} before the timed runs, {LoadAverage()} after")],
            configured, processes);
        Console.WriteLine();
        Console.WriteLine(report.Table());
        if (options.OutDirectory is { } outDirectory)
        {
            var folder = Path.IsPathRooted(outDirectory) ? outDirectory : Path.Combine(WorkerProcesses.RepositoryRoot(), outDirectory);
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, $"{DateTime.UtcNow:yyyy-MM-dd}-workers{(options.Smoke ? "-smoke" : string.Empty)}.md");
            await File.WriteAllTextAsync(path, report.ToMarkdown());
            Log($"Wrote {path}");
        }

        Log($"Done in {total.Elapsed.TotalSeconds:0} s");
        return cases.Any(c => c.Error is not null) ? 1 : 0;
    }

    /// <summary>
    /// One untimed batch of the first file through one worker process, so the first timed run does not pay for
    /// the ledger, queue and recorder tables being created, and the OS has the host's files in its cache.
    /// </summary>
    private static async Task WarmUpAsync(WorkersOptions options, BenchDatabase database, Workload workload, IngestEngine engine, WorkerProcesses processes)
    {
        Log("Warming up (one untimed batch of the first file, one worker process)");
        await database.ResetAsync();
        var id = await engine.SubmitAsync(new ImportRequest(database.Schema, Format, [workload.CsvFiles[0]]));
        await processes.RunAsync(1, options.Streams[0], options.LeaseSeconds, CancellationToken.None);
        var batch = await engine.Recorder.GetBatchAsync(id);
        if (batch.Status != BatchStatus.Finished)
        {
            throw new InvalidOperationException($"warm-up batch ended {batch.Status}: {batch.Log}");
        }
    }

    /// <summary>
    /// K worker processes with nothing to do, started at once, until all have exited: what each timed run pays
    /// on top of the loading (runtime start, JIT, connecting, the schema checks, one look at the queue).
    /// </summary>
    private static async Task<IReadOnlyList<(int Workers, double Seconds)>> IdleStartsAsync(WorkersOptions options, WorkerProcesses processes)
    {
        var starts = new List<(int, double)>();
        foreach (var count in options.Workers)
        {
            var clock = Stopwatch.StartNew();
            await processes.RunAsync(count, options.Streams[0], options.LeaseSeconds, CancellationToken.None);
            starts.Add((count, clock.Elapsed.TotalSeconds));
            Log(string.Create(CultureInfo.InvariantCulture, $"  {count} idle worker(s): started and exited in {clock.Elapsed.TotalSeconds:0.000} s"));
        }

        return starts;
    }

    private static List<ScalingCase> Cases(WorkersOptions options, BenchDatabase database, Workload workload, IngestEngine engine, WorkerProcesses processes)
    {
        var cases = new List<ScalingCase>();
        foreach (var streams in options.Streams)
        {
            foreach (var workers in options.Workers)
            {
                cases.Add(new ScalingCase(WorkersLoader, workers, streams,
                    () => RunWorkersAsync(options, database, workload, engine, processes, workers, streams)));
            }
        }

        foreach (var connections in (int[])[1, 2])
        {
            var copy = Loaders.ServerBinaryCopy(database, workload.BinFiles, connections);
            cases.Add(new ScalingCase(Loaders.ServerCopy, workers: 0, connections, async () =>
            {
                var clock = Stopwatch.StartNew();
                await copy.Run();
                return new RunResult(clock.Elapsed, null);
            }));
        }

        return cases;
    }

    /// <summary>Submit, start the workers, wait for all of them to exit; the time is from submit to the batch's <c>finished</c> entry.</summary>
    private static async Task<RunResult> RunWorkersAsync(
        WorkersOptions options, BenchDatabase database, Workload workload, IngestEngine engine, WorkerProcesses processes, int workers, int streams)
    {
        var submitted = DateTimeOffset.UtcNow;
        var id = await engine.SubmitAsync(new ImportRequest(database.Schema, Format, workload.CsvFiles));
        await processes.RunAsync(workers, streams, options.LeaseSeconds, CancellationToken.None);

        var batch = await engine.Recorder.GetBatchAsync(id);
        if (batch.Status != BatchStatus.Finished || batch.InsertCount != workload.Rows || batch.InvalidCount != 0)
        {
            throw new InvalidOperationException($"batch {id} ended {batch.Status} with {batch.InsertCount} inserted, {batch.InvalidCount} invalid of {workload.Rows}: {batch.Log}");
        }

        var timeline = await engine.Recorder.GetTimelineAsync(id);
        var finished = timeline.First(r => r.Status == BatchStatus.Finished).UpdatedAt;

        await using var connection = await database.OpenAsync();
        await using (var ledger = new NpgsqlCommand("SELECT count(*), coalesce(sum(rows_inserted), 0)::bigint FROM ingest.import_file WHERE batch_id = $1", connection))
        {
            ledger.Parameters.AddWithValue(id);
            await using var reader = await ledger.ExecuteReaderAsync();
            await reader.ReadAsync();
            if (reader.GetInt64(0) != workload.CsvFiles.Count || reader.GetInt64(1) != workload.Rows)
            {
                throw new InvalidOperationException($"ledger of batch {id}: {reader.GetInt64(0)} files, {reader.GetInt64(1)} rows; expected {workload.CsvFiles.Count} and {workload.Rows}");
            }
        }

        // How the files spread over the workers, most first, e.g. "3/3/2".
        var spread = new List<long>();
        await using (var share = new NpgsqlCommand("SELECT count(*) FROM ingest.work_file WHERE batch_id = $1 AND state = 'done' GROUP BY worker ORDER BY 1 DESC", connection))
        {
            share.Parameters.AddWithValue(id);
            await using var reader = await share.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                spread.Add(reader.GetInt64(0));
            }
        }

        return new RunResult(finished - submitted, string.Join('/', spread));
    }

    private static async Task MeasureAsync(BenchDatabase database, Workload workload, ScalingCase scalingCase, PostgresCpu? serverCpu, int repeat)
    {
        if (scalingCase.Error is not null)
        {
            return;
        }

        await database.ResetAsync();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        var walBefore = await WalPositionAsync(database);
        var serverBefore = serverCpu?.Take();
        var cpuBefore = CpuSnapshot.Take();
        var window = Stopwatch.StartNew();
        RunResult result;
        CpuUse cpu;
        double? server;
        try
        {
            result = await scalingCase.Run();
            window.Stop();
            cpu = CpuSnapshot.Take().Since(cpuBefore);
            server = serverCpu is null || serverBefore is null ? null : PostgresCpu.Between(serverBefore, serverCpu.Take());
            var count = await database.CountAsync();
            if (count != workload.Rows)
            {
                throw new InvalidOperationException($"the table holds {count} rows, expected {workload.Rows}");
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            scalingCase.Error = ex.Message;
            Log($"  {scalingCase.Key}: FAILED: {ex.Message}");
            return;
        }

        var wal = await WalPositionAsync(database) - walBefore;
        var sample = new ScalingSample(result.Time, window.Elapsed, cpu, server, wal, result.Spread);
        scalingCase.Samples.Add(sample);
        Log(string.Create(CultureInfo.InvariantCulture,
            $"  [{repeat}] {scalingCase.Key,-44} {sample.Time.TotalSeconds,7:0.000} s  {workload.Rows / sample.Time.TotalSeconds,12:N0} rows/s  exited {sample.Window.TotalSeconds:0.000} s  cpu workers {cpu.Workers:0.0} s, postgres {server:0.0} s, machine {cpu.Busy:0.0} s  wal {wal / 1e6:0} MB{(result.Spread is null ? string.Empty : "  files " + result.Spread)}"));
    }

    private static async Task<int> BackendPidAsync(BenchDatabase database)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pg_backend_pid()", connection);
        return (int)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<long> WalPositionAsync(BenchDatabase database)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The first three fields of /proc/loadavg: other work on the machine takes cores from the workers and the server alike.</summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static void Log(string message) => Console.Error.WriteLine(message);
}

/// <summary>What one run reports: its time (submit to <c>finished</c> for workers) and how the files spread over the workers.</summary>
internal sealed record RunResult(TimeSpan Time, string? Spread);

/// <summary>One run: its time, the measured window (until every worker exited), the CPU (machine, workers, PostgreSQL when local) and WAL of that window.</summary>
internal sealed record ScalingSample(TimeSpan Time, TimeSpan Window, CpuUse Cpu, double? ServerCpu, long WalBytes, string? Spread);

/// <summary>One configuration: K worker processes of S streams each, or the server's COPY on N connections (Workers = 0).</summary>
internal sealed class ScalingCase(string loader, int workers, int streams, Func<Task<RunResult>> run)
{
    public string Loader { get; } = loader;

    public int Workers { get; } = workers;

    public int Streams { get; } = streams;

    public Func<Task<RunResult>> Run { get; } = run;

    public string Key => Workers > 0 ? $"{Workers} worker(s) x {Streams} stream(s)" : $"{Loader} x{Streams}";

    public int TotalStreams => Workers > 0 ? Workers * Streams : Streams;

    public List<ScalingSample> Samples { get; } = [];

    public string? Error { get; set; }

    /// <summary>The median run by time (the lower middle one for an even count).</summary>
    public ScalingSample? Best => Samples.Count == 0 ? null : Samples.MinBy(s => s.Time);

    public ScalingSample? Median => Samples.Count == 0 ? null : Samples.OrderBy(s => s.Time).ElementAt((Samples.Count - 1) / 2);
}
