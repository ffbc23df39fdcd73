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
        var reader = new ArgReader(args);
        while (reader.MoveNext())
        {
            options = reader.Name switch
            {
                "--smoke" => options,
                "--as-is" => options with { AsIs = true },
                "--waits" => options with { Waits = true },
                "--rows" => options with { Rows = reader.PositiveInt() },
                "--files" => options with { Files = reader.PositiveInt() },
                "--repeat" => options with { Repeat = reader.PositiveInt() },
                "--streams" => options with { Streams = reader.PositiveInts() },
                "--out" => options with { OutDirectory = reader.Value() },
                _ => throw reader.Unknown(),
            };
        }

        ArgReader.CheckFilesAndRows(options.Files, options.Rows);
        return options;
    }
}
