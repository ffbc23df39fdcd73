using System.Diagnostics;

namespace Ingest.Core.Tests.Infrastructure;

/// <summary>Installing s3rver where the harness looks for it, when Node.js and npm are there but s3rver is not.</summary>
public sealed partial class S3rverServer
{
    /// <summary>The package installed: the version <c>.ci/run</c> installs.</summary>
    public const string Package = "s3rver@3.7.1";

    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The folder holding <c>node_modules/s3rver</c>: where it is found, else where it was just installed with npm
    /// (<see cref="InstallFolderVariable"/>'s folder if set, else <see cref="InstallFolder"/> of the repository).
    /// </summary>
    /// <exception cref="S3rverUnavailableException">It is not installed and cannot be: no npm, no repository, or npm failed.</exception>
    private static async Task<string> FindOrInstallModuleAsync(CancellationToken cancellationToken)
    {
        if (FindModule() is { } found)
        {
            return found;
        }

        var manual = $"run 'npm install --no-audit --no-fund --no-package-lock --no-save --prefix {InstallFolder} {Package}' at the repository root (as .ci/run does), or set {InstallFolderVariable}";
        var npm = FindOnPath("npm") ?? throw new S3rverUnavailableException($"s3rver is not installed and npm is not on PATH to install it: {manual}.");
        var folder = InstallTarget() ?? throw new S3rverUnavailableException($"s3rver is not installed and no repository folder was found to install it in: {manual}.");
        await InstallAsync(npm, folder, cancellationToken);
        return folder;
    }

    /// <summary>
    /// Installs s3rver into <paramref name="folder"/> with <paramref name="npm"/>, as <c>.ci/run</c> does (exact version,
    /// no lock file, nothing saved), unless it is there already. Test processes that start together take turns on a
    /// lock file beside the folder, so one installs and the others find its result.
    /// </summary>
    /// <exception cref="S3rverUnavailableException">npm failed or did not install it; the message holds what npm said.</exception>
    public static async Task InstallAsync(string npm, string folder, CancellationToken cancellationToken = default)
    {
        folder = Path.GetFullPath(folder);
        Directory.CreateDirectory(folder);
        using var gate = await LockAsync(Path.Combine(folder, ".install.lock"), cancellationToken);
        if (HasModule(folder))
        {
            return;
        }

        var start = new ProcessStartInfo(npm)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["install", "--no-audit", "--no-fund", "--no-package-lock", "--no-save", "--loglevel=error", "--prefix", folder, Package])
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new S3rverUnavailableException("npm did not start.");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(InstallTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new S3rverUnavailableException($"'npm install {Package}' did not finish within {InstallTimeout.TotalMinutes:0} minutes.");
        }

        var said = $"{await output}\n{await error}".Trim();
        if (process.ExitCode != 0 || !HasModule(folder))
        {
            throw new S3rverUnavailableException($"'npm install {Package}' into {folder} failed (exit {process.ExitCode}): {said[Math.Max(0, said.Length - 2000)..]}");
        }
    }

    // Where to install: the folder the variable names, else the repository's tests/.s3rver.
    private static string? InstallTarget()
    {
        if (Environment.GetEnvironmentVariable(InstallFolderVariable) is { Length: > 0 } given)
        {
            return Path.GetFullPath(given);
        }

        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Ingest.sln")))
            {
                return Path.Combine(folder.FullName, InstallFolder);
            }
        }

        return null;
    }

    // An exclusive lock on a file, taken by one process at a time (waits while another holds it).
    private static async Task<FileStream> LockAsync(string path, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(InstallTimeout);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (!timeout.IsCancellationRequested)
            {
                await Task.Delay(200, timeout.Token);
            }
        }
    }
}
