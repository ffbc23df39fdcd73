using BenchmarkDotNet.Running;

// Micro benchmarks per stage; the end-to-end throughput runner comes with issue [3].
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
