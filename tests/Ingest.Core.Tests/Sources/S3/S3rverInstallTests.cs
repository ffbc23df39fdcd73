using Ingest.Core.Tests.Infrastructure;

namespace Ingest.Core.Tests.Sources.S3;

/// <summary>
/// The S3 harness installs s3rver itself when Node.js and npm are there but s3rver is not. npm is a stand-in here (a
/// shell script that records its arguments and lays out the package as npm would), so the test needs no network.
/// </summary>
public sealed class S3rverInstallTests
{
    [SkippableFact]
    public async Task A_missing_s3rver_is_installed_with_npm_as_ci_installs_it_and_only_once()
    {
        Skip.If(OperatingSystem.IsWindows(), "The stand-in npm is a POSIX shell script.");
        var root = Directory.CreateTempSubdirectory("ingest-s3rver-install-").FullName;
        try
        {
            var calls = Path.Combine(root, "calls.txt");
            var npm = StandInNpm(root, $$"""
                echo "$@" >> '{{calls}}'
                while [ $# -gt 0 ]; do
                  if [ "$1" = --prefix ]; then mkdir -p "$2/node_modules/s3rver" && echo '{"version": "3.7.1"}' > "$2/node_modules/s3rver/package.json"; fi
                  shift
                done
                """);
            var folder = Path.Combine(root, "tests", ".s3rver");

            await S3rverServer.InstallAsync(npm, folder);
            await S3rverServer.InstallAsync(npm, folder);

            Assert.Equal([$"install --no-audit --no-fund --no-package-lock --no-save --loglevel=error --prefix {folder} s3rver@3.7.1"], await File.ReadAllLinesAsync(calls));
            Assert.True(File.Exists(Path.Combine(folder, "node_modules", "s3rver", "package.json")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [SkippableFact]
    public async Task A_failed_install_is_an_unavailable_server_saying_what_npm_said()
    {
        Skip.If(OperatingSystem.IsWindows(), "The stand-in npm is a POSIX shell script.");
        var root = Directory.CreateTempSubdirectory("ingest-s3rver-install-").FullName;
        try
        {
            var npm = StandInNpm(root, """
                echo "npm error code ENOTFOUND: the registry could not be reached" >&2
                exit 1
                """);

            var error = await Assert.ThrowsAsync<S3rverUnavailableException>(() => S3rverServer.InstallAsync(npm, Path.Combine(root, ".s3rver")));

            Assert.Contains("failed (exit 1): npm error code ENOTFOUND: the registry could not be reached", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static string StandInNpm(string folder, string body)
    {
        var npm = Path.Combine(folder, "npm");
        File.WriteAllText(npm, "#!/bin/sh\n" + body.ReplaceLineEndings("\n") + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(npm, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return npm;
    }
}
