using BenchmarkDotNet.Running;
using Ingest.Benchmarks;
using Ingest.Benchmarks.Throughput;

// `throughput` runs the end-to-end comparison (see bench/README.md); anything else goes to BenchmarkDotNet's
// switcher for the per-stage micro benchmarks, e.g. `-- --filter '*' --job short`.
if (args.Length > 0 && args[0] == "throughput")
{
    ThroughputOptions options;
    try
    {
        options = ThroughputOptions.Parse(args[1..]);
    }
    catch (ArgumentException ex)
    {
        Console.Error.WriteLine(ex.Message);
        Console.Error.WriteLine(ThroughputOptions.Usage);
        return 2;
    }

    return await ThroughputRunner.RunAsync(options);
}

var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, BenchConfig.Create());
return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
