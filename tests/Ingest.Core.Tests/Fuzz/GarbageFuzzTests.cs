using System.Text;
using Ingest.Core.Tests.Engine;
using Ingest.Status;

namespace Ingest.Core.Tests.Fuzz;

/// <summary>
/// Seeded garbage through the engine: it never crashes or hangs (a generous token guards against a hang,
/// it is not a speed check), every record read is counted as inserted or invalid, and row errors point
/// at lines where records start, as an independent splitter (<see cref="ReferenceCsv"/>) counts them.
/// </summary>
public sealed class GarbageFuzzTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);

    private static IngestOptions Options => EngineFixture.FastOptions with { MaxRowErrorsKept = 1_000_000, MaxRecordSize = 64 * 1024 };

    [SkippableTheory]
    [InlineData(3, false)]
    [InlineData(42, false)]
    [InlineData(9001, true)]
    public async Task Garbage_records_among_valid_ones_are_each_counted_once_and_valid_ones_all_load(int seed, bool endUnterminated)
    {
        var random = new Random(seed);
        var planted = new List<string>();
        var bytes = new List<byte>();
        for (var i = 0; i < 2000; i++)
        {
            if (random.Next(4) == 0)
            {
                var row = EngineFixture.Row(i);
                planted.Add(row[..36]);
                bytes.AddRange(Encoding.UTF8.GetBytes(row.TrimEnd('\n')));
            }
            else
            {
                GarbageRecord(random, bytes);
            }

            bytes.AddRange(random.Next(2) == 0 ? "\r\n"u8.ToArray() : "\n"u8.ToArray());
        }

        if (endUnterminated)
        {
            bytes.AddRange("\"never closed,\n1,2,3\n"u8.ToArray());
        }

        var reference = ReferenceCsv.Split([.. bytes]);
        Assert.True(reference.Decided);
        await using var f = await EngineFixture.CreateAsync(Options);
        var file = f.WriteBytes("garbage.csv", [.. bytes]);
        using var guard = new CancellationTokenSource(HangGuard);

        var result = await f.ImportAsync([file], cancellationToken: guard.Token);

        if (endUnterminated)
        {
            Assert.Equal(BatchStatus.Error, result.Status);
            Assert.StartsWith($"{file} line {reference.UnterminatedAt}: unterminated quoted field", result.Error, StringComparison.Ordinal);
            Assert.Equal(0, await f.ScalarAsync("SELECT count(*) FROM plants"));
            return;
        }

        Assert.True(result.Status == BatchStatus.Finished, result.Error);
        Assert.Equal(reference.RecordLines.Count, result.InsertCount + result.InvalidCount);
        Assert.Equal(result.InsertCount, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(planted.Count, await f.ScalarAsync($"SELECT count(*) FROM plants WHERE entity_id::text IN ('{string.Join("','", planted)}')"));
        var errorLines = result.RowErrors.Select(e => e.Line).ToHashSet();
        Assert.Equal(result.InvalidCount, errorLines.Count);
        Assert.Subset(reference.RecordLines.ToHashSet(), errorLines);
    }

    [SkippableTheory]
    [InlineData(11)]
    [InlineData(1234)]
    [InlineData(65537)]
    public async Task Random_bytes_never_crash_or_hang_and_each_batch_ends_with_counts_that_add_up(int seed)
    {
        var random = new Random(seed);
        await using var f = await EngineFixture.CreateAsync(Options);
        var decided = 0;
        for (var n = 0; n < 12; n++)
        {
            // Raw bytes mostly hold quotes and CRs that RFC 4180 does not define a reading for; the
            // quote-free and the tiny files are ones the reference can count.
            var bytes = (n % 3) switch
            {
                0 => RandomBytes(random, random.Next(0, 32 * 1024)),
                1 => WithoutQuotesOrLoneCr(RandomBytes(random, random.Next(0, 32 * 1024))),
                _ => RandomBytes(random, random.Next(0, 64)),
            };
            var reference = ReferenceCsv.Split(bytes);
            var file = f.WriteBytes($"random-{n}.csv", bytes);
            var table = $"random_{n}";
            using var guard = new CancellationTokenSource(HangGuard);

            var result = await f.ImportAsync([file], schema: EngineFixture.Plants(table), cancellationToken: guard.Token);

            Assert.True(result.Status is BatchStatus.Finished or BatchStatus.Error, $"seed {seed} file {n}: {result.Status} {result.Error}");
            Assert.Equal(result.Status == BatchStatus.Finished ? result.InsertCount : 0, await f.ScalarAsync($"SELECT count(*) FROM {table}"));
            if (result.Status == BatchStatus.Error)
            {
                Assert.StartsWith($"{file} line ", result.Error, StringComparison.Ordinal);
                Assert.Matches("unterminated quoted field|malformed CSV|record size cap", result.Error!);
            }

            if (!reference.Decided)
            {
                continue;
            }

            decided++;
            if (reference.UnterminatedAt is { } line)
            {
                Assert.StartsWith($"{file} line {line}: unterminated quoted field", result.Error, StringComparison.Ordinal);
            }
            else
            {
                Assert.True(result.Status == BatchStatus.Finished, $"seed {seed} file {n}: {result.Error}");
                Assert.Equal(reference.RecordLines.Count, result.InsertCount + result.InvalidCount);
                Assert.Subset(reference.RecordLines.ToHashSet(), result.RowErrors.Select(e => e.Line).ToHashSet());
            }
        }

        Assert.True(decided > 0, "the generator should make some files the reference can count");
    }

    private static readonly string[] Tokens =
    [
        "", " ", "0", "-1", "4294967296", "2147483647", "1e309", "NaN", "-0", "180.0001", "cabbage", "kale", "Cabbage", "1.2.3.4", "256.0.0.1",
        "2024-01-25T15:27:52.302Z", "2024-02-30", "3c1243c4-a532-4487-9662-5655a23dec3a", "3c1243c4a5324487", "\0", "\u00e9\u4e2d", "\t",
    ];

    private static void GarbageRecord(Random random, List<byte> bytes)
    {
        if (random.Next(20) == 0)
        {
            return; // a blank line
        }

        var fields = random.Next(1, 13);
        for (var i = 0; i < fields; i++)
        {
            if (i > 0)
            {
                bytes.Add((byte)',');
            }

            var token = Encoding.UTF8.GetBytes(Tokens[random.Next(Tokens.Length)]);
            switch (random.Next(6))
            {
                case 0:
                    bytes.AddRange("\"a,\"\"b\"\"\n\r\nc\r\""u8.ToArray());
                    break;
                case 1:
                    bytes.Add((byte)'"');
                    bytes.AddRange(token);
                    bytes.Add((byte)'"');
                    break;
                case 2:
                    bytes.AddRange(token);
                    bytes.Add((byte)(0x80 + random.Next(0x80))); // a stray non-ASCII byte: invalid UTF-8 mostly
                    break;
                default:
                    bytes.AddRange(token);
                    break;
            }
        }
    }

    private static byte[] WithoutQuotesOrLoneCr(byte[] bytes)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == '"' || (bytes[i] == '\r' && (i + 1 == bytes.Length || bytes[i + 1] != '\n')))
            {
                bytes[i] = (byte)'x';
            }
        }

        return bytes;
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        // Weighted towards the bytes that steer a CSV reader.
        ReadOnlySpan<byte> steering = [(byte)',', (byte)'"', (byte)'\n', (byte)'\r', 0, (byte)' ', (byte)'-', (byte)'.', (byte)'1', (byte)'9'];
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = random.Next(3) == 0 ? steering[random.Next(steering.Length)] : (byte)random.Next(256);
        }

        return bytes;
    }
}
