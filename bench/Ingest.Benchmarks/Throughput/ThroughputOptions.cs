using System.Globalization;

namespace Ingest.Benchmarks.Throughput;

/// <summary>The <c>throughput</c> command's arguments.</summary>
internal sealed record ThroughputOptions
{
    public const string Usage = """
        throughput [--rows 2000000] [--files 4] [--streams 1,2,3] [--repeat 3] [--out bench/results] [--smoke] [--as-is] [--waits]
          --rows     rows in all files together (default 2,000,000; --smoke: 20,000)
          --files    files the rows are split into (default 4; --smoke: 2)
          --streams  engine stream counts to run (default 1,2,3; --smoke: 1,2)
          --repeat   runs of each loader; the table shows the median (default 3; --smoke: 1)
          --out      folder for <date>-throughput.md (default bench/results; --smoke writes nothing unless given)
          --smoke    a tiny run for CI that finishes in well under a minute
          --as-is    leave the throwaway cluster's speed-over-durability settings (fsync=off ...) as they are
          --waits    sample the COPY backends' wait events during every run (is the client or the server the limit?)
        """;

    public int Rows { get; init; } = 2_000_000;

    public int Files { get; init; } = 4;

    public IReadOnlyList<int> Streams { get; init; } = [1, 2, 3];

    public int Repeat { get; init; } = 3;

    public string? OutDirectory { get; init; }

    public bool Smoke { get; init; }

    public bool AsIs { get; init; }

    public bool Waits { get; init; }

    /// <summary>Parses the arguments after <c>throughput</c>; throws <see cref="ArgumentException"/> with what to fix.</summary>
    public static ThroughputOptions Parse(IReadOnlyList<string> args)
    {
        var smoke = args.Contains("--smoke");
        var options = smoke
            ? new ThroughputOptions { Rows = 20_000, Files = 2, Streams = [1, 2], Repeat = 1, Smoke = true }
            : new ThroughputOptions { OutDirectory = "bench/results" };
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
                case "--waits":
                    options = options with { Waits = true };
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
                case "--streams":
                    options = options with { Streams = [.. Value(args, ref i).Split(',').Select(s => PositiveInt(name, s))] };
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

        return options;
    }

    private static string Value(IReadOnlyList<string> args, ref int i) =>
        ++i < args.Count ? args[i] : throw new ArgumentException($"{args[i - 1]} needs a value.");

    private static int PositiveInt(string name, string text) =>
        int.TryParse(text, NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new ArgumentException($"{name} takes a positive integer, not '{text}'.");
}
