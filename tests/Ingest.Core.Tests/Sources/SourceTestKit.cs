using Ingest.Sources;

namespace Ingest.Core.Tests.Sources;

/// <summary>Shared helpers of the source tests: fast options, test content, reading a source whole.</summary>
internal static class SourceTestKit
{
    /// <summary>Tiny backoffs so retries do not slow the suite; a stall timeout far above loopback latency.</summary>
    public static SourceOptions Fast { get; } = new()
    {
        InitialBackoff = TimeSpan.FromMilliseconds(1),
        MaxBackoff = TimeSpan.FromMilliseconds(5),
        StallTimeout = TimeSpan.FromSeconds(20),
    };

    /// <summary>Deterministic CSV-looking bytes, large enough to span many reads.</summary>
    public static byte[] CsvBytes(int rows = 20_000)
    {
        var random = new Random(42);
        var builder = new System.Text.StringBuilder();
        var id = new byte[16];
        for (var i = 0; i < rows; i++)
        {
            random.NextBytes(id);
            builder.Append(new Guid(id)).Append(',').Append(1_700_000_000_000L + i).Append(',')
                .Append(random.Next(-180, 180)).Append('.').Append(random.Next(1000)).Append(',')
                .Append(random.Next(-90, 90)).Append(".5,").Append(random.Next()).Append('\n');
        }

        return System.Text.Encoding.UTF8.GetBytes(builder.ToString());
    }

    public static async Task<byte[]> ReadAllAsync(SourceOpener opener, string location)
    {
        await using var stream = await opener.OpenAsync(SourceFile.Parse(location));
        using var copy = new MemoryStream();
        var buffer = new byte[8192];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            copy.Write(buffer, 0, read);
        }

        return copy.ToArray();
    }

    public static Task<byte[]> ReadAllAsync(SourceOpener opener, Uri url) => ReadAllAsync(opener, url.ToString());

    /// <summary>Opens a reader that records every Retrying message.</summary>
    public static SourceOpener Opener(List<string> retries, SourceOptions? options = null)
    {
        var opener = new SourceOpener(options ?? Fast);
        opener.Retrying += message =>
        {
            lock (retries)
            {
                retries.Add(message);
            }
        };
        return opener;
    }
}
