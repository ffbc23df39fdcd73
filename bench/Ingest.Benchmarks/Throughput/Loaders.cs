using System.Diagnostics;
using Ingest.Benchmarks.Data;
using Ingest.Schema;
using Ingest.Status;
using Npgsql;

namespace Ingest.Benchmarks.Throughput;

/// <summary>One configuration of the table: a loader, its stream count and how to run it once.</summary>
/// <param name="Loader">What loads, e.g. "engine, local files".</param>
/// <param name="Streams">Parallel connections.</param>
/// <param name="InProcess">True when the work happens in this process, so its CPU time and peak memory are the loader's.</param>
/// <param name="Run">Loads every row into the (fresh, empty) table.</param>
internal sealed record LoaderCase(string Loader, int Streams, bool InProcess, Func<Task> Run)
{
    public string Key => $"{Loader} x{Streams}";

    /// <summary>For a loader run as a child process: its CPU time and peak memory, filled in by each <see cref="Run"/>.</summary>
    public ChildUsage? Child { get; init; }

    /// <summary>True when the client's CPU time and peak memory are measured: this process's, or the child's.</summary>
    public bool Metered => InProcess || Child is not null;
}

/// <summary>
/// The loaders compared: the engine (local files, loopback HTTP), <c>psql \copy</c> and the server's own binary COPY;
/// the cold <c>ingest import</c> process is <see cref="CliLoader"/>.
/// </summary>
internal static class Loaders
{
    public const string Cli = "ingest import, cold process";
    public const string EngineLocal = "engine, local files";
    public const string EngineHttp = "engine, loopback HTTP";
    public const string Yielding = ", yielding CPU";
    public const string Psql = "psql \\copy (CSV)";
    public const string ServerCopy = "server binary COPY FROM file";

    private static readonly CsvFormat Format = CsvFormat.Parse(PlantCsv.Format);

    /// <summary>
    /// The engine with <paramref name="streams"/> streams. <paramref name="yieldCpu"/> is
    /// <see cref="CpuYield.Always"/> for the "yielding CPU" rows (the process lowers its CPU priority while it
    /// loads, as a service's engine does by default) and <see cref="CpuYield.Never"/> for the others.
    /// </summary>
    public static LoaderCase Engine(string name, BenchDatabase database, IReadOnlyList<string> sources, int streams, long rows, CpuYield yieldCpu = CpuYield.Never) =>
        new(name, streams, InProcess: true, async () =>
        {
            var options = new IngestOptions { Streams = streams, YieldCpuToLocalServer = yieldCpu };
            await using var engine = IngestEngine.Create(database.ConnectionString, options);
            var result = await engine.ImportAsync(new ImportRequest(database.Schema, Format, sources));
            if (result.Status != BatchStatus.Finished || result.InsertCount != rows)
            {
                throw new InvalidOperationException($"engine: {result.Status}, {result.InsertCount} of {rows} rows: {result.Error}");
            }
        });

    /// <summary><paramref name="processes"/> psql processes at once, the files dealt out between them, each running one <c>\copy</c> per file.</summary>
    public static LoaderCase PsqlCopy(BenchDatabase database, IReadOnlyList<string> files, int processes) =>
        new(Psql, processes, InProcess: false, () => Task.WhenAll(Deal(files, processes).Select(share => RunPsqlAsync(database, share))));

    /// <summary><c>COPY ... FROM '/file' (FORMAT BINARY)</c> run by the server itself, files dealt out over <paramref name="connections"/>.</summary>
    public static LoaderCase ServerBinaryCopy(BenchDatabase database, IReadOnlyList<string> binFiles, int connections) =>
        new(ServerCopy, connections, InProcess: false, () => Task.WhenAll(Deal(binFiles, connections).Select(async share =>
        {
            await using var connection = await database.OpenAsync();
            foreach (var file in share)
            {
                await BenchDatabase.ExecuteAsync(connection, $"COPY {database.Table} ({database.ColumnList}) FROM '{file}' (FORMAT BINARY)");
            }
        })));

    public static bool PsqlFound() => PsqlPath() is not null;

    /// <summary>
    /// The psql program itself. On Debian and Ubuntu <c>psql</c> on the PATH is postgresql-common's Perl wrapper,
    /// which picks a version and then runs <c>/usr/lib/postgresql/N/bin/psql</c>; starting Perl costs about 40 ms
    /// per process here, which is the wrapper's, not psql's, so the newest of those binaries is used when the PATH
    /// one is the wrapper.
    /// </summary>
    public static string? PsqlPath()
    {
        var onPath = FindOnPath("psql");
        if (onPath is null || !IsPgWrapper(onPath))
        {
            return onPath;
        }

        const string versions = "/usr/lib/postgresql";
        var real = Directory.Exists(versions)
            ? Directory.GetDirectories(versions)
                .Select(folder => (Version: int.TryParse(Path.GetFileName(folder), out var n) ? n : -1, Psql: Path.Combine(folder, "bin", "psql")))
                .Where(candidate => candidate.Version >= 0 && File.Exists(candidate.Psql))
                .OrderByDescending(candidate => candidate.Version)
                .Select(candidate => candidate.Psql)
                .FirstOrDefault()
            : null;
        return real ?? onPath;
    }

    private static bool IsPgWrapper(string path) =>
        new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true) is { } target && target.Name == "pg_wrapper";

    /// <summary>A psql process with the database's connection in its environment and <c>-X -q -v ON_ERROR_STOP=1</c>.</summary>
    public static ProcessStartInfo PsqlStart(BenchDatabase database)
    {
        var connection = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        var start = new ProcessStartInfo(PsqlPath() ?? "psql")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.Environment["PGHOST"] = connection.Host;
        start.Environment["PGPORT"] = connection.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["PGUSER"] = connection.Username;
        start.Environment["PGDATABASE"] = connection.Database;
        if (!string.IsNullOrEmpty(connection.Password))
        {
            start.Environment["PGPASSWORD"] = connection.Password;
        }

        foreach (var argument in (string[])["-X", "-q", "-v", "ON_ERROR_STOP=1"])
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    /// <summary>The <c>\copy</c> of one CSV file into the benchmark's table, as a psql command.</summary>
    public static string PsqlCopyCommand(BenchDatabase database, string file) =>
        $"\\copy {database.Table} ({database.ColumnList}) FROM '{file}' WITH (FORMAT csv)";

    /// <summary>Runs psql to its end; a non-zero exit is an exception carrying its output.</summary>
    public static async Task RunToEndAsync(ProcessStartInfo start)
    {
        using var process = Process.Start(start) ?? throw new InvalidOperationException("psql did not start");
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"psql exited with {process.ExitCode}: {await error}{await output}");
        }
    }

    private static async Task RunPsqlAsync(BenchDatabase database, IReadOnlyList<string> files)
    {
        var start = PsqlStart(database);
        foreach (var file in files)
        {
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(PsqlCopyCommand(database, file));
        }

        await RunToEndAsync(start);
    }

    private static List<List<string>> Deal(IReadOnlyList<string> files, int hands)
    {
        var shares = Enumerable.Range(0, Math.Min(hands, files.Count)).Select(_ => new List<string>()).ToList();
        for (var i = 0; i < files.Count; i++)
        {
            shares[i % shares.Count].Add(files[i]);
        }

        return shares;
    }

    public static string? FindOnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, tool))
            .FirstOrDefault(File.Exists);
}
