namespace Ingest.Benchmarks.Throughput;

/// <summary>
/// The files beside the main workload, each in a folder of its own (CSV only: the server's COPY does not load them):
/// all <c>--rows</c> in one file (<c>--one-file</c>), <c>--small-files</c> files of 1,000 rows, and the 1,000-row file
/// of the fixed-cost import (only when the CLI runs). Each is <see langword="null"/> when it is not measured.
/// </summary>
internal sealed class ExtraWorkloads : IDisposable
{
    public Workload? OneFile { get; private init; }

    public Workload? SmallFiles { get; private init; }

    public Workload? FixedCostFile { get; private init; }

    public static ExtraWorkloads Create(ThroughputOptions options, bool withCli, Action<string> log)
    {
        Workload? oneFile = null, smallFiles = null, fixedCostFile = null;
        if (options.OneFile)
        {
            oneFile = Workload.Create(options.Rows, 1, binaryCopy: false);
            log($"  one file: {oneFile.CsvFiles[0]}, {oneFile.CsvBytes / 1e6:0.0} MB");
        }

        if (options.SmallFiles > 0)
        {
            smallFiles = Workload.Create(options.SmallFiles * ThroughputOptions.SmallFileRows, options.SmallFiles, binaryCopy: false);
            log($"  small files: {options.SmallFiles} files of {ThroughputOptions.SmallFileRows:N0} rows in {smallFiles.Directory}, {smallFiles.CsvBytes / 1e6:0.0} MB");
        }

        if (withCli)
        {
            fixedCostFile = Workload.Create(ThroughputOptions.FixedCostRows, 1, binaryCopy: false);
        }

        return new ExtraWorkloads { OneFile = oneFile, SmallFiles = smallFiles, FixedCostFile = fixedCostFile };
    }

    public void Dispose()
    {
        OneFile?.Dispose();
        SmallFiles?.Dispose();
        FixedCostFile?.Dispose();
    }
}
