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
        var reader = new ArgReader(args);
        while (reader.MoveNext())
        {
            options = reader.Name switch
            {
                "--smoke" => options,
                "--as-is" => options with { AsIs = true },
                "--rows" => options with { Rows = reader.PositiveInt() },
                "--files" => options with { Files = reader.PositiveInt() },
                "--repeat" => options with { Repeat = reader.PositiveInt() },
                "--lease-seconds" => options with { LeaseSeconds = reader.PositiveInt() },
                "--workers" => options with { Workers = reader.PositiveInts() },
                "--streams" => options with { Streams = reader.PositiveInts() },
                "--ingest" => options with { IngestDll = reader.Value() },
                "--out" => options with { OutDirectory = reader.Value() },
                _ => throw reader.Unknown(),
            };
        }

        ArgReader.CheckFilesAndRows(options.Files, options.Rows);

        if (options.Streams.Any(s => s > 64))
        {
            throw new ArgumentException("--streams takes 1 to 64 (WorkerOptions.Streams).");
        }

        return options;
    }
}
