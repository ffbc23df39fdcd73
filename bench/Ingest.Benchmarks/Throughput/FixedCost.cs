using System.Diagnostics;
using System.Globalization;

namespace Ingest.Benchmarks.Throughput;

/// <summary>
/// What a fresh <c>ingest</c> process costs before and around its rows: <c>ingest --help</c> (the process's start
/// and exit alone) and a 1,000-row one-file <c>ingest import</c> (start, connecting, the batch's bookkeeping, one
/// file), alternated <see cref="Runs"/> times so the machine's noise falls on both alike.
/// </summary>
/// <param name="Help">Wall time of each <c>ingest --help</c>, spawn to exit.</param>
/// <param name="Import">Wall time of each 1,000-row import, spawn to exit.</param>
internal sealed record FixedCost(IReadOnlyList<TimeSpan> Help, IReadOnlyList<TimeSpan> Import)
{
    /// <summary>Fresh processes of each kind; the median is the fifth.</summary>
    public const int Runs = 9;

    /// <summary>Why the runs stopped, or <see langword="null"/> when all of them ran.</summary>
    public string? Error { get; init; }

    public TimeSpan HelpMedian => Median(Help);

    public TimeSpan ImportMedian => Median(Import);

    /// <summary>Runs both kinds in turn, each import on a fresh, empty table whose row count is checked after it.</summary>
    /// <exception cref="InvalidOperationException">A process failed or the table did not hold the file's rows.</exception>
    public static async Task<FixedCost> MeasureAsync(CliLoader cli, BenchDatabase database, Workload oneThousandRows, Action<string> log)
    {
        log($"Fixed cost: ingest --help and a {oneThousandRows.Rows:N0}-row one-file import, {Runs} fresh processes each, in turn");
        var help = new List<TimeSpan>();
        var import = new List<TimeSpan>();
        var importArguments = cli.ImportArguments(oneThousandRows.CsvFiles, streams: null);
        for (var run = 1; run <= Runs; run++)
        {
            help.Add(await TimeAsync(() => cli.RunAsync(["--help"])));
            await database.ResetAsync();
            import.Add(await TimeAsync(() => cli.RunAsync(importArguments)));
            var count = await database.CountAsync();
            if (count != oneThousandRows.Rows)
            {
                throw new InvalidOperationException($"the table holds {count} rows after the fixed-cost import, expected {oneThousandRows.Rows}");
            }

            log(string.Create(CultureInfo.InvariantCulture, $"  [{run}] --help {help[^1].TotalMilliseconds,6:0} ms  import {import[^1].TotalMilliseconds,6:0} ms"));
        }

        return new FixedCost(help, import);
    }

    /// <summary>A measurement that failed with <paramref name="error"/>.</summary>
    public static FixedCost Failed(string error) => new([], []) { Error = error };

    private static async Task<TimeSpan> TimeAsync(Func<Task> run)
    {
        var clock = Stopwatch.StartNew();
        await run();
        return clock.Elapsed;
    }

    private static TimeSpan Median(IReadOnlyList<TimeSpan> runs) => runs.Order().ElementAt((runs.Count - 1) / 2);
}
