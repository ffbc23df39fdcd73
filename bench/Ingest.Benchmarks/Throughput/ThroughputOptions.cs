using System.Globalization;

namespace Ingest.Benchmarks.Throughput;

/// <summary>The <c>throughput</c> command's arguments.</summary>
internal sealed record ThroughputOptions
{
    public const string Usage = """
        throughput [--rows 2000000] [--files 4] [--streams 1,2,3] [--repeat 3] [--out bench/results] [--smoke] [--as-is] [--waits]
                   [--cli artifacts/ingest/ingest] [--small-files 1000] [--one-file | --no-one-file]
          --rows         rows in all files together (default 2,000,000; --smoke: 20,000)
          --files        files the rows are split into (default 4; --smoke: 2)
          --streams      engine and CLI stream counts to run (default 1,2,3; --smoke: 1,2)
          --repeat       runs of each loader; the table shows the median (default 3; --smoke: 1)
          --out          folder for <date>-throughput.md (default bench/results; --smoke writes nothing unless given)
          --smoke        a tiny run for CI that finishes in well under a minute
          --as-is        leave the throwaway cluster's speed-over-durability settings (fsync=off ...) as they are
          --waits        sample the COPY backends' wait events during every run (is the client or the server the limit?)
          --cli          the native ingest binary run as a cold process (default: artifacts/ingest/ingest, published by
                         'dotnet publish samples/Ingest.Cli -c Release -o artifacts/ingest' when missing, a few minutes;
                         --smoke: the CLI rows run only when --cli is given or that binary exists)
          --small-files  a batch of this many files of 1,000 rows, loaded by the CLI and the engine (default 1000;
                         --smoke: 50; 0: none)
          --one-file     all --rows in one file too, loaded at 1 stream and the most --streams (default on; --smoke: off)
          --no-one-file  leave the one-file rows out
        """;

    /// <summary>Rows in each file of the <c>--small-files</c> batch.</summary>
    public const int SmallFileRows = 1_000;

    /// <summary>Rows in the one file of the fixed-cost import.</summary>
    public const int FixedCostRows = 1_000;

    /// <summary>Rows in all files together. Default 2,000,000 (--smoke: 20,000).</summary>
    public int Rows { get; init; } = 2_000_000;

    /// <summary>Files the rows are split into. Default 4 (--smoke: 2).</summary>
    public int Files { get; init; } = 4;

    /// <summary>Stream counts of the engine and CLI rows. Default 1,2,3 (--smoke: 1,2).</summary>
    public IReadOnlyList<int> Streams { get; init; } = [1, 2, 3];

    /// <summary>Runs of each loader. Default 3 (--smoke: 1).</summary>
    public int Repeat { get; init; } = 3;

    /// <summary>Where the report goes. Default bench/results (--smoke: none).</summary>
    public string? OutDirectory { get; init; }

    /// <summary>The CI smoke run. Default off.</summary>
    public bool Smoke { get; init; }

    /// <summary>Keep the throwaway cluster's test settings. Default off.</summary>
    public bool AsIs { get; init; }

    /// <summary>Sample the COPY backends' wait events. Default off.</summary>
    public bool Waits { get; init; }

    /// <summary>The ingest binary given with <c>--cli</c>. Default none: <see cref="CliBinary"/> finds or publishes it.</summary>
    public string? CliPath { get; init; }

    /// <summary>Files of <see cref="SmallFileRows"/> rows in the small-files batch; 0 for none. Default 1000 (--smoke: 50).</summary>
    public int SmallFiles { get; init; } = 1_000;

    /// <summary>Also load all <see cref="Rows"/> from one file. Default on (--smoke: off).</summary>
    public bool OneFile { get; init; } = true;

    /// <summary>The streams of the small-files rows: 2 and every <see cref="Streams"/> count, ascending.</summary>
    public IReadOnlyList<int> SmallFilesStreams => [.. Streams.Append(2).Distinct().Order()];

    /// <summary>The streams of the one-file rows: 1 and the largest <see cref="Streams"/> count.</summary>
    public IReadOnlyList<int> OneFileStreams => [.. new[] { 1, Streams.Max() }.Distinct()];

    /// <summary>Parses the arguments after <c>throughput</c>; throws <see cref="ArgumentException"/> with what to fix.</summary>
    public static ThroughputOptions Parse(IReadOnlyList<string> args)
    {
        var smoke = args.Contains("--smoke");
        var options = smoke
            ? new ThroughputOptions { Rows = 20_000, Files = 2, Streams = [1, 2], Repeat = 1, Smoke = true, SmallFiles = 50, OneFile = false }
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
                "--cli" => options with { CliPath = reader.Value() },
                "--small-files" => options with { SmallFiles = reader.NonNegativeInt() },
                "--one-file" => options with { OneFile = true },
                "--no-one-file" => options with { OneFile = false },
                _ => throw reader.Unknown(),
            };
        }

        ArgReader.CheckFilesAndRows(options.Files, options.Rows);
        return options;
    }

    /// <summary>The command that reproduces this run, for the report.</summary>
    public string CommandLine()
    {
        var line = string.Create(CultureInfo.InvariantCulture,
            $"dotnet run -c Release --project bench/Ingest.Benchmarks -- throughput --rows {Rows} --files {Files} --streams {string.Join(',', Streams)} --repeat {Repeat}");
        line += string.Create(CultureInfo.InvariantCulture, $" --small-files {SmallFiles}") + (OneFile ? string.Empty : " --no-one-file");
        line += CliPath is null ? string.Empty : $" --cli {CliPath}";
        return line + (AsIs ? " --as-is" : string.Empty) + (Waits ? " --waits" : string.Empty);
    }
}
