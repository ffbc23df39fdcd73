using Ingest.Sources;

namespace Ingest.Engine.Loading;

/// <summary>A piece of work a stream has taken: a whole file, a chunk of a big local one, or a group of small local files.</summary>
/// <param name="File">The file to load (the first of a group).</param>
/// <param name="Chunk">The part of it to load; null for the whole file.</param>
internal sealed record Claim(SourceFile File, Chunks.Chunk? Chunk = null)
{
    /// <summary>Invalid rows of the file logged so far, shared by its chunks: the log's cap is per file.</summary>
    public RowErrorCount Logged { get; init; } = new();

    /// <summary>Where a chunk waits for the file's other chunks before it commits (shared by them); null for a whole file.</summary>
    public Chunks.ChunkGate? Gate { get; init; }

    /// <summary>
    /// Whole small files loaded together, in one transaction and one COPY (each with its own ledger row): a file of a few
    /// thousand rows costs more in round trips and a COMMIT than in rows. Null for one file or a chunk.
    /// </summary>
    public IReadOnlyList<SourceFile>? Group { get; init; }

    /// <summary>How log lines and progress name the piece: the file's key, and its chunk when it has one.</summary>
    public string Name => Group is { Count: > 1 } group
        ? $"{group.Count} files from {group[0].Key} to {group[^1].Key}"
        : Chunk is null ? File.Key : $"{File.Key} ({Chunk})";

    /// <summary>Invalid rows logged so far of each file of <see cref="Group"/>, by position: the log's cap is per file.</summary>
    public IReadOnlyList<RowErrorCount>? GroupLogged { get; init; }

    /// <summary>A group of whole small files, each with its own count of invalid rows logged.</summary>
    public static Claim ForGroup(IReadOnlyList<SourceFile> files) =>
        new(files[0]) { Group = files, GroupLogged = [.. files.Select(_ => new RowErrorCount())] };
}

/// <summary>A count of a file's invalid rows written to the log, shared by the chunks that load it at once.</summary>
internal sealed class RowErrorCount
{
    private int _count;

    /// <summary>Takes the next place (1-based) when one of the first <paramref name="max"/> is left; 0 when none is.</summary>
    public int TryTake(int max)
    {
        while (true)
        {
            var taken = Volatile.Read(ref _count);
            if (taken >= max)
            {
                return 0;
            }

            if (Interlocked.CompareExchange(ref _count, taken + 1, taken) == taken)
            {
                return taken + 1;
            }
        }
    }
}

/// <summary>How a piece of work ended.</summary>
internal enum LoadOutcome
{
    /// <summary>Its rows and ledger row committed (for a chunk: the chunk's; see <see cref="LoadResult.FileLoaded"/>).</summary>
    Loaded,

    /// <summary>The ledger already held it when it was claimed (loaded by an earlier run of the batch): not loaded again.</summary>
    AlreadyLoaded,

    /// <summary>The ledger held it because an earlier attempt of this claim committed after all (its answer was lost).</summary>
    CommittedBefore,

    /// <summary>The batch stopped (abort, another file's error, the host stopping) or its claim was lost: rolled back.</summary>
    Stopped,

    /// <summary>The claim was taken by another stream while this one loaded: rolled back.</summary>
    ClaimLost,

    /// <summary>Given up (see <see cref="LoadResult.Failure"/>): rolled back.</summary>
    Failed,
}

/// <summary>The end of a piece of work: its outcome, its counts when it loaded, and why it failed when it did.</summary>
internal readonly record struct LoadResult(LoadOutcome Outcome, long Inserted = 0, long Invalid = 0, Exception? Error = null, LoadFailure Failure = default)
{
    /// <summary>The piece's commit completed its file (always for a whole file; for a chunk, when it was the last).</summary>
    public bool FileLoaded { get; init; }

    /// <summary>The files of a group that are in the ledger now (loaded by this claim or an earlier attempt of it).</summary>
    public int GroupFilesDone { get; init; }

    /// <summary>The work is in the ledger now (loaded by this claim or found there).</summary>
    public bool Done => Outcome is LoadOutcome.Loaded or LoadOutcome.AlreadyLoaded or LoadOutcome.CommittedBefore;
}
