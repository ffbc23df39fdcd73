using System.Globalization;

namespace Ingest.LocalPostgres;

/// <summary>Finds the folder holding initdb and pg_ctl.</summary>
internal static class PostgresBinaries
{
    /// <summary>
    /// The folder of <c>initdb</c>: the first one on PATH, else the highest version under
    /// <c>/usr/lib/postgresql/*/bin</c> (Debian, Ubuntu) or <c>/usr/pgsql-*/bin</c> (RHEL), else null.
    /// </summary>
    public static string? FindBinDirectory()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (HasTools(directory))
            {
                return directory;
            }
        }

        return HighestVersion("/usr/lib/postgresql", "*", static name => name)
            ?? HighestVersion("/usr", "pgsql-*", static name => name["pgsql-".Length..]);
    }

    /// <summary>Where this library looks, for error messages.</summary>
    public const string SearchedPlaces = "PATH, /usr/lib/postgresql/*/bin, /usr/pgsql-*/bin";

    private static string? HighestVersion(string parent, string pattern, Func<string, string> version)
    {
        if (!Directory.Exists(parent))
        {
            return null;
        }

        string? best = null;
        var bestVersion = -1.0;
        foreach (var candidate in Directory.EnumerateDirectories(parent, pattern))
        {
            var bin = Path.Combine(candidate, "bin");
            if (HasTools(bin)
                && double.TryParse(version(Path.GetFileName(candidate)), NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
                && number > bestVersion)
            {
                best = bin;
                bestVersion = number;
            }
        }

        return best;
    }

    private static bool HasTools(string directory) =>
        File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "pg_ctl"));
}
