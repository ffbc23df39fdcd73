using System.IO.Compression;
using System.Security.Cryptography;

namespace Ingest.Sources;

/// <summary>
/// Detects a truncated gzip stream, which <see cref="GZipStream"/> ends silently as if it were whole.
/// After the raw bytes we feed one more gzip member holding a random marker. A whole stream decodes
/// it as a next member, so the output ends with the marker; a cut one swallows the member's bytes as
/// the rest of its own data, which fails or yields bytes that do not end with the marker. The marker
/// is random per process, so a file cannot forge it.
/// </summary>
internal static class GzipEndMarker
{
    public const int Length = 16;

    public static ReadOnlyMemory<byte> Marker { get; } = RandomNumberGenerator.GetBytes(Length);

    private static readonly byte[] Member = Compress(Marker.Span);

    /// <summary>The raw stream, then the marker member.</summary>
    public static Appended Append(Stream raw) => new(raw);

    private static byte[] Compress(ReadOnlySpan<byte> payload)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(payload);
        }

        return buffer.ToArray();
    }

    /// <summary>The raw stream followed by the marker member; counts the raw (compressed) bytes read.</summary>
    internal sealed class Appended(Stream raw) : ReadOnlyStream
    {
        private int _memberOffset = -1;

        private readonly byte[] _head = new byte[2];

        /// <summary>Compressed bytes read from the raw stream so far (the marker not counted).</summary>
        public long RawBytesRead { get; private set; }

        /// <summary>
        /// False when the raw stream is known not to start with the gzip magic bytes <c>1f 8b</c> (a plain file
        /// named <c>.gz</c>, an empty one); null while that cannot be told yet.
        /// </summary>
        public bool? StartsAsGzip => RawBytesRead switch
        {
            0 => _memberOffset >= 0 ? false : null,
            1 => _head[0] == 0x1f ? null : false,
            _ => _head[0] == 0x1f && _head[1] == 0x8b,
        };

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_memberOffset < 0)
            {
                var read = await raw.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                for (var i = 0; RawBytesRead + i < _head.Length && i < read; i++)
                {
                    _head[RawBytesRead + i] = buffer.Span[i];
                }

                RawBytesRead += read;
                if (read > 0 || buffer.IsEmpty)
                {
                    return read;
                }

                _memberOffset = 0;
            }

            var count = Math.Min(buffer.Length, Member.Length - _memberOffset);
            Member.AsSpan(_memberOffset, count).CopyTo(buffer.Span);
            _memberOffset += count;
            return count;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                raw.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await raw.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }
}
