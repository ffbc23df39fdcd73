using System.IO.Compression;
using Ingest.Core.Tests.Engine;
using Ingest.Sources;

namespace Ingest.Core.Tests.BadInput;

/// <summary>Broken and hostile gzip through the engine.</summary>
public sealed class CompressedInputTests
{
    [SkippableFact]
    public async Task Truncated_gzip_is_a_file_error_and_none_of_its_rows_load()
    {
        await using var f = await EngineFixture.CreateAsync();
        var gzip = EngineFixture.Gzip(EngineFixture.Rows(5000));
        var file = f.WriteBytes("cut.csv.gz", gzip[..(gzip.Length * 2 / 3)]);

        var result = await f.ImportAsync([file]);

        await Outcome.FileErrorAsync(f, result, file, "broken gzip stream");
    }

    [SkippableFact]
    public async Task Gzip_bomb_over_the_decompressed_size_cap_is_a_file_error()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with
        {
            Source = EngineFixture.FastOptions.Source with { MaxDecompressedBytes = 4 * 1024 * 1024 },
        });

        // Valid rows, so the cap (not the CSV) stops it: 24 MB of them, repeated.
        var file = f.WriteBytes("rows.csv.gz", Compress(Repeat(EngineFixture.Rows(100), 24 * 1024 * 1024), CompressionLevel.Optimal));

        var result = await f.ImportAsync([file]);

        await Outcome.FileErrorAsync(f, result, file, "decompressed size exceeds the cap of 4194304 bytes (SourceOptions.MaxDecompressedBytes)");
    }

    [SkippableFact]
    public async Task Gzip_bomb_over_the_compression_ratio_is_a_file_error_with_default_options()
    {
        await using var f = await EngineFixture.CreateAsync();
        var file = f.WriteBytes("bomb.csv.gz", Compress(new string('\n', 64 * 1024 * 1024), CompressionLevel.SmallestSize));

        var result = await f.ImportAsync([file]);

        await Outcome.FileErrorAsync(f, result, file, "times its compressed size");
        Assert.Equal(1000, new SourceOptions().MaxCompressionRatio);
    }

    private static string Repeat(string block, int length)
    {
        var builder = new System.Text.StringBuilder(length + block.Length);
        while (builder.Length < length)
        {
            builder.Append(block);
        }

        return builder.ToString();
    }

    private static byte[] Compress(string content, CompressionLevel level)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, level))
        {
            gzip.Write(System.Text.Encoding.UTF8.GetBytes(content));
        }

        return output.ToArray();
    }
}
