using System.Diagnostics;
using Ingest.Diagnostics;
using Ingest.Status;
using Npgsql;

namespace Ingest.Engine.Loading;

/// <summary>A group of small whole files (<see cref="Claim.Group"/>) as one piece of work.</summary>
internal sealed partial class FileLoad
{
    /// <summary>
    /// One attempt of a group of whole small files: one transaction, one claim statement, one COPY of every file's rows
    /// one file after another, one ledger statement, one COMMIT; each file keeps its own ledger row, log lines, counts
    /// and span. Any file's error rolls back the whole group, which is what a file error does to the files in flight.
    /// </summary>
    private LoadResult AttemptGroup(NpgsqlConnection connection, IReadOnlyList<Sources.SourceFile> group, bool retried, CancellationToken token)
    {
        using var transaction = connection.BeginTransaction();
        var fresh = FileLedger.TryClaim(connection, transaction, site.BatchId, [.. group.Select(f => f.Key)]);
        var lines = new List<string>(group.Count);
        var files = new List<Sources.SourceFile>(fresh.Count);
        var logged = new List<RowErrorCount>(fresh.Count);
        for (var i = 0; i < group.Count; i++)
        {
            if (fresh.Contains(group[i].Key))
            {
                files.Add(group[i]);
                logged.Add(claim.GroupLogged![i]);
            }
            else
            {
                lines.Add(retried
                    ? $"{group[i].Key} was committed before the connection was lost; not loading it again"
                    : $"{group[i].Key} is already loaded in this batch; skipped");
            }
        }

        var before = retried ? group.Count - files.Count : 0;
        if (before > 0)
        {
            RepublishCommitted(connection, transaction, [.. group.Where(f => !fresh.Contains(f.Key)).Select(f => f.Key)]);
        }

        if (files.Count == 0)
        {
            var found = Commit(connection, transaction, lines, withRows: false);
            return found != LoadOutcome.Loaded
                ? new LoadResult(found)
                : new LoadResult(retried ? LoadOutcome.CommittedBefore : LoadOutcome.AlreadyLoaded) { GroupFilesDone = before };
        }

        var tracked = new TrackedFile[files.Count];
        var counts = new (long Inserted, long Invalid)[files.Count];
        var tag = IngestTelemetry.Dataset(site.Dataset);
        var parent = Activity.Current;
        IngestTelemetry.ActiveStreams.Add(1, tag);
        long? copiedUntil = null;
        var loaded = false;
        var failure = "not loaded";
        try
        {
            site.Copier.CopyGroup(connection, files, i =>
            {
                if (i > 0)
                {
                    tracked[i - 1].Copied();
                }

                site.Log(BatchLogLevel.Info, $"Reading file {files[i].Key}");
                tracked[i] = new TrackedFile(site, this, files[i].Key, files[i].Key, logged[i]);
                Activity.Current = parent; // Each file's span a child of the batch's, as a lone file's is.
                return tracked[i].Observer;
            }, counts, token);
            copiedUntil = Stopwatch.GetTimestamp();
            hooks.BeforeCommit?.Invoke(claim.Name);
            token.ThrowIfCancellationRequested(); // Stopped while it copied: it rolls back.
            FileLedger.MarkLoaded(connection, transaction, site.BatchId, [.. files.Select(f => f.Key)], [.. counts.Select(c => c.Inserted)], [.. counts.Select(c => c.Invalid)]);
            for (var i = 0; i < files.Count; i++)
            {
                lines.Add($"Loaded {files[i].Key}: {counts[i].Inserted} rows inserted, {counts[i].Invalid} invalid");
            }

            var outcome = Commit(connection, transaction, lines, withRows: true);
            if (outcome != LoadOutcome.Loaded)
            {
                return new LoadResult(outcome);
            }

            loaded = true;
            for (var i = 0; i < files.Count; i++)
            {
                tracked[i].Committed(counts[i].Inserted, counts[i].Invalid);
            }

            return new LoadResult(LoadOutcome.Loaded, counts.Sum(c => c.Inserted), counts.Sum(c => c.Invalid)) { FileLoaded = true, GroupFilesDone = before + files.Count };
        }
        catch (Exception ex)
        {
            failure = LoadPolicy.Describe(ex);
            throw;
        }
        finally
        {
            // Each file's copy time runs from its start to the next one's start (the last one's to the end of the COPY).
            for (var i = 0; i < files.Count && tracked[i] is { } file; i++)
            {
                file.End(loaded, failure, i + 1 < files.Count && tracked[i + 1] is { } next ? next.Started : copiedUntil);
            }

            IngestTelemetry.ActiveStreams.Add(-1, tag);
        }
    }

    /// <summary>
    /// The files of a group the database refused as a whole, each loaded alone in turn as a lone file is; the first that
    /// fails ends the piece, named by its own key. Called after the group's transaction rolled back.
    /// </summary>
    private LoadResult OneByOne(IReadOnlyList<Sources.SourceFile> group, LoadStream stream, string reason, CancellationToken token)
    {
        site.Log(BatchLogLevel.Warn, $"Loading the {group.Count} files from {group[0].Key} to {group[^1].Key} one by one, to tell which of them the database refuses: {reason}");
        long inserted = 0, invalid = 0;
        var done = 0;
        for (var i = 0; i < group.Count; i++)
        {
            var result = new FileLoad(site, new Claim(group[i]) { Logged = claim.GroupLogged![i] }, policy, hooks, options).Run(stream, token);
            switch (result.Outcome)
            {
                case LoadOutcome.Loaded or LoadOutcome.CommittedBefore:
                    (inserted, invalid, done) = (inserted + result.Inserted, invalid + result.Invalid, done + 1);
                    break;
                case LoadOutcome.AlreadyLoaded:
                    break;
                default:
                    return result with { GroupFilesDone = done };
            }
        }

        return new LoadResult(LoadOutcome.Loaded, inserted, invalid) { FileLoaded = true, GroupFilesDone = done };
    }

    /// <summary>
    /// The counts of files whose COMMIT happened though its answer was lost: the failed attempt showed what it had read
    /// when the connection broke, so the live totals are settled to the ledger's counts of those files.
    /// </summary>
    private void RepublishCommitted(NpgsqlConnection connection, NpgsqlTransaction transaction, string[] fileKeys)
    {
        var (inserted, invalid) = FileLedger.CountsOf(connection, transaction, site.BatchId, fileKeys);
        Shown.Settle(fileKeys, inserted, invalid);
    }
}
