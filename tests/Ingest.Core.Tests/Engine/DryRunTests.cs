using Ingest.Schema;

namespace Ingest.Core.Tests.Engine;

public sealed class DryRunTests
{
    [SkippableFact]
    public async Task A_dry_run_reports_per_file_and_field_and_writes_nothing()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { DryRunRows = 5 });
        var good = f.WriteFile("good.csv", EngineFixture.Rows(50));
        var bad = f.WriteFile("bad.csv", EngineFixture.Row(1) + "3c1243c4-a532-4487-9662-5655a23dec3a,0,200,2,,5,,,\nx,0,1,2,,5,,,\n3c1243c4-a532-4487-9662-5655a23dec3a,0,-200,2,,5,,,\n" + EngineFixture.Rows(10));

        var result = await f.Engine.DryRunAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [good, bad]));

        Assert.Equal("success", result.Status);
        Assert.Equal(
            $"Valid rows: 5\nInvalid rows dropped: 0\n\nErrors:\nnone\nSource: {good}\n\n" +
            "Valid rows: 2\nInvalid rows dropped: 3\n\nErrors:\n" +
            "entityId: lines 3\n  line 3: 'x' is not a UUID\n" +
            $"longitude: lines 2, 4\n  line 2: '200' is out of range -180..180\n  line 4: '-200' is out of range -180..180\nSource: {bad}",
            result.Report);
        Assert.Contains("Reading file", result.Log, StringComparison.Ordinal);
        Assert.Equal(0, await f.ScalarAsync("SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"));
    }

    [Fact]
    public async Task A_row_bad_in_several_fields_is_listed_under_each_and_counted_once()
    {
        var (result, file) = await DryRunOfAsync("m.csv", EngineFixture.Row(1) + "3c1243c4-a532-4487-9662-5655a23dec3a,0,200,100,,5,1.2.3.999,zz,\n");

        Assert.Equal(
            "Valid rows: 1\nInvalid rows dropped: 1\n\nErrors:\n" +
            "longitude: lines 2\n  line 2: '200' is out of range -180..180\n" +
            "latitude: lines 2\n  line 2: '100' is out of range -90..90\n" +
            "plantIPv4: lines 2\n  line 2: '1.2.3.999' is not an IPv4 address (dotted quad such as 192.168.0.1)\n" +
            $"plantCultivar: lines 2\n  line 2: 'zz' is not one of the values 'broccoli', 'brussel sprouts', 'cabbage'\nSource: {file}",
            result.Report);
    }

    [Fact]
    public async Task A_line_break_or_control_character_in_a_value_is_written_out_so_it_cannot_break_or_fake_report_lines()
    {
        var (result, file) = await DryRunOfAsync("c.csv", EngineFixture.Row(1) + "3c1243c4-a532-4487-9662-5655a23dec3a,0,1,2,,5,,\"cab\nValid rows: 99\r\t\u001b\",\n");

        Assert.Equal(
            "Valid rows: 1\nInvalid rows dropped: 1\n\nErrors:\n" +
            "plantCultivar: lines 2\n  line 2: 'cab\\nValid rows: 99\\r\\t\\u001B' is not one of the values 'broccoli', 'brussel sprouts', 'cabbage'\n" +
            $"Source: {file}",
            result.Report);
    }

    /// <summary>A dry run (no database) of one file holding <paramref name="csv"/>, in a folder deleted after; and the file's path.</summary>
    private static async Task<(DryRunResult Result, string File)> DryRunOfAsync(string name, string csv)
    {
        var folder = Directory.CreateTempSubdirectory("ingest-dry-").FullName;
        try
        {
            var file = Path.Combine(folder, name);
            await File.WriteAllTextAsync(file, csv);
            return (await IngestEngine.DryRunAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [file]), null), file);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [SkippableFact]
    public async Task A_schema_error_makes_the_dry_run_status_error()
    {
        await using var f = await EngineFixture.CreateAsync();
        var file = f.WriteFile("a.csv", EngineFixture.Rows(5));
        var format = CsvFormat.Parse("""{"csv": {"entityId": 0, "longitude": 2, "latitude": 3, "plantHeight": 5, "colour": 7}}""");

        var result = await f.Engine.DryRunAsync(new ImportRequest(EngineFixture.Plants(), format, [file]));

        Assert.Equal("error", result.Status);
        Assert.Contains("'colour'", result.Report, StringComparison.Ordinal);
        Assert.Contains("required field 'timestamp'", result.Report, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_table_that_exists_with_other_columns_makes_the_dry_run_status_error_and_is_left_as_it_was()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using (var create = f.DataSource.CreateCommand("CREATE TABLE plants (entity_id uuid not null, timestamp timestamptz not null, longitude double precision not null, latitude double precision not null, altitude double precision, metadata_id uuid, \"plantHeight\" integer not null)"))
        {
            await create.ExecuteNonQueryAsync();
        }

        var file = f.WriteFile("a.csv", EngineFixture.Rows(5));

        var result = await f.Engine.DryRunAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [file]));

        Assert.Equal("error", result.Status);
        Assert.StartsWith("Schema errors:\nTable \"plants\" exists but does not match dataset 'plants': ", result.Report, StringComparison.Ordinal);
        Assert.Contains("column \"plantHeight\" is integer, expected bigint", result.Report, StringComparison.Ordinal);
        Assert.Contains("ERROR Table \"plants\" exists but does not match", result.Log, StringComparison.Ordinal);
        Assert.Equal(7, await f.ScalarAsync("SELECT count(*) FROM information_schema.columns WHERE table_name = 'plants'"));
        Assert.Equal(0, await f.ScalarAsync("SELECT count(*) FROM plants"));
    }

    [SkippableFact]
    public async Task A_matching_table_passes_and_a_database_out_of_reach_leaves_the_files_checked_and_says_so()
    {
        await using var f = await EngineFixture.CreateAsync();
        var file = f.WriteFile("a.csv", EngineFixture.Rows(5));
        await f.ImportAsync([f.WriteFile("seed.csv", EngineFixture.Rows(1))]);
        await using var away = IngestEngine.Create(Infrastructure.ClosedPort.ConnectionString(), EngineFixture.FastOptions);

        var matching = await f.Engine.DryRunAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [file]));
        var filesOnly = await away.DryRunAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, [file]));

        Assert.Equal("success", matching.Status);
        Assert.DoesNotContain("Could not check table", matching.Log, StringComparison.Ordinal);
        Assert.Equal("success", filesOnly.Status);
        Assert.StartsWith("Valid rows: 5\n", filesOnly.Report, StringComparison.Ordinal);
        Assert.Contains("WARN Could not check table \"plants\" in the database (", filesOnly.Log, StringComparison.Ordinal);
        Assert.Contains("only the files were checked", filesOnly.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", filesOnly.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_that_cannot_be_read_makes_the_dry_run_status_error_without_a_database()
    {
        var result = await IngestEngine.DryRunAsync(
            new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, ["/nonexistent/ingest/file.csv"]),
            null);

        Assert.Equal("error", result.Status);
        Assert.StartsWith("Valid rows: 0\nInvalid rows dropped: 0\n\nErrors:\nFile error: ", result.Report, StringComparison.Ordinal);
        Assert.EndsWith("Source: /nonexistent/ingest/file.csv", result.Report, StringComparison.Ordinal);
        Assert.Contains("ERROR", result.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_source_that_names_no_file_is_reported_without_the_codes_parameter_name()
    {
        var result = await IngestEngine.DryRunAsync(new ImportRequest(EngineFixture.Plants(), EngineFixture.PlantsFormat, ["s3://bucket"]), null);

        Assert.Equal("error", result.Status);
        Assert.Contains("File error: ", result.Report, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", result.Report + result.Log, StringComparison.Ordinal);
    }
}
