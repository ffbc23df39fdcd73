using BenchmarkDotNet.Running;
using Ingest.Benchmarks;
using Ingest.Benchmarks.Scaling;
using Ingest.Benchmarks.Stages;
using Ingest.Benchmarks.Throughput;

// `throughput` runs the end-to-end comparison (see bench/README.md); anything else goes to BenchmarkDotNet's
// switcher for the per-stage micro benchmarks, e.g. `-- --filter '*' --job short`.
if (args.Length > 0 && args[0] == "throughput")
{
    return await RunCommandAsync(ThroughputOptions.Parse, ThroughputOptions.Usage, ThroughputRunner.RunAsync);
}

// `workers` runs 1, 2, 3 ... `ingest worker` processes on one submitted batch (WorkersOptions.Usage; SCALING.md).
if (args.Length > 0 && args[0] == "workers")
{
    return await RunCommandAsync(WorkersOptions.Parse, WorkersOptions.Usage, WorkersRunner.RunAsync);
}

// `serve-files <dir>`: the throughput command's loopback file server, run as a process of its own.
if (args.Length == 2 && args[0] == "serve-files")
{
    return await FileServerProcess.ServeAsync(args[1]);
}

// `min-of [N] [name]`: the stage and field benchmarks without BenchmarkDotNet, fastest of N (see MinOfN).
if (args.Length > 0 && args[0] == "min-of")
{
    return MinOfN.Run(args[1..]);
}

var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, BenchConfig.Create());
return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;

// An end-to-end command: its arguments parsed (a mistake prints what to fix and the usage, exit 2), then run.
async Task<int> RunCommandAsync<TOptions>(Func<IReadOnlyList<string>, TOptions> parse, string usage, Func<TOptions, Task<int>> run)
{
    TOptions options;
    try
    {
        options = parse(args[1..]);
    }
    catch (ArgumentException ex)
    {
        Console.Error.WriteLine(ex.Message);
        Console.Error.WriteLine(usage);
        return 2;
    }

    return await run(options);
}
