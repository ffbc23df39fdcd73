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
internal sealed partial class FileLoad(ILoadSite site, Claim claim, LoadPolicy policy, LoadHooks hooks, IngestOptions options)
{
    /// <summary>What this unit's files have shown in the batch's live counts, across its attempts.</summary>
    internal ShownCounts Shown { get; } = new(site);

    /// <summary>Loads the claim on <paramref name="stream"/>'s connection, retrying in place, until it ends one way or another.</summary>
    public LoadResult Run(LoadStream stream, CancellationToken token)
    {
        var result = RunAttempts(stream, token);
        if (result.Outcome is not (LoadOutcome.Loaded or LoadOutcome.CommittedBefore or LoadOutcome.AlreadyLoaded))
        {
            // Rolled back for good: the rows its attempts showed never reached the dataset.
            Shown.TakeBackAll();
        }

        return result;
    }

    private LoadResult RunAttempts(LoadStream stream, CancellationToken token)
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
                    // A group refused for a reason no file error names (the server's, say a constraint): its files are
                    // loaded one by one, so the one at fault is named and the others load as they would have alone.
                    if (claim.Group is { } group && decision.Failure == LoadFailure.File && ex is not FileErrorException)
                    {
                        Shown.TakeBackAll();
                        return OneByOne(group, stream, LoadPolicy.Describe(ex), token);
                    }

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
            ? FileLedger.TryClaim(connection, transaction, site.BatchId, [file.Key]).Count == 1
            : FileLedger.TryClaimChunk(connection, transaction, site.BatchId, file.Key, chunk);
        if (!fresh)
        {
            var line = retried
                ? $"{claim.Name} was committed before the connection was lost; not loading it again"
                : $"{claim.Name} is already loaded in this batch; skipped";
            if (retried && chunk is null)
            {
                RepublishCommitted(connection, transaction, [file.Key]);
            }

            var found = Commit(connection, transaction, line, withRows: false);
            return found != LoadOutcome.Loaded ? new LoadResult(found) : new LoadResult(retried ? LoadOutcome.CommittedBefore : LoadOutcome.AlreadyLoaded);
        }

        var what = file.IsHttp || file.IsS3 ? "Fetching url" : "Reading file";
        site.Log(BatchLogLevel.Info, chunk is null ? $"{what} {file.Key}" : $"{what} {claim.Name}: bytes {chunk.Start} to {chunk.End}, from line {chunk.FirstLine}");
        var tracked = new TrackedFile(site, this, claim.Name, file.Key, claim.Logged);
        var tag = IngestTelemetry.Dataset(site.Dataset);
        IngestTelemetry.ActiveStreams.Add(1, tag);
        var loaded = false;
        var failure = "not loaded";
        try
        {
            var (inserted, invalid) = site.Copier.Copy(connection, file, chunk, tracked.Observer, token);
            hooks.BeforeCommit?.Invoke(claim.Name);
            token.ThrowIfCancellationRequested(); // Stopped (an abort, another file's error) while it copied: it rolls back.
            if (chunk is not null && claim.Gate is { } gate)
            {
                // The file's chunks commit only once all of them have copied: stopped before that, every one rolls back.
                gate.Wait(chunk.Index, token);
                hooks.ChunksCopied?.Invoke(claim.Name);
            }

            var fileLoaded = chunk is null || FileLedger.MarkChunkLoaded(connection, transaction, site.BatchId, file.Key, chunk, inserted, invalid);
            if (chunk is null)
            {
                FileLedger.MarkLoaded(connection, transaction, site.BatchId, [file.Key], [inserted], [invalid]);
            }

            var outcome = Commit(connection, transaction, $"Loaded {claim.Name}: {inserted} rows inserted, {invalid} invalid", withRows: true);
            if (outcome != LoadOutcome.Loaded)
            {
                return new LoadResult(outcome);
            }

            loaded = true;
            tracked.Committed(inserted, invalid);
            return new LoadResult(LoadOutcome.Loaded, inserted, invalid) { FileLoaded = fileLoaded };
        }
        catch (Exception ex)
        {
            failure = LoadPolicy.Describe(ex);
            throw;
        }
        finally
        {
            tracked.End(loaded, failure);
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
