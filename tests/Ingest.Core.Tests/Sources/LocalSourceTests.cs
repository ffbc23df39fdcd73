using Ingest.Core.Tests.Infrastructure;
using static Ingest.Core.Tests.Sources.SourceTestKit;

namespace Ingest.Core.Tests.Sources;

public sealed class LocalSourceTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ingest-sources-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Local_path_file_url_and_gz_file_are_read()
    {
        var content = CsvBytes(2000);
        var path = Path.Combine(_folder, "a.csv");
        await File.WriteAllBytesAsync(path, content);
        await File.WriteAllBytesAsync(path + ".gz", LoopbackHttpServer.Gzip(content));
        using var opener = Opener([]);

        Assert.Equal(content, await ReadAllAsync(opener, path));
        Assert.Equal(content, await ReadAllAsync(opener, new Uri(path).AbsoluteUri));
        Assert.Equal(content, await ReadAllAsync(opener, path + ".gz"));
    }

    [Fact]
    public async Task Missing_local_file_is_a_file_error_naming_its_path()
    {
        var path = Path.Combine(_folder, "missing.csv");
        using var opener = Opener([]);

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, path));
        Assert.Equal(path, error.FileKey);
        Assert.Equal("file not found", error.Reason);
        await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, Path.Combine(_folder, "no-such-dir", "a.csv")));
    }

    [Fact]
    public async Task A_folder_given_as_a_file_says_it_is_a_folder()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_folder, "day-1")).FullName;
        using var opener = Opener([]);

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, folder));

        Assert.Equal("is a folder, not a file: list the files in it as the batch's sources", error.Reason);
        Assert.False(error.IsTransient);
    }

    [Fact]
    public async Task Truncated_local_gz_file_is_a_file_error()
    {
        var path = Path.Combine(_folder, "a.csv.gz");
        var gzip = LoopbackHttpServer.Gzip(CsvBytes(2000));
        await File.WriteAllBytesAsync(path, gzip[..(gzip.Length / 2)]);
        using var opener = Opener([]);

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, path));
        Assert.False(error.IsTransient);
        Assert.Contains("broken gzip stream", error.Message, StringComparison.Ordinal);
    }
}
