using Ingest.Sources;
using Ingest.Sources.S3;

namespace Ingest.Core.Tests.Sources.S3;

public sealed class S3LocationTests
{
    [Theory]
    [InlineData("s3://bucket/data/file-1.csv", "s3://bucket/data/file-1.csv", false, false)]
    [InlineData("s3://bucket/data/file-1.csv.gz", "s3://bucket/data/file-1.csv.gz", true, false)]
    [InlineData("s3://bucket/data/file-1.csv.zst", "s3://bucket/data/file-1.csv.zst", false, true)]
    [InlineData("S3://my.bucket-2/a b/ü.CSV.GZ", "s3://my.bucket-2/a b/ü.CSV.GZ", true, false)]
    public void An_s3_object_is_a_file_keyed_by_its_s3_url(string location, string key, bool gzip, bool zstd)
    {
        var file = SourceFile.Parse(location);

        Assert.True(file.IsS3);
        Assert.False(file.IsHttp);
        Assert.Equal(key, file.Key);
        Assert.Equal(key, file.ToString());
        Assert.Equal(gzip, file.IsGzip);
        Assert.Equal(zstd, file.IsZstd);
    }

    [Fact]
    public void Http_urls_are_not_s3_files()
    {
        var file = SourceFile.Parse("https://bucket.s3.amazonaws.com/a.csv.zst");

        Assert.True(file.IsHttp);
        Assert.False(file.IsS3);
        Assert.True(file.IsZstd);
    }

    [Theory]
    [InlineData("s3://bucket/data/*.csv", true)]
    [InlineData("s3://bucket/data/**/*.csv.gz", true)]
    [InlineData("s3://bucket/data/file-?.csv", true)]
    [InlineData("s3://bucket/**", true)]
    [InlineData("s3://bucket/data/a.csv", false)]
    [InlineData("https://host/data/*.csv", false)]
    [InlineData("/tmp/data/*.csv", false)]
    public void A_location_with_glob_characters_in_an_s3_key_is_a_pattern(string location, bool pattern)
    {
        Assert.Equal(pattern, SourceFile.IsPattern(location));
    }

    [Fact]
    public void Parsing_a_pattern_as_a_file_says_it_must_be_listed_first()
    {
        var error = Assert.Throws<ArgumentException>(() => SourceFile.Parse("s3://bucket/data/**/*.csv"));

        Assert.Contains("patterns must be expanded (listed) first", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("s3://bucket", "names no object")]
    [InlineData("s3://bucket/", "names no object")]
    [InlineData("s3://bucket/data/", "is a folder, not an object")]
    [InlineData("s3://b/a.csv", "is not valid")]
    [InlineData("s3://host:9000/a.csv", "is not valid")]
    [InlineData("s3:///a.csv", "is not valid")]
    public void A_bad_s3_location_is_refused_saying_what_an_s3_location_is(string location, string reason)
    {
        var error = Assert.Throws<ArgumentException>(() => SourceFile.Parse(location));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Equal("locationOrPath", error.ParamName);
    }

    [Fact]
    public void An_s3_location_with_user_info_is_refused_without_repeating_it()
    {
        var error = Assert.Throws<ArgumentException>(() => SourceFile.Parse("s3://AKIAEXAMPLE:S3CRETVALUE@bucket/a.csv"));

        Assert.Contains("carries no credentials", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("S3CRETVALUE", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("AKIAEXAMPLE", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_pattern_lists_from_its_literal_prefix()
    {
        var pattern = S3Pattern.Parse("s3://bucket/data/2024/**/*.csv.gz");

        Assert.Equal("bucket", pattern.Bucket);
        Assert.Equal("data/2024/", pattern.ListPrefix);
        Assert.True(pattern.IsMatch("data/2024/01/02/a.csv.gz"));
        Assert.False(pattern.IsMatch("data/2024/01/02/a.csv"));
        Assert.Equal("s3://bucket/data/2024/**/*.csv.gz", pattern.ToString());
    }

    [Theory]
    [InlineData("sample-data", "**/*.csv", "sample-data/", "s3://bucket/sample-data/**/*.csv")]
    [InlineData("sample-data/", "**/*.csv", "sample-data/", "s3://bucket/sample-data/**/*.csv")]
    [InlineData("", "*.csv", "", "s3://bucket/*.csv")]
    [InlineData("sample-data", "", "sample-data/", "s3://bucket/sample-data/**")]
    [InlineData("sample-data", "2024/file-?.csv", "sample-data/2024/file-", "s3://bucket/sample-data/2024/file-?.csv")]
    public void A_prefix_and_glob_make_a_pattern_below_the_prefix_folder(string prefix, string glob, string listPrefix, string shown)
    {
        var pattern = S3Pattern.Create("bucket", prefix, glob);

        Assert.Equal(listPrefix, pattern.ListPrefix);
        Assert.Equal(shown, pattern.ToString());
    }
}
