using System.Diagnostics;
using Ingest.Csv;
using Ingest.Diagnostics;
using Ingest.Status;
using Ingest.Validation;
using Npgsql;

namespace Ingest.Engine.Loading;

/// <summary>
/// The one unit that loads a piece of work, whoever claimed it (an <c>ingest import</c> run or a queue worker):
/// each attempt claims the file in the ledger, opens its source, copies its valid rows, writes its ledger row and
/// commits, all in one transaction; a fault is classified by the <see cref="LoadPolicy"/> and tried again on a
/// fresh connection, where a COMMIT whose answer was lost is settled by the ledger, never by loading again.
/// </summary>
internal sealed class FileLoad(ILoadSite site, Claim claim, LoadPolicy policy, LoadHooks hooks, IngestOptions options)
{
    /// <summary>Loads the claim on <paramref name="stream"/>'s connection, retrying in place, until it ends one way or another.</summary>
    public LoadResult Run(LoadStream stream, CancellationToken token)
    {
        var key = claim.Name;

        long? outageSince = null;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return Attempt(stream.Open(site), retried: attempt > 1, token);
            }
            catch (Exception) when (token.IsCancellationRequested)
            {
                stream.DropIfBroken();
                return new LoadResult(LoadOutcome.Stopped);
            }
            catch (Exception ex)
            {
                stream.DropIfBroken();
                var decision = policy.Decide(ex, attempt, key, ref outageSince);
                if (!decision.ShouldRetry)
                {
                    return new LoadResult(LoadOutcome.Failed, Error: LoadPolicy.Final(decision.Failure, ex, key), Failure: decision.Failure);
                }

                // The next attempt claims the file in the ledger again: a COMMIT that happened though its answer
                // was lost shows up there as the file's row, so the file is never loaded twice.
                IngestTelemetry.Retry(site.Dataset, "file");
                site.Log(BatchLogLevel.Warn, decision.Message!);
                if (token.WaitHandle.WaitOne(decision.Delay))
                {
                    return new LoadResult(LoadOutcome.Stopped);
                }
            }
        }
    }

    private LoadResult Attempt(NpgsqlConnection connection, bool retried, CancellationToken token)
    {
        if (claim.Group is { } group)
        {
            return AttemptGroup(connection, group, retried, token);
        }

        var file = claim.File;
        var chunk = claim.Chunk;
        using var transaction = connection.BeginTransaction();
        var fresh = chunk is null
            ? FileLedger.TryClaim(connection, transaction, site.BatchId, file.Key)
            : FileLedger.TryClaimChunk(connection, transaction, site.BatchId, file.Key, chunk);
        if (!fresh)
        {
            var line = retried
                ? $"{claim.Name} was committed before the connection was lost; not loading it again"
                : $"{claim.Name} is already loaded in this batch; skipped";
            var found = Commit(connection, transaction, line, withRows: false);
            return found != LoadOutcome.Loaded ? new LoadResult(found) : new LoadResult(retried ? LoadOutcome.CommittedBefore : LoadOutcome.AlreadyLoaded);
        }

        var what = file.IsHttp || file.IsS3 ? "Fetching url" : "Reading file";
        site.Log(BatchLogLevel.Info, chunk is null ? $"{what} {file.Key}" : $"{what} {claim.Name}: bytes {chunk.Start} to {chunk.End}, from line {chunk.FirstLine}");
        var observer = new FileObserver(site, claim.Name, this, claim.Logged);
        var tag = IngestTelemetry.Dataset(site.Dataset);
        var started = Stopwatch.GetTimestamp();
        var span = IngestTelemetry.StartFile(file.Key, site.Dataset);
        site.InFlight(observer, started: true);
        IngestTelemetry.ActiveStreams.Add(1, tag);
        var loaded = false;
        var failure = "not loaded";
        try
        {
            var (inserted, invalid) = site.Copier.Copy(connection, file, chunk, observer, token);
            hooks.BeforeCommit?.Invoke(claim.Name);
            token.ThrowIfCancellationRequested(); // Stopped (an abort, another file's error) while it copied: it rolls back.
            var fileLoaded = chunk is null || FileLedger.MarkChunkLoaded(connection, transaction, site.BatchId, file.Key, chunk, inserted, invalid);
            if (chunk is null)
            {
                FileLedger.MarkLoaded(connection, transaction, site.BatchId, file.Key, inserted, invalid);
            }

            var outcome = Commit(connection, transaction, $"Loaded {claim.Name}: {inserted} rows inserted, {invalid} invalid", withRows: true);
            if (outcome != LoadOutcome.Loaded)
            {
                return new LoadResult(outcome);
            }

            loaded = true;
            observer.Progress(inserted, invalid);
            IngestTelemetry.RowsInserted.Add(inserted, tag);
            IngestTelemetry.RowsInvalid.Add(invalid, tag);
            return new LoadResult(LoadOutcome.Loaded, inserted, invalid) { FileLoaded = fileLoaded };
        }
        catch (Exception ex)
        {
            failure = LoadPolicy.Describe(ex);
            throw;
        }
        finally
        {
            if (!loaded)
            {
                observer.TakeBack(); // The piece's rows never commit: take back the live counts it published.
            }

            site.InFlight(observer, started: false);
            IngestTelemetry.ActiveStreams.Add(-1, tag);
            IngestTelemetry.FileLoaded(site.Dataset, Stopwatch.GetElapsedTime(started), loaded);
            IngestTelemetry.End(span, loaded ? "loaded" : failure, failed: !loaded);
        }
    }

    /// <summary>
    /// One attempt of a group of whole small files: one transaction, one claim statement, one COPY of every file's rows
    /// one file after another, one ledger statement, one COMMIT; each file keeps its own ledger row, log lines, counts
    /// and span. Any file's error rolls back the whole group, which is what a file error does to the files in flight.
    /// </summary>
    private LoadResult AttemptGroup(NpgsqlConnection connection, IReadOnlyList<Sources.SourceFile> group, bool retried, CancellationToken token)
    {
        using var transaction = connection.BeginTransaction();
        var fresh = FileLedger.TryClaimMany(connection, transaction, site.BatchId, [.. group.Select(f => f.Key)]);
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
        if (files.Count == 0)
        {
            var found = Commit(connection, transaction, lines, withRows: false);
            return found != LoadOutcome.Loaded
                ? new LoadResult(found)
                : new LoadResult(retried ? LoadOutcome.CommittedBefore : LoadOutcome.AlreadyLoaded) { GroupFilesDone = before };
        }

        var observers = new FileObserver[files.Count];
        var spans = new System.Diagnostics.Activity?[files.Count];
        var counts = new (long Inserted, long Invalid)[files.Count];
        var startedAt = new long[files.Count + 1];
        var tag = IngestTelemetry.Dataset(site.Dataset);
        var current = -1;
        IngestTelemetry.ActiveStreams.Add(1, tag);
        var loaded = false;
        var failure = "not loaded";
        try
        {
            site.Copier.CopyGroup(connection, files, observers, counts, i =>
            {
                if (current >= 0)
                {
                    site.InFlight(observers[current], started: false);
                }

                current = i;
                startedAt[i] = Stopwatch.GetTimestamp();
                site.Log(BatchLogLevel.Info, $"Reading file {files[i].Key}");
                observers[i] = new FileObserver(site, files[i].Key, this, logged[i]);
                spans[i] = IngestTelemetry.StartFile(files[i].Key, site.Dataset);
                site.InFlight(observers[i], started: true);
            }, token);
            startedAt[files.Count] = Stopwatch.GetTimestamp();
            hooks.BeforeCommit?.Invoke(claim.Name);
            token.ThrowIfCancellationRequested(); // Stopped while it copied: it rolls back.
            FileLedger.MarkLoadedMany(connection, transaction, site.BatchId, [.. files.Select(f => f.Key)], [.. counts.Select(c => c.Inserted)], [.. counts.Select(c => c.Invalid)]);
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
                observers[i].Progress(counts[i].Inserted, counts[i].Invalid);
                IngestTelemetry.RowsInserted.Add(counts[i].Inserted, tag);
                IngestTelemetry.RowsInvalid.Add(counts[i].Invalid, tag);
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
            for (var i = 0; i < files.Count && observers[i] is { } observer; i++)
            {
                if (!loaded)
                {
                    observer.TakeBack(); // The group's rows never commit: take back the live counts it published.
                }

                // Each file's copy time: from its start to the next one's (the last one's to the end of the COPY, or now).
                IngestTelemetry.FileLoaded(site.Dataset, Stopwatch.GetElapsedTime(startedAt[i], startedAt[i + 1] > 0 ? startedAt[i + 1] : Stopwatch.GetTimestamp()), loaded);
                IngestTelemetry.End(spans[i], loaded ? "loaded" : failure, failed: !loaded);
            }

            if (current >= 0)
            {
                site.InFlight(observers[current], started: false);
            }

            IngestTelemetry.ActiveStreams.Add(-1, tag);
        }
    }

    /// <summary>Asks the site, then commits; <see cref="LoadOutcome.Loaded"/> when the transaction committed.</summary>
    private LoadOutcome Commit(NpgsqlConnection connection, NpgsqlTransaction transaction, string outcomeLine, bool withRows) =>
        Commit(connection, transaction, [outcomeLine], withRows);

    /// <summary>As above, for a piece whose commit ends several lines (a group of files: one COMMIT, then each file's line).</summary>
    private LoadOutcome Commit(NpgsqlConnection connection, NpgsqlTransaction transaction, List<string> lines, bool withRows)
    {
        switch (site.BeforeCommit(connection, transaction, lines[0], withRows))
        {
            case CommitGate.BatchStopped:
                transaction.Rollback();
                return LoadOutcome.Stopped;
            case CommitGate.ClaimLost:
                transaction.Rollback();
                return LoadOutcome.ClaimLost;
        }

        transaction.Commit();
        foreach (var file in claim.Group ?? [claim.File])
        {
            hooks.AfterCommit?.Invoke(file.Key);
        }

        foreach (var line in lines)
        {
            site.Committed(line);
        }

        return LoadOutcome.Loaded;
    }

    /// <summary>An invalid row: handed to the host and the site, and the first few of each file (across attempts) to the log.</summary>
    internal void OnInvalidRow(RowErrorCount logged, Sources.SourceFile file, long line, int column, RowErrorKind kind, ref CsvRow row)
    {
        var nth = logged.TryTake(options.MaxRowErrorsLogged);
        var toLog = nth > 0;
        if (!toLog && options.OnInvalidRow is null && !site.KeepsRowErrors)
        {
            return;
        }

        var error = site.Copier.Describe(file, line, column, kind, ref row);
        options.OnInvalidRow?.Invoke(site.BatchId, error);
        site.InvalidRow(error);
        if (toLog)
        {
            foreach (var message in InvalidRowLog.Lines(error, nth, options.MaxRowErrorsLogged))
            {
                site.Log(BatchLogLevel.Warn, message);
            }
        }
    }
}
