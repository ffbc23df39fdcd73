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
    TimeSpan Elapsed)
{
    /// <summary>The files loading right now, one per busy stream.</summary>
    public IReadOnlyList<FileProgress> InFlight { get; init; } = [];
}

/// <summary>A file loading right now.</summary>
/// <param name="FileKey">The file (URL without query string or user info, or local path).</param>
/// <param name="InsertCount">Rows of it copied so far (final once it commits).</param>
/// <param name="InvalidCount">Invalid rows of it so far.</param>
/// <param name="BytesRead">Bytes of it read so far (after decompression).</param>
/// <param name="Elapsed">Time since its stream started it.</param>
public sealed record FileProgress(string FileKey, long InsertCount, long InvalidCount, long BytesRead, TimeSpan Elapsed)
{
    /// <summary>The file's size in bytes when known up front (an uncompressed local file); else null.</summary>
    public long? TotalBytes { get; init; }

    /// <summary>Time left for this file at its rate so far, when its size is known.</summary>
    public TimeSpan? Remaining => TotalBytes is { } total && BytesRead > 0 && total >= BytesRead
        ? TimeSpan.FromSeconds(Elapsed.TotalSeconds / BytesRead * (total - BytesRead))
        : null;
}
