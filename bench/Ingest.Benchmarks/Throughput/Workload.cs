using Ingest.Benchmarks.Data;
using Ingest.Copy;
using Ingest.Csv;
using Ingest.Schema;

namespace Ingest.Benchmarks.Throughput;

/// <summary>
/// The generated files of one run, in a folder under /tmp that the server's own process (the postgres
/// user) can read: CSV for the engine and psql, and the same rows as binary COPY files for the server's COPY.
/// </summary>
internal sealed class Workload : IDisposable
{
    private const UnixFileMode Readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode Traversable = Readable | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    private Workload(string directory, IReadOnlyList<string> csvFiles, IReadOnlyList<string> binFiles, long rows, long csvBytes, long binBytes)
    {
        Directory = directory;
        CsvFiles = csvFiles;
        BinFiles = binFiles;
        Rows = rows;
        CsvBytes = csvBytes;
        BinBytes = binBytes;
    }

    public string Directory { get; }

    public IReadOnlyList<string> CsvFiles { get; }

    public IReadOnlyList<string> BinFiles { get; }

    public long Rows { get; }

    public long CsvBytes { get; }

    public long BinBytes { get; }

    /// <summary>
    /// Writes <paramref name="rows"/> rows spread over <paramref name="files"/> CSV files, and with
    /// <paramref name="binaryCopy"/> each file's rows as a binary COPY file too (for the server's own COPY).
    /// </summary>
    public static Workload Create(int rows, int files, bool binaryCopy = true)
    {
        var directory = Path.Combine("/tmp", "ingest-bench-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, Traversable);
        }

        var encoder = new RowEncoder(DatasetSchema.Parse(PlantCsv.DatasetDocument), CsvFormat.Parse(PlantCsv.Format));
        var csvFiles = new List<string>();
        var binFiles = new List<string>();
        long csvBytes = 0, binBytes = 0;
        for (var file = 0; file < files; file++)
        {
            // Rows spread evenly; the first files take the remainder.
            var count = (rows / files) + (file < rows % files ? 1 : 0);
            var csv = Path.Combine(directory, $"plants-{file:000}.csv");
            using (var output = new FileStream(csv, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                csvBytes += PlantCsv.Write(output, file, count);
            }

            MakeReadable(csv);
            csvFiles.Add(csv);
            if (binaryCopy)
            {
                var bin = Path.ChangeExtension(csv, ".bin");
                binBytes += WriteBinary(csv, bin, encoder, count);
                MakeReadable(bin);
                binFiles.Add(bin);
            }
        }

        return new Workload(directory, csvFiles, binFiles, rows, csvBytes, binBytes);
    }

    /// <summary>Encodes a CSV file to a binary COPY file with the engine's own encoder: the bytes the engine would send.</summary>
    private static long WriteBinary(string csv, string bin, RowEncoder encoder, int expectedRows)
    {
        using var input = File.OpenRead(csv);
        using var reader = new CsvRecordReader(input, csv, new CsvReadOptions(0, 1024 * 1024), bytesRead: null, CancellationToken.None);
        using var output = new FileStream(bin, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        using var writer = new BinaryCopyWriter(output, encoder.MaxRowBytes);
        var rows = 0;
        while (reader.Read())
        {
            var row = reader.Row;
            var written = encoder.Encode(ref row, writer.GetRowSpan(), out var column, out var kind);
            if (written < 0)
            {
                throw new InvalidOperationException($"Generated row at {csv}:{reader.Line} is invalid ({kind} in column {column}): fix the generator.");
            }

            writer.Advance(written);
            rows++;
        }

        writer.Complete();
        reader.Pump.GetAwaiter().GetResult();
        return rows == expectedRows ? writer.BytesWritten : throw new InvalidOperationException($"{csv}: read {rows} rows, wrote {expectedRows}.");
    }

    private static void MakeReadable(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, Readable);
        }
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
