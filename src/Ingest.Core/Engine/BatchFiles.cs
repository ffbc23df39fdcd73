using Ingest.Sources;

namespace Ingest.Engine;

/// <summary>The files of a batch, from the sources its request names: each file once, within the cap.</summary>
internal static class BatchFiles
{
    /// <summary>Refuses a batch over <see cref="IngestOptions.MaxFilesPerBatch"/> before anything is read.</summary>
    public static void CheckCount(int count, int maxFiles)
    {
        if (count > maxFiles)
        {
            throw new ArgumentException($"The batch names {count} files; the cap is {maxFiles} (IngestOptions.MaxFilesPerBatch). Split it into several batches.");
        }
    }

    /// <summary>
    /// The batch's files, each key once, and a warning for each source dropped as a repeat: the ledger keys a
    /// file by its URL without the query string, so two URLs differing only there are one file.
    /// </summary>
    public static (List<SourceFile> Files, List<string> Warnings) Distinct(IReadOnlyList<string> sources, int maxFiles)
    {
        if (sources.Count == 0)
        {
            throw new ArgumentException("The batch has no files: give at least one URL or path.");
        }

        CheckCount(sources.Count, maxFiles);

        var files = new List<SourceFile>(sources.Count);
        var first = new Dictionary<string, string>(StringComparer.Ordinal);
        var warnings = new List<string>();
        foreach (var source in sources)
        {
            var file = SourceFile.Parse(source);
            if (first.TryAdd(file.Key, file.Location))
            {
                files.Add(file);
            }
            else
            {
                warnings.Add(first[file.Key] == file.Location
                    ? $"The batch lists {file.Key} more than once: it is loaded once"
                    : $"The batch lists {file.Key} more than once, written differently (a file's key leaves out the query string and user info, and a path is made absolute): it is loaded once, from the first of them. If they are different files, load them in separate batches");
            }
        }

        return (files, warnings);
    }
}
