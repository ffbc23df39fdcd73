using System.CommandLine;
using System.CommandLine.Help;
using System.Runtime.InteropServices;
using Ingest.Cli.Commands;
using Ingest.Schema;
using Ingest.Status;
using Npgsql;

namespace Ingest.Cli;

/// <summary>The <c>ingest</c> command line (SPEC §5).</summary>
internal static class CliApp
{
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        var io = new CliIO(stdout, stderr);
        var root = new RootCommand("Ingest: load batches of CSV files into PostgreSQL as fast as the server can take them.")
        {
            ImportCommand.Create(io),
            DryRunCommand.Create(io),
            BatchCommands.Status(io),
            BatchCommands.Batch(io),
            BatchCommands.Abort(io),
            DemoCommand.Create(io),
            QueueCommands.Submit(io),
            QueueCommands.Worker(io),
        };

        if (StandardStreams.TerminalColumns() is { } columns)
        {
            // The help's default width reads Console.WindowWidth, which leaves a terminal in keypad-transmit mode.
            foreach (var option in root.Options)
            {
                if (option is HelpOption { Action: HelpAction help })
                {
                    help.MaxWidth = columns;
                }
            }
        }

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await stderr.WriteLineAsync($"ingest: {error.Message}").ConfigureAwait(false);
            }

            await stderr.WriteLineAsync("Run 'ingest --help' or 'ingest <command> --help' for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        // Ctrl+C (SIGINT) and Ctrl+\ (SIGQUIT) through PosixSignalRegistration, not Console.CancelKeyPress: subscribing
        // to that initializes .NET's terminal handling, which leaves a terminal in keypad-transmit mode after exit.
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
        using var onQuit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, Interrupt);

        // SIGTERM (a service manager or 'kill') and SIGHUP (the terminal closed, an ssh connection dropped) stop as
        // gracefully as Ctrl+C: files in flight roll back, and an import leaves its batch to resume. Left to the
        // default, SIGHUP would end the process on the spot (exit 129) with its batch shown 'started' and stale counts.
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
        using var onHangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Interrupt);
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false }, cancel.Token).ConfigureAwait(false);
        }
        catch (Ingest.Sources.S3.SourceListingException ex) when (ex.IsTransient)
        {
            // The store could not be reached: nothing started; running the same command later may work.
            await stderr.WriteLineAsync($"ingest: cannot list {Redactor.RedactText(ex.Message)}").ConfigureAwait(false);
            return ExitCodes.Failed;
        }
        catch (Exception ex) when (ex is UsageException or SchemaException or ArgumentException or BatchNotFoundException or BatchAlreadyRunningException or FileNotFoundException or DirectoryNotFoundException or Ingest.Sources.S3.SourceListingException)
        {
            await stderr.WriteLineAsync($"ingest: {Redactor.RedactText(InFlagTerms(Reason(ex)))}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (Exception ex) when (ex is NpgsqlException or Ingest.LocalPostgres.PostgresUnavailableException)
        {
            var (message, hint, exit) = DatabaseProblem.Describe(ex);
            await stderr.WriteLineAsync($"ingest: {Redactor.RedactText(message)}").ConfigureAwait(false);
            await stderr.WriteLineAsync(hint).ConfigureAwait(false);
            return exit;
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C or SIGTERM: work in flight rolled back; an exit code of the spec, never a crash.
            await stderr.WriteLineAsync("ingest: cancelled").ConfigureAwait(false);
            return ExitCodes.Failed;
        }
        catch (Exception ex)
        {
            await stderr.WriteLineAsync($"ingest: failed: {Redactor.RedactText(ex.Message)}").ConfigureAwait(false);
            return ExitCodes.Failed;
        }

        void Interrupt(PosixSignalContext context)
        {
            context.Cancel = true;
            cancel.Cancel();
        }
    }

    // The engine's option checks name the library's options; a CLI user typed flags.
    private static readonly (string Option, string Flag)[] Flags =
    [
        ("IngestOptions.Streams", "--streams"),
        ("IngestOptions.HeaderLines", "--header-lines"),
        ("IngestOptions.MaxRecordSize", "--max-record-size"),
        ("IngestOptions.DryRunRows", "--rows"),
        ("IngestOptions.YieldCpuToLocalServer", "--yield-cpu"),
        ("IngestOptions.LeaseWait", "--lease-wait"),
        ("WorkerOptions.Streams", "--streams"),
        ("WorkerOptions.Lease", "--lease-seconds"),
    ];

    /// <summary>An exception's message for a user: an <see cref="ArgumentException"/>'s without the " (Parameter 'x')" it appends.</summary>
    internal static string Reason(Exception exception) =>
        exception is ArgumentException { ParamName: { } name } ? exception.Message.Replace($" (Parameter '{name}')", string.Empty, StringComparison.Ordinal) : exception.Message;

    internal static string InFlagTerms(string message)
    {
        foreach (var (option, flag) in Flags)
        {
            message = message.Replace(option, flag, StringComparison.Ordinal);
        }

        return message;
    }
}

/// <summary>Standard output (JSON only, for the commands that print JSON) and standard error (everything else).</summary>
internal sealed record CliIO(TextWriter Out, TextWriter Error);
