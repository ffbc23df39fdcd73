using Ingest.Engine;

namespace Ingest.Benchmarks.Throughput;

/// <summary>
/// Every loader configuration of one <c>throughput</c> run, in the order each round runs them: the main workload
/// (the cold CLI, the engine, psql, the server's COPY), then all rows in one file, then the small files.
/// </summary>
internal static class ThroughputCases
{
    public static List<Measurement> Create(
        ThroughputOptions options, BenchDatabase database, Workload workload, FileServerProcess files, CliLoader? cli, ExtraWorkloads extra, Action<string> log)
    {
        var measurements = new List<Measurement>();
        if (cli is not null)
        {
            measurements.AddRange(options.Streams.Select(streams => new Measurement(cli.Import(workload, streams), workload)));
        }

        measurements.AddRange(InProcess(options, database, workload, files, log).Select(c => new Measurement(c, workload)));
        if (extra.OneFile is { } oneFile)
        {
            measurements.AddRange(Both(options.OneFileStreams, database, oneFile, cli, WorkloadShape.OneFile));
        }

        if (extra.SmallFiles is { } smallFiles)
        {
            measurements.AddRange(Both(options.SmallFilesStreams, database, smallFiles, cli, WorkloadShape.SmallFiles));
        }

        return measurements;
    }

    /// <summary>The cold CLI (when it runs) and the in-process engine (local files, normal priority, as the CLI runs from a shell) at each stream count.</summary>
    private static IEnumerable<Measurement> Both(IReadOnlyList<int> streamCounts, BenchDatabase database, Workload workload, CliLoader? cli, WorkloadShape shape)
    {
        foreach (var streams in streamCounts)
        {
            if (cli is not null)
            {
                yield return new Measurement(cli.Import(workload, streams), workload, shape);
            }

            yield return new Measurement(Loaders.Engine(Loaders.EngineLocal, database, workload.CsvFiles, streams, workload.Rows), workload, shape);
        }
    }

    /// <summary>The in-process rows of the main workload: the engine from disk and over HTTP, at each priority and stream count; psql; the server's COPY.</summary>
    private static List<LoaderCase> InProcess(ThroughputOptions options, BenchDatabase database, Workload workload, FileServerProcess files, Action<string> log)
    {
        var cases = new List<LoaderCase>();
        var urls = workload.CsvFiles.Select(files.Url).ToList();
        CpuYield[] priorities = [CpuYield.Never, CpuYield.Always];
        if (!CpuYielder.Process.TryReadNice(out _))
        {
            priorities = [CpuYield.Never];
            log("this machine does not show Linux's scheduler autogroup (/proc/self/autogroup): the engine cannot yield the CPU here, so its 'yielding CPU' rows are left out");
        }

        foreach (var (name, sources) in (IEnumerable<(string, IReadOnlyList<string>)>)[(Loaders.EngineLocal, workload.CsvFiles), (Loaders.EngineHttp, urls)])
        {
            foreach (var yieldCpu in priorities)
            {
                foreach (var streams in options.Streams)
                {
                    var label = yieldCpu == CpuYield.Always ? name + Loaders.Yielding : name;
                    cases.Add(Loaders.Engine(label, database, sources, streams, workload.Rows, yieldCpu));
                }
            }
        }

        if (Loaders.PsqlFound())
        {
            cases.Add(Loaders.PsqlCopy(database, workload.CsvFiles, 1));
            cases.Add(Loaders.PsqlCopy(database, workload.CsvFiles, 2));
        }
        else
        {
            log("psql not found on PATH: its rows are left out");
        }

        cases.Add(Loaders.ServerBinaryCopy(database, workload.BinFiles, 1));
        cases.Add(Loaders.ServerBinaryCopy(database, workload.BinFiles, 2));
        return cases;
    }
}
