using System.Text;
using Ingest.Schema;

namespace Ingest.Hosting.Tests;

/// <summary>The plants dataset of the SPEC, its format, and files of valid rows.</summary>
internal static class Plants
{
    public const string Document = """
        { "name": "plants", "dataDescription": { "metadataSchema": {
            "plantHeight":   { "type": "number", "nullable": false, "signed": false },
            "plantIPv4":     { "type": "ip",     "nullable": true },
            "plantCultivar": { "type": "enum",   "nullable": true, "values": ["broccoli", "brussel sprouts", "cabbage"] } } } }
        """;

    public const string FormatJson = """{"csv": {"entityId": 0, "timestamp": 1, "longitude": 2, "latitude": 3, "plantHeight": 4, "plantIPv4": 5, "plantCultivar": 6}}""";

    public static IngestOptions FastOptions => new()
    {
        ProgressInterval = TimeSpan.FromMilliseconds(50),
        SnapshotInterval = TimeSpan.FromMilliseconds(200),
        AbortPollInterval = TimeSpan.FromMilliseconds(20),
    };

    public static string Rows(int count, int start = 0)
    {
        var text = new StringBuilder();
        for (var n = start; n < start + count; n++)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{Guid.NewGuid()},{1706196472302 + n},{(n % 359) - 179}.5,{(n % 180) - 90},{n},10.0.{n % 256}.1,cabbage\n");
        }

        return text.ToString();
    }

    /// <summary>Writes <paramref name="content"/> to a new temp file and returns its path.</summary>
    public static string File(string content)
    {
        var path = Path.Combine(Path.GetTempPath(), $"ingest-hosting-{Guid.NewGuid():N}.csv");
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    public static ImportRequest Request(params string[] sources) =>
        new(DatasetSchema.Parse(Document), CsvFormat.Parse(FormatJson), sources) { BatchId = Guid.NewGuid() };
}
