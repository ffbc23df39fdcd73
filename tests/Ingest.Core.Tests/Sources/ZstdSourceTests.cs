using Ingest.Core.Tests.Infrastructure;
using Ingest.Sources;
using ZstdSharp;
using static Ingest.Core.Tests.Sources.SourceTestKit;

namespace Ingest.Core.Tests.Sources;

public sealed class ZstdSourceTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ingest-zstd-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Zstd-compresses <paramref name="content"/> as one frame.</summary>
    public static byte[] Zstd(byte[] content, int level = 3)
    {
        using var compressor = new Compressor(level);
        return compressor.Wrap(content).ToArray();
    }

    [Fact]
    public async Task A_zst_file_is_decompressed_from_disk_and_from_http()
    {
        var content = CsvBytes();
        var path = await WriteAsync("a.csv.zst", Zstd(content));
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/a.csv.zst", Zstd(content));
        using var opener = Opener([]);

        Assert.True(SourceFile.Parse(path).IsZstd);
        Assert.False(SourceFile.Parse(path).IsGzip);
        Assert.Equal(content, await ReadAllAsync(opener, path));
        Assert.Equal(content, await ReadAllAsync(opener, server.Url("/a.csv.zst?sig=x")));
    }

    [Fact]
    public async Task Concatenated_zstd_frames_are_read_whole()
    {
        var first = CsvBytes(1000);
        var second = CsvBytes(3000);
        var path = await WriteAsync("a.csv.zst", [.. Zstd(first), .. Zstd(second)]);
        using var opener = Opener([]);

        byte[] expected = [.. first, .. second];
        Assert.Equal(expected, await ReadAllAsync(opener, path));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.999)]
    [InlineData(0.01)]
    public async Task A_truncated_zstd_stream_is_a_file_error_that_retrying_will_not_fix(double keep)
    {
        var zstd = Zstd(CsvBytes());
        var path = await WriteAsync("a.csv.zst", zstd[..Math.Max(5, (int)(zstd.Length * keep))]);
        using var opener = Opener([]);

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, path));
        Assert.False(error.IsTransient);
        Assert.Contains("broken zstd stream", error.Message, StringComparison.Ordinal);
        Assert.Equal(path, error.FileKey);
    }

    [Fact]
    public async Task A_corrupted_zstd_stream_is_a_broken_zstd_stream()
    {
        var zstd = Zstd(CsvBytes());
        zstd[zstd.Length / 2] ^= 0xff;
        var path = await WriteAsync("a.csv.zst", zstd);
        using var opener = Opener([]);

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, path));
        Assert.Contains("broken zstd stream", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a,b,c\n1,2,3\n", "not a zstd stream: it does not start with a zstd frame (bytes 28 b5 2f fd); is it a plain file named .zst?")]
    [InlineData("", "not a zstd stream: the file is empty")]
    public async Task A_zst_file_that_is_not_zstd_says_so(string content, string message)
    {
        var path = await WriteAsync("plain.csv.zst", System.Text.Encoding.UTF8.GetBytes(content));
        using var opener = Opener([]);

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, path));
        Assert.False(error.IsTransient);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_zstd_file_over_the_decompressed_cap_is_a_file_error()
    {
        var path = await WriteAsync("big.csv.zst", Zstd(CsvBytes()));
        using var opener = Opener([], Fast with { MaxDecompressedBytes = 100_000 });

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, path));
        Assert.Contains("decompressed size exceeds the cap of 100000 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_zstd_bomb_over_the_compression_ratio_is_a_file_error()
    {
        // 64 MiB of one byte: zstd makes it a few kilobytes, far past 1,000:1.
        var path = await WriteAsync("bomb.csv.zst", Zstd(new byte[64 * 1024 * 1024], level: 19));
        using var opener = Opener([]);

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, path));
        Assert.Contains("times its compressed size", error.Message, StringComparison.Ordinal);
        Assert.Contains("SourceOptions.MaxCompressionRatio", error.Message, StringComparison.Ordinal);
    }

    private async Task<string> WriteAsync(string name, byte[] bytes)
    {
        var path = Path.Combine(_folder, name);
        await File.WriteAllBytesAsync(path, bytes);
        return path;
    }
}
