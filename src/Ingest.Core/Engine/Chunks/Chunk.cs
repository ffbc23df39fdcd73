namespace Ingest.Engine.Chunks;

/// <summary>
/// A part of a local file that loads in a transaction of its own: bytes <see cref="Start"/> up to (not including)
/// <see cref="End"/>, cut where a record starts, its first record on line <see cref="FirstLine"/> of the file.
/// </summary>
/// <param name="Index">0-based, in file order.</param>
/// <param name="Count">The file's number of chunks.</param>
/// <param name="Start">The first byte (0 for the first chunk).</param>
/// <param name="End">The byte after the last (the file's length for the last chunk).</param>
/// <param name="FirstLine">The 1-based line of the file the chunk starts on, so errors name the file's own lines.</param>
internal sealed record Chunk(int Index, int Count, long Start, long End, long FirstLine)
{
    /// <summary>How log lines and progress name the chunk: <c>chunk 2 of 3</c>.</summary>
    public override string ToString() => $"chunk {Index + 1} of {Count}";
}
