using System.Text;
using Ingest.Cli;

if (OperatingSystem.IsWindows())
{
    Console.OutputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
}
else
{
    // First of all: a closed standard stream becomes /dev/null before anything can take its number (StandardStreams).
    StandardStreams.ClaimClosed();
    Console.SetOut(StandardStreams.Writer(1));
    Console.SetError(StandardStreams.Writer(2));
}

return await CliApp.RunAsync(args, Console.Out, Console.Error).ConfigureAwait(false);
