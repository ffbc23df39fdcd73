namespace Ingest.Engine.Loading;

/// <summary>
/// Test seams for faults that cannot be provoked from outside at an exact moment (after the runtime's pipes and
/// the network, which tests break for real). The engine hands its hooks to every unit and worker it builds;
/// production engines keep <see cref="None"/>, and no production path reads a static.
/// </summary>
internal sealed class LoadHooks
{
    /// <summary>No hooks: what every engine has unless a test gives it others.</summary>
    public static readonly LoadHooks None = new();

    /// <summary>Runs when a piece has copied its rows, before its ledger row and COMMIT, with its name (the file's key, and its chunk when it has one): a test holds a commit here.</summary>
    public Action<string>? BeforeCommit { get; init; }

    /// <summary>Runs when every chunk of a file has copied, before this chunk's ledger row and COMMIT, with its name: a test fails a chunk here as a crash between the chunks' commits would.</summary>
    public Action<string>? ChunksCopied { get; init; }

    /// <summary>Runs right after a file's COMMIT succeeded, with its key; throwing here is a COMMIT whose answer was lost.</summary>
    public Action<string>? AfterCommit { get; init; }

    /// <summary>Runs when a queue worker has read a batch under its lock and is about to record a status for it.</summary>
    public Action<Guid>? AfterBatchRead { get; init; }
}
