using System.Globalization;
using Ingest.Status;
using ZstdSharp;

namespace Ingest.Sources;

/// <summary>
/// Zstandard (<c>.zst</c>) files, decoded by ZstdSharp with its end-of-stream check on: a stream cut short ends in
/// an error, never silently. Unlike gzip's, nothing is held back: zstd decodes whole blocks only, so the bytes a cut
/// stream gave before the error are the file's own, and the error reaches the parser before any end of file.
/// </summary>
internal sealed partial class GuardedDecompressionStream
{
    private CountingReadStream? _zstdInput;

    private static GuardedDecompressionStream WrapZstd(Stream raw, string key, SourceOptions options)
    {
        var counted = new CountingReadStream(raw);
        var decoder = new DecompressionStream(counted, bufferSize: 0, checkEndOfStream: true, leaveOpen: false);
        return new GuardedDecompressionStream(decoder, key, null, options) { _zstdInput = counted };
    }

    private async ValueTask<int> ReadZstdAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        var read = await _inner.ReadAsync(destination, cancellationToken).ConfigureAwait(false);
        var input = _zstdInput!;
        if (read == 0 && !destination.IsEmpty && input.BytesRead == 0)
        {
            throw new FileErrorException(_key, "not a zstd stream: the file is empty (a .zst file holds at least a zstd frame header)");
        }

        _delivered += read;
        if (_cap > 0 && _delivered > _cap)
        {
            throw new FileErrorException(_key, string.Create(CultureInfo.InvariantCulture, $"decompressed size exceeds the cap of {_cap} bytes (SourceOptions.MaxDecompressedBytes)"));
        }

        if (_maxRatio > 0 && _delivered > SourceOptions.CompressionRatioFloor && _delivered > _maxRatio * Math.Max(1, input.BytesRead))
        {
            throw new FileErrorException(_key, string.Create(
                CultureInfo.InvariantCulture,
                $"decompressed data is over {_maxRatio:0.###} times its compressed size ({_delivered} bytes from {input.BytesRead}): a zstd bomb? (SourceOptions.MaxCompressionRatio)"));
        }

        return read;
    }

    private FileErrorException BrokenZstd(Exception inner) => new(
        _key,
        !StartsAsZstd(_zstdInput!)
            ? "not a zstd stream: it does not start with a zstd frame (bytes 28 b5 2f fd); is it a plain file named .zst?"
            : inner is EndOfStreamException
                ? "broken zstd stream: it ends before its last frame does (cut short)"
                : $"broken zstd stream: {Redactor.RedactText(inner.Message)}",
        inner);

    // A zstd frame's magic number, or a skippable frame's (0x184D2A50 to 0x184D2A5F), little-endian.
    private static bool StartsAsZstd(CountingReadStream input)
    {
        var head = input.Head;
        return head.Length == 4
            && ((head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd)
                || ((head[0] & 0xf0) == 0x50 && head[1] == 0x2a && head[2] == 0x4d && head[3] == 0x18));
    }
}
