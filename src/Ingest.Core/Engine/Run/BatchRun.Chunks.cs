using Ingest.Engine.Chunks;
using Ingest.Engine.Loading;
using Ingest.Sources;

namespace Ingest.Engine.Run;

internal sealed partial class BatchRun
{
    /// <summary>A file is cut only when it is at least this big: below it, one transaction costs less than the parts' overhead.</summary>
    internal const long MinSplitBytes = 8L * 1024 * 1024;

    /// <summary>A local file is small enough to load in a group with others up to this size (see <see cref="IngestOptions.GroupSmallFiles"/>).</summary>
    internal const long SmallFileBytes = 1024 * 1024;

    /// <summary>
    /// How many chunks a file may be cut into: no more than the streams, and no more than the pool's connections
    /// leave for them beside the run's lease and control sessions, since a file's chunks wait for each other, each on
    /// its own connection, before they commit (<see cref="ChunkGate"/>).
    /// </summary>
    private int MaxChunks => Math.Min(_options.Streams, new Npgsql.NpgsqlConnectionStringBuilder(_dataSource.ConnectionString).MaxPoolSize - 2);

    private bool _wholeForWaitsLogged;

    private const int GroupMaxFiles = 64;
    private const long GroupMaxBytes = 4L * 1024 * 1024;

    /// <summary>
    /// The pieces of work of the files to load: a file larger than its share of the streams (an uncompressed local
    /// file, whose parts can be read on their own) is cut on record boundaries into chunks that load side by side,
    /// each in a transaction of its own with its own ledger row; a file with chunks already loaded (a resume) loads
    /// its missing chunks (<paramref name="partial"/>, from the ledger), cut where they were first cut; any other file is one piece.
    /// </summary>
    /// <exception cref="FileErrorException">A file with chunks loaded earlier can no longer be cut the same way: it changed.</exception>
    private List<Claim> Pieces(IReadOnlyList<SourceFile> files, Dictionary<string, List<Chunk>> partial)
    {
        var sizes = files.ToDictionary(f => f.Key, SplittableSize, StringComparer.Ordinal);
        var share = _options.Streams > 1 ? Math.Max(1, sizes.Values.Sum() / _options.Streams) : long.MaxValue;
        var pieces = new List<Claim>(files.Count);
        foreach (var file in files)
        {
            if (partial.TryGetValue(file.Key, out var done))
            {
                pieces.AddRange(Resumed(file, done));
                continue;
            }

            var size = sizes[file.Key];
            var count = size >= MinSplitBytes && _options.SplitLargeFiles && size > share + (share / 4)
                ? (int)Math.Min(MaxChunks, (size + share - 1) / share)
                : 1;
            if (count > 1 && _layout.RowsMayWait)
            {
                if (!_wholeForWaitsLogged)
                {
                    _wholeForWaitsLogged = true;
                    _log.Info($"Large files load whole, each on one stream: table {_layout.QualifiedName} has a unique or exclusion index, a foreign key or a trigger, through which the chunks of a file could wait on each other before they commit together");
                }

                count = 1;
            }

            if (count > 1 && ChunkPlanner.Plan(file.LocalPath, count) is { } chunks)
            {
                _log.Info($"Splitting {file.Key} ({size / 1048576.0:0} MiB) into {chunks.Count} chunks on record boundaries, loaded side by side and committed together once all have copied");
                var logged = new RowErrorCount();
                var gate = new ChunkGate(chunks.Count);
                pieces.AddRange(chunks.Select(chunk => new Claim(file, chunk) { Logged = logged, Gate = gate }));
            }
            else
            {
                pieces.Add(new Claim(file));
            }
        }

        return _options.GroupSmallFiles ? Grouped(pieces, sizes) : pieces;
    }

    /// <summary>
    /// Runs of small whole local files made into groups that load in one transaction each (<see cref="Claim.Group"/>):
    /// uncompressed ones, whose size says how many rows they hold (a small .gz can hold a hundred times its bytes),
    /// small enough that every stream still gets several pieces; other pieces stay as they are, in order.
    /// </summary>
    private List<Claim> Grouped(List<Claim> pieces, Dictionary<string, long> sizes)
    {
        // A whole file's size on disk when it is small enough to group (sizes: as Pieces read them), else 0.
        long Small(Claim piece) => piece.Chunk is null && sizes[piece.File.Key] is > 0 and <= SmallFileBytes and var size ? size : 0;

        var small = pieces.Count(piece => Small(piece) > 0);
        if (small < 2)
        {
            return pieces;
        }

        var perGroup = (int)Math.Clamp((small + (_options.Streams * 4) - 1) / (_options.Streams * 4), 1, GroupMaxFiles);
        if (perGroup < 2)
        {
            return pieces;
        }

        var grouped = new List<Claim>(pieces.Count);
        var run = new List<SourceFile>();
        long runBytes = 0;
        foreach (var piece in pieces)
        {
            var size = Small(piece);
            if (size == 0)
            {
                Close();
                grouped.Add(piece);
                continue;
            }

            if (run.Count == perGroup || runBytes + size > GroupMaxBytes)
            {
                Close();
            }

            run.Add(piece.File);
            runBytes += size;
        }

        Close();
        return grouped;

        void Close()
        {
            if (run.Count == 1)
            {
                grouped.Add(new Claim(run[0]));
            }
            else if (run.Count > 1)
            {
                grouped.Add(Claim.ForGroup([.. run]));
            }

            run.Clear();
            runBytes = 0;
        }
    }

    // The chunks of a file not loaded yet, cut as the loaded ones were: the same file cuts the same way.
    private IEnumerable<Claim> Resumed(SourceFile file, List<Chunk> done)
    {
        var plan = ChunkPlanner.Plan(file.LocalPath, done[0].Count);
        if (plan is null || plan.Count != done[0].Count || done.Any(d => plan[d.Index] != d))
        {
            throw new FileErrorException(
                file.Key,
                $"the file changed since {done.Count} of its {done[0].Count} chunks were loaded in this batch: it no longer cuts into the same chunks. Load the new file under a new batch id (the batch's table already holds rows of the old one).");
        }

        _log.Info($"Resuming {file.Key}: {done.Count} of its {plan.Count} chunks are loaded; loading the rest");
        var logged = new RowErrorCount();
        var loaded = done.Select(d => d.Index).ToHashSet();
        var missing = plan.Where(chunk => !loaded.Contains(chunk.Index)).ToList();

        // The file is in part already: its missing chunks commit together when this run has a stream for each and the
        // table cannot make them wait on each other, else one by one (the cut was made for the streams of an earlier
        // run; waiting for more chunks than streams, or on each other's rows, would never end).
        var gate = missing.Count <= MaxChunks && !_layout.RowsMayWait ? new ChunkGate(missing.Count) : null;
        return missing.Select(chunk => new Claim(file, chunk) { Logged = logged, Gate = gate });
    }

    // The size of a file that could be cut or grouped (an uncompressed local file), else 0: its length is known and says
    // how much it holds, and any part of it can be read alone.
    private static long SplittableSize(SourceFile file)
    {
        if (file.IsHttp || file.IsS3 || file.Compression != SourceCompression.None)
        {
            return 0;
        }

        try
        {
            return new FileInfo(file.LocalPath).Length;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0; // Its load says what is wrong with it.
        }
    }
}
