using Ingest.Sources.S3;

namespace Ingest.Core.Tests.Sources.S3;

public sealed class NaturalComparerTests
{
    [Theory]
    [InlineData("file-2.csv", "file-10.csv")]
    [InlineData("file-9.csv", "file-10.csv")]
    [InlineData("a/file-1.csv", "a/file-1.csv.gz")]
    [InlineData("file-1.csv", "file-1a.csv")]
    [InlineData("a", "b")]
    [InlineData("A", "a")]
    [InlineData("a/2/x.csv", "a/10/x.csv")]
    [InlineData("v1.2", "v1.10")]
    [InlineData("file-01.csv", "file-1.csv")] // equal values: the ordinal order decides, so the order is total
    [InlineData("x-99999999999999999999999", "x-100000000000000000000000")]
    [InlineData("file", "file-1")]
    public void Numbers_in_names_compare_by_value(string first, string second)
    {
        Assert.True(NaturalComparer.Instance.Compare(first, second) < 0, $"{first} < {second}");
        Assert.True(NaturalComparer.Instance.Compare(second, first) > 0, $"{second} > {first}");
    }

    [Fact]
    public void Equal_names_compare_equal()
    {
        Assert.Equal(0, NaturalComparer.Instance.Compare("file-10.csv", "file-10.csv"));
    }

    [Fact]
    public void Sorting_keys_gives_the_order_people_number_files_in()
    {
        var keys = new List<string> { "p/file-10.csv", "p/file-2.csv", "p/file-1.csv", "p/file-100.csv", "p/file-20.csv", "o/file-3.csv" };

        keys.Sort(NaturalComparer.Instance);

        Assert.Equal(["o/file-3.csv", "p/file-1.csv", "p/file-2.csv", "p/file-10.csv", "p/file-20.csv", "p/file-100.csv"], keys);
    }
}
