namespace Ingest.LocalPostgres;

/// <summary>Hands folders to the postgres user when this process is root, so initdb and the server can use them.</summary>
internal static class FileOwnership
{
    public static async Task GiveToPostgresAsync(string path, CancellationToken cancellationToken)
    {
        if (!ProcessRunner.RunAsPostgresUser)
        {
            return;
        }

        var result = await ProcessRunner.RunAsync(
            ProcessRunner.FindSystemTool("chown"), [$"{ProcessRunner.PostgresUser}:", path], workingDirectory: null, TimeSpan.FromSeconds(30), cancellationToken)
            .ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(
                $"This process is root, so PostgreSQL must run as the '{ProcessRunner.PostgresUser}' user, but chown of {path} failed "
                + $"(exit code {result.ExitCode}): {result.Output}. Create that user (install the postgresql package) or run as a non-root user.");
        }
    }
}
