using System.Diagnostics;
using System.Net.Sockets;
using Ingest.Sources;
using Ingest.Status;
using Npgsql;

namespace Ingest.Engine.Loading;

/// <summary>
/// The one retry policy of a piece of work, the same under <c>ingest import</c> and queue workers: a fault that
/// may pass is tried again up to <see cref="IngestOptions.FileAttempts"/> times with exponential backoff, a
/// database out of reach is ridden out for <see cref="IngestOptions.DatabaseOutageTolerance"/> from its first
/// fault, and anything else is final. The steps around the files (a run's start and end, a worker's start-up and
/// claims) ride out the same faults by the same rule (<see cref="RideOutAsync{T}"/>).
/// </summary>
internal sealed partial class LoadPolicy(IngestOptions options)
{
    /// <summary>Backoff of a file retried after a fault that may pass (and of status calls while the database is away).</summary>
    public static readonly TimeSpan RetryInitial = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest wait between two attempts of a file.</summary>
    public static readonly TimeSpan RetryMax = TimeSpan.FromSeconds(10);

    /// <summary>Retries of a file while the database is out of reach back off to at most this.</summary>
    public static readonly TimeSpan OutageRetryMax = TimeSpan.FromSeconds(2);

    public int FileAttempts => options.FileAttempts;

    public TimeSpan OutageTolerance => options.DatabaseOutageTolerance;

    /// <summary>
    /// What to do after <paramref name="attempt"/> (1-based) of the file failed with <paramref name="exception"/>.
    /// <paramref name="outageSince"/> times an outage from this file's first fault of it, so it is updated on
    /// every call, retried or not.
    /// </summary>
    public LoadDecision Decide(Exception exception, int attempt, string fileKey, ref long? outageSince)
    {
        if (!Retries(exception, attempt, ref outageSince, out var delay, out var outage))
        {
            return LoadDecision.Fail(IsDatabaseUnavailable(exception) ? LoadFailure.DatabaseUnavailable : LoadFailure.File);
        }

        var message = outage
            ? $"The database has been out of reach for {Stopwatch.GetElapsedTime(outageSince!.Value).TotalSeconds:0} s (riding out up to {options.DatabaseOutageTolerance.TotalSeconds:0} s): retrying {fileKey} in {delay.TotalSeconds:0.0} s after: {Describe(exception)}"
            : $"Retrying {fileKey} (attempt {attempt + 1} of {options.FileAttempts}) in {delay.TotalSeconds:0.0} s after: {Describe(exception)}";
        return LoadDecision.Retry(delay, message);
    }

    /// <summary>
    /// The rule itself: whether a step that failed with <paramref name="exception"/> on its <paramref name="attempt"/>
    /// (1-based) is tried again, and after how long. A fault that may pass is, up to <see cref="IngestOptions.FileAttempts"/>
    /// attempts; a database out of reach also past them, until <see cref="IngestOptions.DatabaseOutageTolerance"/> from
    /// its first fault (timed in <paramref name="outageSince"/>, updated on every call); <paramref name="outage"/> says
    /// that the attempts are spent and only the tolerance keeps it going.
    /// </summary>
    public bool Retries(Exception exception, int attempt, ref long? outageSince, out TimeSpan delay, out bool outage)
    {
        // '|': the outage is timed from its first fault, whatever else decides.
        if (!IsTransient(exception) || !(WithinOutage(exception, ref outageSince) | attempt < options.FileAttempts))
        {
            (delay, outage) = (TimeSpan.Zero, false);
            return false;
        }

        outage = outageSince is not null && attempt >= options.FileAttempts;
        delay = Backoff.Delay(RetryInitial, outage ? OutageRetryMax : RetryMax, attempt);
        return true;
    }

    /// <summary>The exception a failure ends the batch (or the file's claim) with, naming the file.</summary>
    public static Exception Final(LoadFailure failure, Exception exception, string fileKey) => failure switch
    {
        LoadFailure.DatabaseUnavailable => new DatabaseUnavailableException($"the database stayed out of reach while loading {fileKey}: {Describe(exception)}", exception),
        _ => exception is FileErrorException ? exception : new FileErrorException(fileKey, Describe(exception), exception),
    };

    /// <summary>
    /// What to fix after <paramref name="fault"/> ended a batch: a fault of the target table (a column or the table gone,
    /// a type changed under the load, a privilege missing: SQLSTATE class 42) is fixed in the database, not in the file.
    /// </summary>
    public static string WhatToFix(Exception fault) => IsTableFault(fault) ? "Fix the dataset's table (or the privileges on it)" : FixTheFile;

    /// <summary>The remedy of a fault of the file itself.</summary>
    public const string FixTheFile = "Fix the file";

    private static bool IsTableFault(Exception exception) => exception switch
    {
        PostgresException pg => pg.SqlState.StartsWith("42", StringComparison.Ordinal),
        { InnerException: { } inner } => IsTableFault(inner),
        _ => false,
    };

    // A fault of the database being out of reach (down, restarting, out of connection slots), as opposed to one of
    // the file or the statement: within the tolerance of the first such fault of this file, the file is tried again.
    private bool WithinOutage(Exception exception, ref long? outageSince)
    {
        if (!IsDatabaseUnavailable(exception))
        {
            return false;
        }

        outageSince ??= Stopwatch.GetTimestamp();
        return Stopwatch.GetElapsedTime(outageSince.Value) < options.DatabaseOutageTolerance;
    }

    public static bool IsDatabaseUnavailable(Exception exception) => exception switch
    {
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState is "57P01" or "57P02" or "57P03" or "53300",
        NpgsqlException npgsql => npgsql.InnerException is IOException or SocketException or TimeoutException || (npgsql.IsTransient && npgsql is not PostgresException),
        FileErrorException { InnerException: { } inner } => IsDatabaseUnavailable(inner),
        _ => false,
    };

    public static bool IsTransient(Exception exception) => exception switch
    {
        FileErrorException fileError => fileError.IsTransient,
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState is "57P01" or "57P02" or "57P03" or "40001" or "40P01" or "53300",
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is IOException or SocketException or TimeoutException,
        IOException or SocketException or TimeoutException => true,
        _ => false,
    };

    /// <summary>An exception in words for a log line or a result, with secrets redacted.</summary>
    public static string Describe(Exception exception) => Redactor.RedactText(exception switch
    {
        FileErrorException fileError => fileError.Message,
        PostgresException pg => $"PostgreSQL error {pg.SqlState}: {pg.MessageText}",
        NpgsqlException npgsql => $"database connection failed: {npgsql.Message}",
        _ => exception.Message,
    });
}

/// <summary>Why a piece of work could not be loaded.</summary>
internal enum LoadFailure
{
    /// <summary>The file (or its source) is at fault: the batch ends <c>error</c> naming it.</summary>
    File,

    /// <summary>The database stayed out of reach past the tolerance: no file is at fault.</summary>
    DatabaseUnavailable,
}

/// <summary>Try again after a delay, saying why; or give up with a kind of failure.</summary>
internal readonly record struct LoadDecision(bool ShouldRetry, TimeSpan Delay, string? Message, LoadFailure Failure)
{
    public static LoadDecision Retry(TimeSpan delay, string message) => new(true, delay, message, default);

    public static LoadDecision Fail(LoadFailure failure) => new(false, TimeSpan.Zero, null, failure);
}
