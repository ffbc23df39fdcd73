using System.Diagnostics;
using System.Globalization;

namespace Ingest.Benchmarks.Throughput;

/// <summary>
/// What a fresh <c>ingest</c> process costs before and around its rows: <c>ingest --help</c> (the process's start
/// and exit alone) and a 1,000-row one-file <c>ingest import</c> (start, connecting, the batch's bookkeeping, one
/// file), and beside them the same two things for psql where it is installed (<c>psql --version</c> and one
/// <c>\copy</c> of the same file: one session, no bookkeeping), alternated <see cref="Runs"/> times so the machine's
/// noise falls on all alike.
/// </summary>
/// <param name="Help">Wall time of each <c>ingest --help</c>, spawn to exit.</param>
/// <param name="Import">Wall time of each 1,000-row import, spawn to exit.</param>
/// <param name="PsqlVersion">Wall time of each <c>psql --version</c>; empty without psql.</param>
/// <param name="PsqlCopy">Wall time of each psql <c>\copy</c> of the same file; empty without psql.</param>
internal sealed record FixedCost(IReadOnlyList<TimeSpan> Help, IReadOnlyList<TimeSpan> Import, IReadOnlyList<TimeSpan> PsqlVersion, IReadOnlyList<TimeSpan> PsqlCopy)
{
    /// <summary>Fresh processes of each kind; the median is the fifth.</summary>
    public const int Runs = 9;

    /// <summary>Why the runs stopped, or <see langword="null"/> when all of them ran.</summary>
    public string? Error { get; init; }

    public TimeSpan HelpMedian => Median(Help);

    public TimeSpan ImportMedian => Median(Import);

    public TimeSpan PsqlVersionMedian => Median(PsqlVersion);

    public TimeSpan PsqlCopyMedian => Median(PsqlCopy);

    /// <summary>Runs both kinds in turn, each import on a fresh, empty table whose row count is checked after it.</summary>
    /// <exception cref="InvalidOperationException">A process failed or the table did not hold the file's rows.</exception>
    public static async Task<FixedCost> MeasureAsync(CliLoader cli, BenchDatabase database, Workload oneThousandRows, Action<string> log)
    {
        var withPsql = Loaders.PsqlFound();
        log($"Fixed cost: ingest --help and a {oneThousandRows.Rows:N0}-row one-file import{(withPsql ? ", psql --version and its \\copy of the same file" : string.Empty)}, {Runs} fresh processes each, in turn");
        var help = new List<TimeSpan>();
        var import = new List<TimeSpan>();
        var psqlVersion = new List<TimeSpan>();
        var psqlCopy = new List<TimeSpan>();
        var importArguments = cli.ImportArguments(oneThousandRows.CsvFiles, streams: null);
        for (var run = 1; run <= Runs; run++)
        {
            help.Add(await TimeAsync(() => cli.RunAsync(["--help"])));
            await database.ResetAsync();
            import.Add(await TimeAsync(() => cli.RunAsync(importArguments)));
            await ExpectRowsAsync(database, oneThousandRows.Rows, "ingest import");
            var line = string.Create(CultureInfo.InvariantCulture, $"  [{run}] --help {help[^1].TotalMilliseconds,6:0} ms  import {import[^1].TotalMilliseconds,6:0} ms");
            if (withPsql)
            {
                var version = Loaders.PsqlStart(database);
                version.ArgumentList.Add("--version");
                psqlVersion.Add(await TimeAsync(() => Loaders.RunToEndAsync(version)));
                await database.ResetAsync();
                var copy = Loaders.PsqlStart(database);
                copy.ArgumentList.Add("-c");
                copy.ArgumentList.Add(Loaders.PsqlCopyCommand(database, oneThousandRows.CsvFiles[0]));
                psqlCopy.Add(await TimeAsync(() => Loaders.RunToEndAsync(copy)));
                await ExpectRowsAsync(database, oneThousandRows.Rows, "psql \\copy");
                line += string.Create(CultureInfo.InvariantCulture, $"  psql --version {psqlVersion[^1].TotalMilliseconds,6:0} ms  psql \\copy {psqlCopy[^1].TotalMilliseconds,6:0} ms");
            }

            log(line);
        }

        return new FixedCost(help, import, psqlVersion, psqlCopy);
    }

    /// <summary>A measurement that failed with <paramref name="error"/>.</summary>
    public static FixedCost Failed(string error) => new([], [], [], []) { Error = error };

    private static async Task ExpectRowsAsync(BenchDatabase database, long rows, string loader)
    {
        var count = await database.CountAsync();
        if (count != rows)
        {
            throw new InvalidOperationException($"the table holds {count} rows after the fixed-cost {loader}, expected {rows}");
        }
    }

    private static async Task<TimeSpan> TimeAsync(Func<Task> run)
    {
        var clock = Stopwatch.StartNew();
        await run();
        return clock.Elapsed;
    }

    private static TimeSpan Median(IReadOnlyList<TimeSpan> runs) => runs.Count == 0 ? TimeSpan.Zero : runs.Order().ElementAt((runs.Count - 1) / 2);
}
