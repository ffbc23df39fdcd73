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

        return ($"cannot use the database: {exception.Message}", "Give a reachable PostgreSQL with --connection or INGEST_CONNECTION.", ExitCodes.Failed);
    }
}
