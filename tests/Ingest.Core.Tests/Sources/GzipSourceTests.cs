using Ingest.Sources;
using Ingest.Core.Tests.Infrastructure;
using static Ingest.Core.Tests.Sources.SourceTestKit;

namespace Ingest.Core.Tests.Sources;

public sealed class GzipSourceTests
{
    [Fact]
    public async Task Gz_file_and_gzip_content_encoding_are_both_decompressed()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        var content = CsvBytes();
        server.AddFile("/a.csv.gz", LoopbackHttpServer.Gzip(content));
        server.AddFile("/b.csv", content, new HttpFault { GzipEncoded = true });
        using var opener = Opener([]);

        Assert.Equal(content, await ReadAllAsync(opener, server.Url("/a.csv.gz?sig=x")));
        Assert.Equal(content, await ReadAllAsync(opener, server.Url("/b.csv")));
    }

    [Fact]
    public async Task Concatenated_gzip_members_are_read_whole()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        var first = CsvBytes(1000);
        var second = CsvBytes(3000);
        server.AddFile("/a.csv.gz", [.. LoopbackHttpServer.Gzip(first), .. LoopbackHttpServer.Gzip(second)]);
        using var opener = Opener([]);

        byte[] expected = [.. first, .. second];
        Assert.Equal(expected, await ReadAllAsync(opener, server.Url("/a.csv.gz")));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.999)]
    [InlineData(0.0005)]
    public async Task Truncated_gzip_is_a_file_error_that_retrying_will_not_fix(double keep)
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        var gzip = LoopbackHttpServer.Gzip(CsvBytes());
        server.AddFile("/a.csv.gz", gzip[..Math.Max(1, (int)(gzip.Length * keep))]);
        using var opener = Opener([]);

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, server.Url("/a.csv.gz")));
        Assert.False(error.IsTransient);
        Assert.Contains("broken gzip stream", error.Message, StringComparison.Ordinal);
        Assert.Equal(server.Url("/a.csv.gz").ToString(), error.FileKey);
    }

    [Theory]
    [InlineData("a,b,c\n", "not a gzip stream: it does not start with the gzip header (bytes 1f 8b); is it a plain file named .gz?")]
    [InlineData("", "not a gzip stream: the file is empty")]
    public async Task A_gz_file_that_is_not_gzip_says_so(string content, string message)
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/plain.csv.gz", System.Text.Encoding.UTF8.GetBytes(content));
        using var opener = Opener([]);

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, server.Url("/plain.csv.gz")));
        Assert.False(error.IsTransient);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_truncated_gzip_gives_only_bytes_of_the_file_before_its_error_never_decoder_garbage()
    {
        // Cut short, the stream's last member runs into the end marker Ingest appends, and the decoder can turn
        // those bytes into output before the missing marker shows the cut. None of that may reach the parser.
        // Repetitive rows, as generated data often is: the decoder's window is full of long matches.
        var content = System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 20_000).Select(i => $"00000000-0000-0011-0000-{i:x12},{1_700_000_000_000L + i},{(i % 360) - 180 + 0.5:F5},{(i % 180) - 90 + 0.5:F5},{i},17\n")));
        byte[] gzip;
        using (var compressed = new MemoryStream())
        {
            using (var writer = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.SmallestSize, leaveOpen: true))
            {
                writer.Write(content);
            }

            gzip = compressed.ToArray();
        }

        var folder = Directory.CreateTempSubdirectory("ingest-gzcut-").FullName;
        try
        {
            using var opener = Opener([]);
            var random = new Random(7);
            var garbage = new List<int>();
            for (var n = 0; n < 300; n++)
            {
                var cut = random.Next(20, gzip.Length - 1);
                var path = Path.Combine(folder, $"cut{n}.csv.gz");
                await File.WriteAllBytesAsync(path, gzip[..cut]);
                await using var stream = await opener.OpenAsync(SourceFile.Parse(path));
                using var delivered = new MemoryStream();
                var buffer = new byte[8192];
                var error = await Assert.ThrowsAsync<FileErrorException>(async () =>
                {
                    int read;
                    while ((read = await stream.ReadAsync(buffer)) > 0)
                    {
                        delivered.Write(buffer, 0, read);
                    }
                });

                Assert.Contains("broken gzip stream", error.Message, StringComparison.Ordinal);
                if (!content.AsSpan().StartsWith(delivered.ToArray()))
                {
                    garbage.Add(cut);
                }
            }

            Assert.True(garbage.Count == 0, $"bytes not in the file reached the reader for cuts at {string.Join(", ", garbage)}");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Truncated_gzip_by_one_trailer_byte_is_a_file_error()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        var gzip = LoopbackHttpServer.Gzip(CsvBytes());
        server.AddFile("/a.csv.gz", gzip[..^1]);
        using var opener = Opener([]);

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, server.Url("/a.csv.gz")));
        Assert.Contains("broken gzip stream", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(8)] // the first byte of the trailer's CRC-32
    [InlineData(4)] // the first byte of the trailer's length
    public async Task A_gzip_whose_checksum_or_length_does_not_match_is_called_corrupt_not_an_unsupported_method(int fromEnd)
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        var gzip = LoopbackHttpServer.Gzip(CsvBytes());
        gzip[^fromEnd] ^= 0x5A;
        server.AddFile("/a.csv.gz", gzip);
        using var opener = Opener([]);

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, server.Url("/a.csv.gz")));

        Assert.Contains("broken gzip stream: its data is corrupt", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("unsupported compression method", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gzip_bomb_over_the_decompressed_cap_is_a_file_error()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/bomb.csv.gz", LoopbackHttpServer.Gzip(new byte[20 * 1024 * 1024]));
        using var opener = Opener([], Fast with { MaxDecompressedBytes = 1024 * 1024 });

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, server.Url("/bomb.csv.gz")));
        Assert.False(error.IsTransient);
        Assert.Contains("decompressed size exceeds the cap of 1048576 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gzip_at_exactly_the_cap_is_read()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        var content = CsvBytes(1000);
        server.AddFile("/a.csv.gz", LoopbackHttpServer.Gzip(content));
        using var opener = Opener([], Fast with { MaxDecompressedBytes = content.Length });

        Assert.Equal(content, await ReadAllAsync(opener, server.Url("/a.csv.gz")));
    }

    [Fact]
    public async Task Gzip_bomb_over_the_default_compression_ratio_is_a_file_error_without_a_size_cap()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        server.AddFile("/bomb.csv.gz", GzipSmallest(new byte[64 * 1024 * 1024]));
        using var opener = Opener([]);

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, server.Url("/bomb.csv.gz")));
        Assert.False(error.IsTransient);
        Assert.Contains("decompressed data is over 1000 times its compressed size", error.Message, StringComparison.Ordinal);
        Assert.Contains("a gzip bomb?", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_compression_ratio_is_checked_only_after_the_first_megabytes()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        var zeros = new byte[4 * 1024 * 1024];
        server.AddFile("/small.csv.gz", GzipSmallest(zeros));
        using var opener = Opener([], Fast with { MaxCompressionRatio = 2 });

        Assert.Equal(zeros.Length, (await ReadAllAsync(opener, server.Url("/small.csv.gz"))).Length);
    }

    [Fact]
    public async Task A_lower_ratio_cap_catches_a_file_that_expands_more_than_it()
    {
        await using var server = await LoopbackHttpServer.StartAsync();
        var row = "3c1243c4-a532-4487-9662-5655a23dec3a,1706196472302,4.35,50.85,12.5,42,10.0.0.1,cabbage,-7\n"u8.ToArray();
        var content = Enumerable.Repeat(row, 200_000).SelectMany(r => r).ToArray(); // one row repeated: expands far more than 10x
        server.AddFile("/a.csv.gz", LoopbackHttpServer.Gzip(content));
        using var opener = Opener([], Fast with { MaxCompressionRatio = 10 });

        var error = await Assert.ThrowsAsync<FileErrorException>(() => ReadAllAsync(opener, server.Url("/a.csv.gz")));
        Assert.Contains("over 10 times its compressed size", error.Message, StringComparison.Ordinal);
        using var relaxed = Opener([], Fast with { MaxCompressionRatio = 0 });
        Assert.Equal(content, await ReadAllAsync(relaxed, server.Url("/a.csv.gz")));
    }

    private static byte[] GzipSmallest(byte[] content)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gzip.Write(content);
        }

        return buffer.ToArray();
    }
}
