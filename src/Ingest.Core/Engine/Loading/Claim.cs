using Ingest.Sources;

namespace Ingest.Engine.Loading;

/// <summary>A piece of work a stream has taken: today a whole file.</summary>
/// <param name="File">The file to load.</param>
internal sealed record Claim(SourceFile File);

/// <summary>How a piece of work ended.</summary>
internal enum LoadOutcome
{
    /// <summary>Its rows and ledger row committed.</summary>
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
    /// <summary>The work is in the ledger now (loaded by this claim or found there).</summary>
    public bool Done => Outcome is LoadOutcome.Loaded or LoadOutcome.AlreadyLoaded or LoadOutcome.CommittedBefore;
}
