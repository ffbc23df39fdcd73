using System.Diagnostics;
using System.Net.Sockets;
using Ingest.Csv;
using Ingest.Diagnostics;
using Ingest.Sources;
using Ingest.Validation;
using Npgsql;

namespace Ingest.Engine;

internal sealed partial class BatchRun
{
    private enum FileOutcome
    {
        Loaded,
        AlreadyLoaded,
    }

    /// <summary>One stream: a connection that loads files from the queue until it is empty or the batch stops.</summary>
    private void WorkerLoop()
    {
        NpgsqlConnection? connection = null;
        var token = _stop.Token;
        SourceFile? current = null;
        try
        {
            while (!token.IsCancellationRequested && _queue.TryDequeue(out var file))
            {
                current = file;
                var retried = false;
                long? outageSince = null;
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        connection ??= Connect();
                        var outcome = LoadFile(connection, file, retried, token);
                        if (outcome == FileOutcome.Loaded || (outcome == FileOutcome.AlreadyLoaded && retried))
                        {
                            Interlocked.Increment(ref _filesDone);
                        }

                        break;
                    }
                    catch (Exception ex) when (!token.IsCancellationRequested && IsTransient(ex)
                        && (WithinOutage(ex, ref outageSince) | attempt < _options.FileAttempts)) // '|': always time the outage
                    {
                        // The next attempt claims the file again: a COMMIT lost with its connection that did
                        // happen shows up there as an existing ledger row, so the file is never loaded twice.
                        connection = DropIfBroken(connection);
                        IngestTelemetry.Retry(_request.Dataset.Name, "file");
                        var outage = outageSince is not null && attempt >= _options.FileAttempts;
                        var delay = Backoff.Delay(FileRetryInitial, outage ? OutageRetryMax : FileRetryMax, attempt);
                        _log.Warn(outage
                            ? $"The database has been out of reach for {Stopwatch.GetElapsedTime(outageSince!.Value).TotalSeconds:0} s (riding out up to {_options.DatabaseOutageTolerance.TotalSeconds:0} s): retrying {file.Key} in {delay.TotalSeconds:0.0} s after: {Describe(ex)}"
                            : $"Retrying {file.Key} (attempt {attempt + 1} of {_options.FileAttempts}) in {delay.TotalSeconds:0.0} s after: {Describe(ex)}");
                        token.WaitHandle.WaitOne(delay);
                        token.ThrowIfCancellationRequested();
                        retried = true;
                    }
                }
            }
        }
        catch (Exception ex) when (token.IsCancellationRequested)
        {
            // The batch is stopping (abort or another stream's file error): this file rolled back.
            _ = ex;
        }
        catch (Exception ex) when (IsDatabaseUnavailable(ex))
        {
            // Not the file's fault: the batch ends error saying so, and resuming it is the remedy.
            Fail(new DatabaseUnavailableException($"the database stayed out of reach{(current is null ? string.Empty : $" while loading {current.Key}")}: {Describe(ex)}", ex));
        }
        catch (Exception ex)
        {
            Fail(ex is FileErrorException || current is null ? ex : new FileErrorException(current.Key, Describe(ex), ex));
        }
        finally
        {
            connection?.Dispose();
        }
    }

    private NpgsqlConnection Connect()
    {
        var connection = _dataSource.OpenConnection();
        if (Interlocked.Exchange(ref _connectedLogged, 1) == 0)
        {
            _log.Info($"Connected to database '{connection.Database}' at {connection.Host} with user '{connection.UserName}'");
        }

        return connection;
    }

    private FileOutcome LoadFile(NpgsqlConnection connection, SourceFile file, bool retried, CancellationToken token)
    {
        using var transaction = connection.BeginTransaction();
        if (!FileLedger.TryClaim(connection, transaction, _batchId, file.Key))
        {
            _log.Info(retried
                ? $"{file.Key} was committed before the connection was lost; not loading it again"
                : $"{file.Key} is already loaded in this batch; skipped");
            return FileOutcome.AlreadyLoaded;
        }

        _log.Info(file.IsHttp ? $"Fetching url {file.Key}" : $"Reading file {file.Key}");
        var observer = new FileObserver(this, file.Key);
        _inFlight[file.Key] = observer;
        var dataset = _request.Dataset.Name;
        var tag = IngestTelemetry.Dataset(dataset);
        var started = Stopwatch.GetTimestamp();
        var span = IngestTelemetry.StartFile(file.Key, dataset);
        IngestTelemetry.ActiveStreams.Add(1, tag);
        try
        {
            var (inserted, invalid) = _copier.Copy(connection, file, observer, token);
            FileLedger.MarkLoaded(connection, transaction, _batchId, file.Key, inserted, invalid);
            transaction.Commit();
            FaultInjection.AfterCommit?.Invoke(file.Key);
            observer.Progress(inserted, invalid);
            IngestTelemetry.RowsInserted.Add(inserted, tag);
            IngestTelemetry.RowsInvalid.Add(invalid, tag);
            IngestTelemetry.FileLoaded(dataset, Stopwatch.GetElapsedTime(started), loaded: true);
            IngestTelemetry.End(span, "loaded", failed: false);
            _log.Info($"Loaded {file.Key}: {inserted} rows inserted, {invalid} invalid");
            return FileOutcome.Loaded;
        }
        catch (Exception ex)
        {
            // The file's rows never commit: take back the live counts it published.
            observer.Progress(0, 0);
            IngestTelemetry.FileLoaded(dataset, Stopwatch.GetElapsedTime(started), loaded: false);
            IngestTelemetry.End(span, Describe(ex), failed: true);
            throw;
        }
        finally
        {
            _inFlight.TryRemove(file.Key, out _);
            IngestTelemetry.ActiveStreams.Add(-1, tag);
        }
    }

    private void OnInvalidRow(SourceFile file, long line, int column, RowErrorKind kind, ref CsvRow row)
    {
        var error = _copier.Describe(file, line, column, kind, ref row);
        _options.OnInvalidRow?.Invoke(_batchId, error);
        int logged;
        lock (_gate)
        {
            if (_rowErrors.Count < _options.MaxRowErrorsKept)
            {
                _rowErrors.Add(error);
            }

            // Per file, so an invalid row of every file reaches the log, not only those of the first files.
            _rowErrorsLogged.TryGetValue(file.Key, out logged);
            if (logged < _options.MaxRowErrorsLogged)
            {
                _rowErrorsLogged[file.Key] = ++logged;
            }
            else
            {
                logged = 0;
            }
        }

        if (logged > 0)
        {
            foreach (var message in InvalidRowLog.Lines(error, logged, _options.MaxRowErrorsLogged))
            {
                _log.Warn(message);
            }
        }
    }

    /// <summary>Publishes one file's counts into the batch's live totals as deltas, so a rollback can take them back.</summary>
    private sealed class FileObserver(BatchRun run, string fileKey) : ICopyObserver
    {
        private readonly long _started = Stopwatch.GetTimestamp();
        private long _inserted;
        private long _invalid;
        private long _bytes;

        private long? _total;

        public FileProgress Snapshot() =>
            new(fileKey, Volatile.Read(ref _inserted), Volatile.Read(ref _invalid), Interlocked.Read(ref _bytes), Stopwatch.GetElapsedTime(_started)) { TotalBytes = _total };

        public void Opened(long? totalBytes) => _total = totalBytes;

        public void Progress(long inserted, long invalid)
        {
            Interlocked.Add(ref run._inserted, inserted - _inserted);
            Interlocked.Add(ref run._invalid, invalid - _invalid);
            Volatile.Write(ref _inserted, inserted);
            Volatile.Write(ref _invalid, invalid);
        }

        public void Invalid(SourceFile file, long line, int column, RowErrorKind kind, ref CsvRow row) => run.OnInvalidRow(file, line, column, kind, ref row);

        public void BytesRead(int count)
        {
            Interlocked.Add(ref _bytes, count);
            Interlocked.Add(ref run._bytes, count);
            IngestTelemetry.BytesFetched.Add(count, IngestTelemetry.Dataset(run._request.Dataset.Name));
        }
    }

    private static NpgsqlConnection? DropIfBroken(NpgsqlConnection? connection)
    {
        if (connection is null || connection.FullState == System.Data.ConnectionState.Open)
        {
            return connection;
        }

        connection.Dispose();
        return null;
    }

    /// <summary>Retries of a file while the database is out of reach back off to at most this.</summary>
    internal static readonly TimeSpan OutageRetryMax = TimeSpan.FromSeconds(2);

    // A fault of the database being out of reach (down, restarting, out of connection slots), as opposed to one of
    // the file or the statement: within DatabaseOutageTolerance of the first such fault of this file, the file is
    // tried again (the caller evaluates this for every fault, so the outage is timed from its start).
    private bool WithinOutage(Exception exception, ref long? outageSince)
    {
        if (!IsDatabaseUnavailable(exception))
        {
            return false;
        }

        outageSince ??= Stopwatch.GetTimestamp();
        return Stopwatch.GetElapsedTime(outageSince.Value) < _options.DatabaseOutageTolerance;
    }

    internal static bool IsDatabaseUnavailable(Exception exception) => exception switch
    {
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState is "57P01" or "57P02" or "57P03" or "53300",
        NpgsqlException npgsql => npgsql.InnerException is IOException or SocketException or TimeoutException || (npgsql.IsTransient && npgsql is not PostgresException),
        FileErrorException { InnerException: { } inner } => IsDatabaseUnavailable(inner),
        _ => false,
    };

    internal static bool IsTransient(Exception exception) => exception switch
    {
        FileErrorException fileError => fileError.IsTransient,
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState is "57P01" or "57P02" or "57P03" or "40001" or "40P01" or "53300",
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is IOException or SocketException or TimeoutException,
        IOException or SocketException or TimeoutException => true,
        _ => false,
    };
}
