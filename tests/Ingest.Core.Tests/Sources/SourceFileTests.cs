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
    public async Task A_file_url_with_localhost_as_its_host_is_the_same_local_file_and_key_as_one_without_a_host()
    {
        var folder = Directory.CreateTempSubdirectory("ingest-file-url-").FullName;
        try
        {
            var full = Path.Combine(folder, "a b", "good.csv");
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            await File.WriteAllTextAsync(full, "1,2\n");
            var withoutHost = new Uri(full).AbsoluteUri; // file:///tmp/.../a%20b/good.csv
            var rest = withoutHost["file://".Length..];

            var plain = SourceFile.Parse(withoutHost);
            var localhost = SourceFile.Parse("file://localhost" + rest);
            var upper = SourceFile.Parse("FILE://LocalHost" + rest);

            Assert.Equal(full, plain.Key);
            Assert.Equal(full, localhost.Key);
            Assert.Equal(full, upper.Key);
            Assert.False(localhost.IsHttp);
            Assert.True(SourceFile.Parse("file://localhost" + rest + ".gz").IsGzip);

            using var opener = new SourceOpener(new SourceOptions());
            await using var stream = await opener.OpenAsync(localhost);
            using var text = new StreamReader(stream);
            Assert.Equal("1,2\n", await text.ReadToEndAsync());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("file://fileserver/share/f.csv?sig=SECRET#SECRET", "file://fileserver/share/f.csv")]
    [InlineData("file://127.0.0.1/tmp/f.csv", "file://127.0.0.1/tmp/f.csv")]
    [InlineData("file:////tmp/f.csv", "file://tmp/f.csv")]
    public void A_file_url_naming_another_host_is_refused_naming_the_url_and_the_forms_that_work(string location, string shown)
    {
        var error = Assert.Throws<ArgumentException>(() => SourceFile.Parse(location));

        Assert.Equal("locationOrPath", error.ParamName);
        Assert.Contains($"'{shown}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("only local file URLs (file:///path or file://localhost/path) are supported", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", error.ToString(), StringComparison.Ordinal);
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
