namespace Ingest.LocalPostgres;

/// <summary>
/// No PostgreSQL server could be had. The message says what was tried and how to provide a server:
/// a connection string in <c>INGEST_TEST_POSTGRES</c> (tests) or <c>INGEST_CONNECTION</c> (sample hosts),
/// a running Docker engine, or PostgreSQL's server binaries (initdb, pg_ctl) installed.
/// </summary>
public sealed class PostgresUnavailableException : Exception
{
    /// <summary>Creates the exception with a generic message.</summary>
    public PostgresUnavailableException()
        : base("No PostgreSQL server is available.")
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    /// <param name="message">What was tried and how to provide a server.</param>
    public PostgresUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/> and the failure behind it.</summary>
    /// <param name="message">What was tried and how to provide a server.</param>
    /// <param name="innerException">The last failure.</param>
    public PostgresUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal static string Compose(string variable, IEnumerable<string> tried) =>
        "No PostgreSQL server could be started. Tried:\n"
        + string.Concat(tried.Select(attempt => $"  - {attempt}\n"))
        + "To provide one, do any of these:\n"
        + $"  - set {variable} to an Npgsql connection string, e.g. Host=127.0.0.1;Port=5432;Username=postgres;Password=...\n"
        + "  - start a Docker engine (Testcontainers then runs postgres:15-alpine)\n"
        + "  - install PostgreSQL's server binaries (Debian/Ubuntu: apt-get install postgresql) so initdb and pg_ctl are on PATH "
        + "or under /usr/lib/postgresql/<version>/bin; when running as root, a 'postgres' user must exist.";
}
