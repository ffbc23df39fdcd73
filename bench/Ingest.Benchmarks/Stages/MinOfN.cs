using System.Diagnostics;
using System.Globalization;

namespace Ingest.Benchmarks.Stages;

/// <summary>
/// <c>min-of [N] [name]</c>: each stage and field benchmark N times (default 30) in turn, printing the fastest
/// invocation in ns per row. On a shared machine the minimum is the figure least disturbed by other processes,
/// and a run takes seconds, so builds of two commits can be alternated (see bench/results/2026-11-29-parsers.md).
/// </summary>
internal static class MinOfN
{
    public static int Run(string[] args)
    {
        var rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 30;
        var field = new FieldBenchmarks();
        field.Setup();
        var stage = new StageBenchmarks();
        stage.Setup();
        (string Name, Func<long> Run)[] cases =
        [
            ("Uuid", () => field.Uuid()),
            ("IsoTimestamp", () => field.IsoTimestamp()),
            ("Double", () => field.Double()),
            ("Double_Bcl", () => field.Double_Bcl()),
            ("UnsignedNumber", () => field.UnsignedNumber()),
            ("UnsignedNumber_Bcl", () => field.UnsignedNumber_Bcl()),
            ("IPv4", () => field.IPv4()),
            ("EnumLookup", () => field.EnumLookup()),
            ("EnumLookup_Dictionary", () => field.EnumLookup_Dictionary()),
            ("ValidateEncode", () => stage.ValidateEncode()),
            ("ParseValidateEncode", () => stage.ParseValidateEncode()),
        ];
        if (args.Length > 1)
        {
            cases = Array.FindAll(cases, c => c.Name == args[1]);
        }

        var best = new double[cases.Length];
        Array.Fill(best, double.MaxValue);
        for (var r = 0; r < rounds; r++)
        {
            for (var c = 0; c < cases.Length; c++)
            {
                var watch = Stopwatch.StartNew();
                cases[c].Run();
                best[c] = Math.Min(best[c], watch.Elapsed.TotalNanoseconds / StageBenchmarks.Rows);
            }
        }

        for (var c = 0; c < cases.Length; c++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{cases[c].Name,-22} {best[c],8:F1} ns/row (min of {rounds})"));
        }

        return 0;
    }
}
