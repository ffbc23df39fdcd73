using System.Buffers;

namespace Ingest.Csv;

/// <summary>
/// A pool of fixed 64 KiB blocks for the source pipes (after Kestrel's block pool). The pipe's default
/// pool allocated a fresh array for every 64 KiB segment (seen by the hot-path allocation guard), which
/// is garbage in proportion to the bytes loaded; blocks here are reused, owner objects included.
/// </summary>
internal sealed class BlockMemoryPool : MemoryPool<byte>
{
    public const int BlockSize = 64 * 1024;

    // Enough for every stream's pipe to be full (1 MiB each) at 64 streams; more are dropped to the GC.
    private const int MaxRetained = 1024;

    private readonly Lock _gate = new();
    private readonly Stack<Block> _free = new();

    public static BlockMemoryPool Instance { get; } = new();

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > BlockSize)
        {
            throw new ArgumentOutOfRangeException(nameof(minBufferSize), minBufferSize, $"Blocks are {BlockSize} bytes.");
        }

        lock (_gate)
        {
            if (_free.TryPop(out var block))
            {
                return block;
            }
        }

        return new Block(this);
    }

    protected override void Dispose(bool disposing)
    {
    }

    private void Return(Block block)
    {
        lock (_gate)
        {
            if (_free.Count < MaxRetained)
            {
                _free.Push(block);
            }
        }
    }

    private sealed class Block(BlockMemoryPool pool) : IMemoryOwner<byte>
    {
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(BlockSize);

        public Memory<byte> Memory => _array;

        public void Dispose() => pool.Return(this);
    }
}
