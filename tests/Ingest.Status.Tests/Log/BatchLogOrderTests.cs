namespace Ingest.Status.Tests.Log;

public sealed class BatchLogOrderTests
{
    [Fact]
    public void Lines_appended_from_many_threads_are_in_time_order()
    {
        var log = new BatchLog();

        Parallel.For(0, 4000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => log.Info($"line {i}"));

        var stamps = log.Text!.Split('\n').Select(line => line[..24]).ToList();
        Assert.Equal(4000, stamps.Count);
        Assert.Equal(stamps.Order(StringComparer.Ordinal), stamps);
    }
}
