using Ingest.Status;

namespace Ingest;

/// <summary>A snapshot of a running batch, reported while it runs.</summary>
/// <param name="BatchId">The batch.</param>
/// <param name="Status">Its status.</param>
/// <param name="FilesTotal">Files in the batch.</param>
/// <param name="FilesDone">Files loaded (in this run or an earlier one of the same batch).</param>
/// <param name="InsertCount">Rows inserted so far (rows of files in flight included; they are final once their file commits).</param>
/// <param name="InvalidCount">Invalid rows skipped so far.</param>
/// <param name="BytesRead">Bytes read from the sources in this run (after decompression).</param>
/// <param name="Elapsed">Time since this run started.</param>
public sealed record BatchProgress(
    Guid BatchId,
    BatchStatus Status,
    int FilesTotal,
    int FilesDone,
    long InsertCount,
    long InvalidCount,
    long BytesRead,
    TimeSpan Elapsed);
