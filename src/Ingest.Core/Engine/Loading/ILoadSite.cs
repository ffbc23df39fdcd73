using Ingest.Status;
using Ingest.Validation;
using Npgsql;

namespace Ingest.Engine.Loading;

/// <summary>
/// The batch side of a unit of work: what the unit needs of the batch it loads for, and where each of its steps
/// is recorded. An <c>ingest import</c> run is one site for all its files; a queue worker makes one per claim.
/// </summary>
internal interface ILoadSite
{
    Guid BatchId { get; }

    string Dataset { get; }

    /// <summary>Loads the batch's files (its schema, mapping and CSV settings).</summary>
    FileCopier Copier { get; }

    /// <summary>Whether the site keeps every <see cref="RowError"/> it is given (else they are described only to be logged or handed on).</summary>
    bool KeepsRowErrors { get; }

    /// <summary>Adds a line to the batch's log.</summary>
    void Log(BatchLogLevel level, string message);

    /// <summary>The batch's live counts changed by these deltas (a rollback hands back negative ones).</summary>
    void Progress(long inserted, long invalid);

    /// <summary>Bytes read from a source.</summary>
    void BytesRead(int count);

    /// <summary>An invalid row (rare path).</summary>
    void InvalidRow(RowError error);

    /// <summary>A file started (<paramref name="started"/>) or stopped loading, for a view of the files in flight.</summary>
    void InFlight(FileObserver file, bool started);

    /// <summary>A stream opened a connection for the batch.</summary>
    void Connected(NpgsqlConnection connection);

    /// <summary>
    /// Inside the file's transaction, after its rows and ledger row and before COMMIT: whether it may commit. A
    /// site may write its own end of the claim and the outcome line in the same transaction (the queue does, so
    /// the worker that records <c>finished</c> sees every file's line). A refused commit is rolled back before
    /// anything else is recorded. <paramref name="withRows"/> is false when the ledger already held the file, so
    /// the transaction only settles the claim: that may commit whatever the batch's state.
    /// </summary>
    CommitGate BeforeCommit(NpgsqlConnection connection, NpgsqlTransaction transaction, string outcomeLine, bool withRows);

    /// <summary>After the COMMIT: the outcome line, when <see cref="BeforeCommit"/> did not write it.</summary>
    void Committed(string outcomeLine);
}

/// <summary>What <see cref="ILoadSite.BeforeCommit"/> says of a file's transaction.</summary>
internal enum CommitGate
{
    /// <summary>Commit it.</summary>
    Commit,

    /// <summary>The batch no longer runs (aborted, or ended): roll back.</summary>
    BatchStopped,

    /// <summary>The claim is no longer this stream's (its lease ran out and another took it): roll back.</summary>
    ClaimLost,
}
