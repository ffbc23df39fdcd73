using System.IO.Compression;
using System.Text;
using Ingest.Core.Tests.Copy;
using Ingest.Schema;
using Ingest.Status;
using Ingest.Testing;
using Npgsql;

namespace Ingest.Core.Tests.Engine;

/// <summary>A fresh database, an engine on it with the PostgreSQL recorder, and a temp folder for files.</summary>
internal sealed class EngineFixture : IAsyncDisposable
{
    private EngineFixture(string connectionString, IngestOptions options)
    {
        ConnectionString = connectionString;
        DataSource = NpgsqlDataSource.Create(connectionString);
        Recorder = new PostgresStatusRecorder(DataSource);
        Engine = new IngestEngine(DataSource, Recorder, options);
        Folder = Directory.CreateTempSubdirectory("ingest-test-").FullName;
    }

    public string ConnectionString { get; }

    public NpgsqlDataSource DataSource { get; }

    public PostgresStatusRecorder Recorder { get; }

    public IngestEngine Engine { get; }

    public string Folder { get; }

    public static DatasetSchema Plants(string name = "plants") => DatasetSchema.Parse(RowEncoderTests.Plants, name);

    public static CsvFormat PlantsFormat => CsvFormat.Parse(RowEncoderTests.PlantsFormat);

    public static IngestOptions FastOptions => new()
    {
        ProgressInterval = TimeSpan.FromMilliseconds(50),
        SnapshotInterval = TimeSpan.FromMilliseconds(200),
        AbortPollInterval = TimeSpan.FromMilliseconds(20),
        Source = new Ingest.Sources.SourceOptions { InitialBackoff = TimeSpan.FromMilliseconds(5), MaxBackoff = TimeSpan.FromMilliseconds(20) },
    };

    public static async Task<EngineFixture> CreateAsync(IngestOptions? options = null) =>
        new(await TestPostgres.CreateDatabaseAsync(), options ?? FastOptions);

    /// <summary>A fixture on a database of the caller's (one on a server the test restarts, say).</summary>
    public static EngineFixture On(string connectionString, IngestOptions? options = null) => new(connectionString, options ?? FastOptions);

    public string WriteFile(string name, string content) => WriteBytes(name, Encoding.UTF8.GetBytes(content));

    public string WriteBytes(string name, byte[] content)
    {
        var path = Path.Combine(Folder, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    public static byte[] Gzip(string content)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(Encoding.UTF8.GetBytes(content));
        }

        return output.ToArray();
    }

    /// <summary>Progress kept as it is reported, on the reporting thread (Progress&lt;T&gt; posts it later, out of order).</summary>
    public sealed class CountRecording(System.Collections.Concurrent.ConcurrentQueue<long> counts) : IProgress<BatchProgress>
    {
        public void Report(BatchProgress value) => counts.Enqueue(value.InsertCount);
    }

    public Task<BatchResult> ImportAsync(IReadOnlyList<string> sources, Guid? batchId = null, DatasetSchema? schema = null, CsvFormat? format = null, CancellationToken cancellationToken = default) =>
        Engine.ImportAsync(new ImportRequest(schema ?? Plants(), format ?? PlantsFormat, sources) { BatchId = batchId }, null, cancellationToken);

    public async Task<long> ScalarAsync(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<List<string>> RowsAsync(string sql)
    {
        var rows = new List<string>();
        await using var command = DataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var values = new string[reader.FieldCount];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = reader.IsDBNull(i) ? "NULL" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)!;
            }

            rows.Add(string.Join("|", values));
        }

        return rows;
    }

    /// <summary>The batch ended <c>finished</c> with <paramref name="rows"/> rows, each in the table once, and one ledger row per file.</summary>
    public async Task AssertFinishedWithEachRowOnceAsync(Guid batchId, long rows, int files)
    {
        var batch = await Recorder.GetBatchAsync(batchId);
        Assert.Equal(BatchStatus.Finished, batch.Status);
        Assert.Equal(rows, batch.InsertCount);
        Assert.Equal(rows, await ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(rows, await ScalarAsync("SELECT count(DISTINCT entity_id) FROM plants"));
        Assert.Equal(files, await ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{batchId}' AND state = 'loaded'"));
    }

    /// <summary>A valid plants row with the given entity and height.</summary>
    public static string Row(int n, string cultivar = "cabbage") =>
        $"{Guid.CreateVersion7()},{1706196472302 + n},{(n % 359) - 179}.5,{(n % 180) - 90},{n},{n},10.0.{n % 256}.1,{cultivar},{-n}\n";

    public static string Rows(int count, int start = 0) => string.Concat(Enumerable.Range(start, count).Select(i => Row(i)));

    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync();
        await Recorder.DisposeAsync();
        await DataSource.DisposeAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
