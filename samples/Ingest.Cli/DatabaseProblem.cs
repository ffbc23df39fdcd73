using System.Net.Sockets;
using Npgsql;

namespace Ingest.Cli;

/// <summary>
/// Words a database failure at the CLI's edge: what the server said and what to fix. A login, a database or a privilege
/// the server refuses is the user's to fix (exit 2, as other bad input); a server out of reach may come back (exit 1).
/// </summary>
internal static class DatabaseProblem
{
    public static (string Message, string Hint, int Exit) Describe(Exception exception)
    {
        if (exception is PostgresException { SqlState: var state } refused)
        {
            // MessageText, not Message: the latter adds the server's detail lines (POSITION: 28) that say nothing here.
            var said = $"the database refused: {refused.MessageText}";
            switch (state)
            {
                case PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification:
                    return (said, "Check the user name and password of --connection or INGEST_CONNECTION (a password may also come from PGPASSFILE).", ExitCodes.Usage);
                case PostgresErrorCodes.InvalidCatalogName:
                    return (said, "Create that database (createdb <name>) or name one that exists with Database=<name> in --connection or INGEST_CONNECTION.", ExitCodes.Usage);
                case PostgresErrorCodes.InsufficientPrivilege:
                    return (said, "The user of --connection lacks that privilege. Ingest keeps its ledger and status in schema \"ingest\", made on first use: "
                        + "that needs CREATE on the database once (GRANT CREATE ON DATABASE <db> TO <user>), then USAGE on schema \"ingest\" and SELECT, INSERT, "
                        + "UPDATE and DELETE on its tables ('status' and 'batch' need only USAGE and SELECT). The dataset's table needs USAGE and CREATE on its "
                        + "schema to be made, or INSERT and SELECT on it when it exists.", ExitCodes.Usage);
            }
        }

        // Npgsql's own line names the endpoint ("Failed to connect to 127.0.0.1:1") but not why; the socket's reason does.
        var socket = Innermost<SocketException>(exception);
        var reason = socket is null || exception.Message.Contains(socket.Message, StringComparison.Ordinal) ? exception.Message : $"{exception.Message}: {socket.Message}";
        // A connect timeout (Npgsql's, 15 s by default) comes long before the kernel's own: a TimeoutException, no socket error.
        var cause = socket is null && Innermost<TimeoutException>(exception) is not null ? SocketError.TimedOut : socket?.SocketErrorCode;
        var hint = cause switch
        {
            SocketError.HostNotFound or SocketError.NoData => "The Host of --connection or INGEST_CONNECTION does not resolve: check its spelling (and that DNS or /etc/hosts knows it).",
            SocketError.TryAgain => "Name resolution failed for now (no DNS server answered): check this machine's DNS settings, or try again.",
            SocketError.ConnectionRefused => "Nothing accepts connections at that host and port: start PostgreSQL there, or give the Host and Port it listens on in --connection or INGEST_CONNECTION.",
            SocketError.TimedOut or SocketError.HostUnreachable or SocketError.NetworkUnreachable => "That host did not answer: check the Host and Port of --connection or INGEST_CONNECTION, and that a firewall lets the connection through.",
            _ => "Give a reachable PostgreSQL with --connection or INGEST_CONNECTION.",
        };
        return ($"cannot use the database: {reason}", hint, ExitCodes.Failed);
    }

    private static T? Innermost<T>(Exception? exception)
        where T : Exception
    {
        T? found = null;
        for (; exception is not null; exception = exception.InnerException)
        {
            found = exception as T ?? found;
        }

        return found;
    }
}
