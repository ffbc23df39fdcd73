namespace Ingest.Cli;

/// <summary>The exit codes of SPEC §5.</summary>
internal static class ExitCodes
{
    /// <summary>The batch finished (dry run: success).</summary>
    public const int Success = 0;

    /// <summary>The batch ended with an error or was aborted (dry run: error).</summary>
    public const int Failed = 1;

    /// <summary>Bad usage or input; the message says what to fix.</summary>
    public const int Usage = 2;
}

/// <summary>Bad usage or input: printed as the message alone, exit code 2.</summary>
internal sealed class UsageException(string message, Exception? inner = null) : Exception(message, inner);
