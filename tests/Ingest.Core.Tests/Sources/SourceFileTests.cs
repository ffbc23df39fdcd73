using Ingest.Sources;

namespace Ingest.Core.Tests.Sources;

public sealed class SourceFileTests
{
    [Fact]
    public void Http_url_key_drops_user_info_and_query()
    {
        var file = SourceFile.Parse("https://user:SECRET@host.example/data/f.csv.gz?X-Amz-Signature=SECRET#x");

        Assert.True(file.IsHttp);
        Assert.True(file.IsGzip);
        Assert.Equal("https://host.example/data/f.csv.gz", file.Key);
        Assert.Equal("https://host.example/data/f.csv.gz", file.ToString());
    }

    [Fact]
    public void Gzip_is_decided_by_the_path_not_the_query()
    {
        Assert.False(SourceFile.Parse("http://h/f.csv?name=x.gz").IsGzip);
        Assert.True(SourceFile.Parse("http://h/f.CSV.GZ").IsGzip);
    }

    [Fact]
    public void Relative_path_and_file_url_become_full_local_paths()
    {
        var relative = SourceFile.Parse(Path.Combine("data", "f.csv"));
        Assert.False(relative.IsHttp);
        Assert.Equal(Path.GetFullPath(Path.Combine("data", "f.csv")), relative.Key);

        var full = Path.Combine(Path.GetTempPath(), "f.csv.gz");
        var url = SourceFile.Parse(new Uri(full).AbsoluteUri);
        Assert.False(url.IsHttp);
        Assert.True(url.IsGzip);
        Assert.Equal(full, url.Key);
    }

    [Fact]
    public void Other_schemes_are_rejected_naming_the_supported_ones_without_the_location()
    {
        var error = Assert.Throws<ArgumentException>(() => SourceFile.Parse("ftp://user:SECRET@host/f.csv?sig=SECRET"));

        Assert.Contains("http, https, file://", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Options_validation_names_the_option()
    {
        new SourceOptions().Validate();
        var error = Assert.Throws<ArgumentException>(() => (new SourceOptions() with { MaxAttempts = 0 }).Validate());
        Assert.Equal(nameof(SourceOptions.MaxAttempts), error.ParamName);
        Assert.Throws<ArgumentException>(() => (new SourceOptions() with { MaxDecompressedBytes = -1 }).Validate());
    }
}
