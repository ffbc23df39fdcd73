using System.Globalization;

namespace Ingest.Benchmarks.Scaling;

/// <summary>The <c>workers</c> command's arguments.</summary>
internal sealed record WorkersOptions
{
    public const string Usage = """
        workers [--rows 2000000] [--files 8] [--workers 1,2,3] [--streams 1] [--repeat 3] [--lease-seconds 30]
                [--ingest samples/Ingest.Cli/bin/Release/net10.0/ingest.dll] [--out bench/results] [--smoke] [--as-is]
          --rows           rows in all files together (default 2,000,000; --smoke: 20,000)
          --files          files the rows are split into; the batch's unit of work (default 8; --smoke: 4)
          --workers        worker process counts to run (default 1,2,3; --smoke: 1,2)
          --streams        streams per worker process, one or more (default 1)
          --repeat         runs of each configuration; the table shows the median (default 3; --smoke: 1)
          --lease-seconds  each worker's claim lease (default 30)
          --ingest         the built console host that runs 'worker' (default: the Release build of samples/Ingest.Cli)
          --out            folder for <date>-workers.md (default bench/results; --smoke writes nothing unless given)
          --smoke          a tiny run for CI that finishes in well under a minute
          --as-is          leave the throwaway cluster's speed-over-durability settings (fsync=off ...) as they are
        """;

    public const string DefaultIngestDll = "samples/Ingest.Cli/bin/Release/net10.0/ingest.dll";

    public int Rows { get; init; } = 2_000_000;

    public int Files { get; init; } = 8;

    public IReadOnlyList<int> Workers { get; init; } = [1, 2, 3];

    public IReadOnlyList<int> Streams { get; init; } = [1];

    public int Repeat { get; init; } = 3;

    public int LeaseSeconds { get; init; } = 30;

    public string IngestDll { get; init; } = DefaultIngestDll;

    public string? OutDirectory { get; init; }

    public bool Smoke { get; init; }

    public bool AsIs { get; init; }

    /// <summary>The command line that reproduces this run, for the report.</summary>
    public string CommandLine =>
        string.Create(CultureInfo.InvariantCulture, $"workers --rows {Rows} --files {Files} --workers {string.Join(',', Workers)} --streams {string.Join(',', Streams)} --repeat {Repeat}")
        + (LeaseSeconds != 30 ? string.Create(CultureInfo.InvariantCulture, $" --lease-seconds {LeaseSeconds}") : string.Empty)
        + (AsIs ? " --as-is" : string.Empty);

    /// <summary>Parses the arguments after <c>workers</c>; throws <see cref="ArgumentException"/> with what to fix.</summary>
    public static WorkersOptions Parse(IReadOnlyList<string> args)
    {
        var smoke = args.Contains("--smoke");
        var options = smoke
            ? new WorkersOptions { Rows = 20_000, Files = 4, Workers = [1, 2], Repeat = 1, Smoke = true }
            : new WorkersOptions { OutDirectory = "bench/results" };
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            switch (name)
            {
                case "--smoke":
                    break;
                case "--as-is":
                    options = options with { AsIs = true };
                    break;
                case "--rows":
                    options = options with { Rows = PositiveInt(name, Value(args, ref i)) };
                    break;
                case "--files":
                    options = options with { Files = PositiveInt(name, Value(args, ref i)) };
                    break;
                case "--repeat":
                    options = options with { Repeat = PositiveInt(name, Value(args, ref i)) };
                    break;
                case "--lease-seconds":
                    options = options with { LeaseSeconds = PositiveInt(name, Value(args, ref i)) };
                    break;
                case "--workers":
                    options = options with { Workers = List(name, Value(args, ref i)) };
                    break;
                case "--streams":
                    options = options with { Streams = List(name, Value(args, ref i)) };
                    break;
                case "--ingest":
                    options = options with { IngestDll = Value(args, ref i) };
                    break;
                case "--out":
                    options = options with { OutDirectory = Value(args, ref i) };
                    break;
                default:
                    throw new ArgumentException($"Unknown argument '{name}'.");
            }
        }

        if (options.Files > options.Rows)
        {
            throw new ArgumentException("--files must not exceed --rows.");
        }

        if (options.Streams.Any(s => s > 64))
        {
            throw new ArgumentException("--streams takes 1 to 64 (WorkerOptions.Streams).");
        }

        return options;
    }

    private static List<int> List(string name, string text) => [.. text.Split(',').Select(s => PositiveInt(name, s)).Distinct()];

    private static string Value(IReadOnlyList<string> args, ref int i) =>
        ++i < args.Count ? args[i] : throw new ArgumentException($"{args[i - 1]} needs a value.");

    private static int PositiveInt(string name, string text) =>
        int.TryParse(text, NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new ArgumentException($"{name} takes a positive integer, not '{text}'.");
}
