using System.Diagnostics;
using System.Globalization;

namespace Ingest.LocalPostgres;

internal sealed partial class LocalCluster
{
    private const string ThrowawayPrefix = "ingest-pg-";
    private const string OwnerFile = "ingest-owner.pid";

    /// <summary>Settings for data nobody keeps: speed over durability, room for parallel tests.</summary>
    private static readonly string[] ThrowawaySettings =
    [
        "fsync = off",
        "synchronous_commit = off",
        "full_page_writes = off",
        "max_connections = 200",
    ];

    /// <summary>
    /// Makes a cluster in a new folder under /tmp, starts it on a free port and returns it;
    /// on failure nothing is left behind.
    /// </summary>
    public static async Task<LocalCluster> StartThrowawayAsync(string binDirectory, CancellationToken cancellationToken)
    {
        // As root the folder must be one the postgres user can reach: never under root's home (TMPDIR may point there).
        var parent = ProcessRunner.RunAsPostgresUser ? "/tmp" : Path.GetTempPath();
        await SweepOrphansAsync(binDirectory, parent, cancellationToken).ConfigureAwait(false);

        var root = Path.Combine(parent, ThrowawayPrefix + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        var cluster = new LocalCluster(binDirectory, root);
        try
        {
            await File.WriteAllTextAsync(
                Path.Combine(root, OwnerFile), Environment.ProcessId.ToString(CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
            OrphanWatchdog.Watch(root);
            await FileOwnership.GiveToPostgresAsync(root, cancellationToken).ConfigureAwait(false);
            await cluster.InitializeAsync(durable: false, cancellationToken).ConfigureAwait(false);

            // The free port can be taken by another process before the server binds it: try a few.
            for (var attempt = 1; ; attempt++)
            {
                await cluster.WriteSettingsAsync(FreePort.Any(), ThrowawaySettings, cancellationToken).ConfigureAwait(false);
                try
                {
                    await cluster.StartAsync(cancellationToken).ConfigureAwait(false);
                    return cluster;
                }
                catch (InvalidOperationException) when (attempt < 3 && !FreePort.IsFree(cluster.Port))
                {
                }
            }
        }
        catch
        {
            await cluster.DestroyAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops the server at once and deletes the folder; best effort, never throws.</summary>
    public async Task DestroyAsync(CancellationToken cancellationToken)
    {
        try
        {
            await StopAsync(immediate: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or IOException)
        {
            // Deleting the folder still frees the disk; a server left running dies with its data folder gone.
        }

        try
        {
            if (Directory.Exists(RootDirectory))
            {
                Directory.Delete(RootDirectory, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>
    /// Removes throwaway clusters whose owning process is gone (a test host that was killed
    /// never ran its exit handler), so crashed runs do not pile up servers and folders.
    /// </summary>
    private static async Task SweepOrphansAsync(string binDirectory, string parent, CancellationToken cancellationToken)
    {
        string[] candidates;
        try
        {
            candidates = Directory.GetDirectories(parent, ThrowawayPrefix + "*");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return;
        }

        foreach (var root in candidates)
        {
            if (IsOrphan(root))
            {
                await new LocalCluster(binDirectory, root).DestroyAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static bool IsOrphan(string root)
    {
        try
        {
            var ownerFile = Path.Combine(root, OwnerFile);
            if (!File.Exists(ownerFile) || !int.TryParse(File.ReadAllText(ownerFile).Trim(), out var pid))
            {
                // Without an owner file it may be being created right now: leave it.
                return false;
            }

            using var owner = Process.GetProcessById(pid);
            return owner.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return false;
        }
    }
}
