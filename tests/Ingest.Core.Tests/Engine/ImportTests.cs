using Ingest.Schema;
using Ingest.Status;
using Ingest.Validation;

namespace Ingest.Core.Tests.Engine;

public sealed class ImportTests
{
    private const string Id1 = "3c1243c4-a532-4487-9662-5655a23dec3a";

    [SkippableFact]
    public async Task Valid_rows_land_in_a_table_of_the_spec_layout_and_the_timeline_ends_finished()
    {
        await using var f = await EngineFixture.CreateAsync();
        var file = f.WriteFile("a.csv", $"{Id1},1706196472302,4.35,50.85,12.5,42,10.0.0.1,brussel sprouts,-7\n{Id1},2024-01-25T15:27:53Z,4.36,50.86,,0,,,\n");

        var result = await f.ImportAsync([file]);

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(2, result.InsertCount);
        Assert.Equal(0, result.InvalidCount);
        var rows = await f.RowsAsync("""SELECT entity_id, extract(epoch from "timestamp")*1000, longitude, latitude, altitude, metadata_id, "plantHeight", "plantIPv4", "plantCultivar", delta FROM plants ORDER BY "timestamp" """);
        Assert.Equal($"{Id1}|1706196472302.000000|4.35|50.85|12.5|NULL|42|10.0.0.1|brussel sprouts|-7", rows[0]);
        Assert.Equal($"{Id1}|1706196473000.000000|4.36|50.86|NULL|NULL|0|NULL|NULL|NULL", rows[1]);
        var columns = await f.RowsAsync("SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = 'plants' ORDER BY ordinal_position");
        Assert.Equal(
            [
                "entity_id|uuid|NO", "timestamp|timestamp with time zone|NO", "longitude|double precision|NO", "latitude|double precision|NO",
                "altitude|double precision|YES", "metadata_id|uuid|YES", "plantHeight|bigint|NO", "plantIPv4|inet|YES", "plantCultivar|text|YES", "delta|integer|YES",
            ],
            columns);

        var timeline = await f.Recorder.GetTimelineAsync(result.BatchId);
        Assert.Equal(BatchStatus.Finished, timeline[0].Status);
        Assert.Equal(BatchStatus.Created, timeline[^1].Status);
        Assert.Null(timeline[^1].Log);
        Assert.Equal(2, timeline[0].InsertCount);
        var log = timeline[0].Log!;
        Assert.Contains("INFO Starting batch job", log, StringComparison.Ordinal);
        Assert.Contains("INFO Using 3 parallel streams", log, StringComparison.Ordinal);
        Assert.Contains("INFO Starting import", log, StringComparison.Ordinal);
        Assert.Contains("INFO Connected to database '", log, StringComparison.Ordinal);
        Assert.Contains("INFO Finished batch job. Inserted: 2, Invalid: 0", log, StringComparison.Ordinal);
        Assert.All(log.Split('\n'), line => Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|WARN|ERROR) .+$", line));
    }

    [SkippableFact]
    public async Task Each_row_error_is_skipped_counted_and_reported_with_file_line_field_and_reason()
    {
        await using var f = await EngineFixture.CreateAsync();
        var lines = new[]
        {
            EngineFixture.Row(1).TrimEnd(),
            $"{Id1},0,1,2",                                          // 2: mapped column beyond the row
            $"nope,0,1,2,,5,,,",                                     // 3: not a uuid
            $"{Id1},,1,2,,5,,,",                                     // 4: required NULL
            $"{Id1},0,181,2,,5,,,",                                  // 5: longitude out of range
            $"{Id1},0,1,-91,,5,,,",                                  // 6: latitude out of range
            $"{Id1},0,1,2,,4294967296,,,",                           // 7: unsigned number out of range
            $"{Id1},0,1,2,,5,1.2.3,,",                               // 8: bad IPv4
            $"{Id1},0,1,2,,5,,kale,",                                // 9: not in enum
            $"{Id1},0,1,2,,,,,",                                     // 10: NULL in non-nullable filter field
            $"{Id1},0,1,2,,5,,,2147483648",                          // 11: signed number out of range
            $"{Id1},later,1,2,,5,,,",                                // 12: timestamp does not parse
            EngineFixture.Row(2).TrimEnd(),
        };
        var file = f.WriteFile("errors.csv", string.Join("\n", lines) + "\n");

        var result = await f.ImportAsync([file]);

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(2, result.InsertCount);
        Assert.Equal(11, result.InvalidCount);
        Assert.Equal(2, await f.ScalarAsync("SELECT count(*) FROM plants"));
        var expected = new (long Line, string Field, RowErrorKind Kind)[]
        {
            (2, "altitude", RowErrorKind.MissingColumn), (3, "entityId", RowErrorKind.NotParsable), (4, "timestamp", RowErrorKind.NullNotAllowed),
            (5, "longitude", RowErrorKind.OutOfRange), (6, "latitude", RowErrorKind.OutOfRange), (7, "plantHeight", RowErrorKind.OutOfRange),
            (8, "plantIPv4", RowErrorKind.BadIPv4), (9, "plantCultivar", RowErrorKind.NotInEnum), (10, "plantHeight", RowErrorKind.NullNotAllowed),
            (11, "delta", RowErrorKind.OutOfRange), (12, "timestamp", RowErrorKind.NotParsable),
        };
        Assert.Equal(expected, result.RowErrors.Select(e => (e.Line, e.Field, e.Kind)).ToArray());
        Assert.All(result.RowErrors, e => Assert.Equal(file, e.FileKey));
        Assert.Contains("'kale' is not one of the values 'broccoli', 'brussel sprouts', 'cabbage'", result.RowErrors[7].Reason, StringComparison.Ordinal);
        var log = (await f.Recorder.GetBatchAsync(result.BatchId)).Log!;
        Assert.Contains($"WARN Invalid row skipped: {file} line 5, field longitude: '181' is out of range -180..180", log, StringComparison.Ordinal);
        Assert.Contains("Finished batch job. Inserted: 2, Invalid: 11", log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Csv_rules_quotes_newlines_crlf_bom_empty_null_header_lines_and_unmapped_columns()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { HeaderLines = 1 });
        var schema = DatasetSchema.Parse("""{"dataDescription": {"metadataSchema": {"label": {"type": "enum", "nullable": true, "values": ["a,b", "say \"hi\"", "two\nlines", "plain"]}}}}""", "rules");
        var format = CsvFormat.Parse("""{"csv": {"entityId": 1, "timestamp": 2, "longitude": 3, "latitude": 4, "label": 6}}""");
        var content = "\uFEFFskip,entity,time,lon,lat,ignored,label\r\n" +
            $"x,{Id1},0,1,2,ignored,\"a,b\"\r\n" +
            $"x,{Id1},1,1,2,\"ig,nored\",\"say \"\"hi\"\"\"\n" +
            $"x,{Id1},2,1,2,,\"two\nlines\"\r\n" +
            $"x,{Id1},3,1,2,,plain\n" +
            $"x,{Id1},4,1,2,,\n" +
            "\n" +
            $"x,{Id1},5,1,2,,plain";
        var file = f.WriteFile("rules.csv", content);

        var result = await f.ImportAsync([file], schema: schema, format: format);

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(0, result.InvalidCount);
        var labels = await f.RowsAsync("""SELECT coalesce(label, 'NULL') FROM rules ORDER BY "timestamp" """);
        Assert.Equal(["a,b", "say \"hi\"", "two\nlines", "plain", "NULL", "plain"], labels);
    }

    [SkippableFact]
    public async Task Line_numbers_count_quoted_newlines_and_header_lines()
    {
        await using var f = await EngineFixture.CreateAsync(EngineFixture.FastOptions with { HeaderLines = 1 });
        var schema = DatasetSchema.Parse("""{"dataDescription": {"metadataSchema": {"label": {"type": "enum", "nullable": true, "values": ["x\ny"]}}}}""", "lines");
        var format = CsvFormat.Parse("""{"csv": {"entityId": 0, "timestamp": 1, "longitude": 2, "latitude": 3, "label": 4}}""");
        var file = f.WriteFile("lines.csv", $"header\n{Id1},0,1,2,\"x\ny\"\n{Id1},0,1,2,\"x\ny\"\n{Id1},0,999,2,\n");

        var result = await f.ImportAsync([file], schema: schema, format: format);

        Assert.Equal(6, Assert.Single(result.RowErrors).Line);
    }

    [SkippableFact]
    public async Task Gzip_files_are_decompressed_on_the_fly()
    {
        await using var f = await EngineFixture.CreateAsync();
        var file = f.WriteBytes("a.csv.gz", EngineFixture.Gzip(EngineFixture.Rows(1000)));

        var result = await f.ImportAsync([file]);

        Assert.Equal(BatchStatus.Finished, result.Status);
        Assert.Equal(1000, await f.ScalarAsync("SELECT count(*) FROM plants"));
    }

    [SkippableFact]
    public async Task Schema_errors_are_reported_before_any_data_moves()
    {
        await using var f = await EngineFixture.CreateAsync();
        var file = f.WriteFile("a.csv", EngineFixture.Rows(5));
        var unknown = CsvFormat.Parse("""{"csv": {"entityId": 0, "timestamp": 1, "longitude": 2, "latitude": 3, "plantHeight": 5, "colour": 9}}""");
        var missing = CsvFormat.Parse("""{"csv": {"entityId": 0, "longitude": 2, "latitude": 3, "plantHeight": 5}}""");
        var nonNullable = CsvFormat.Parse("""{"csv": {"entityId": 0, "timestamp": 1, "longitude": 2, "latitude": 3}}""");

        var e1 = await Assert.ThrowsAsync<SchemaException>(() => f.ImportAsync([file], format: unknown));
        var e2 = await Assert.ThrowsAsync<SchemaException>(() => f.ImportAsync([file], format: missing));
        var e3 = await Assert.ThrowsAsync<SchemaException>(() => f.ImportAsync([file], format: nonNullable));

        Assert.Contains("'colour'", e1.Message, StringComparison.Ordinal);
        Assert.Contains("required field 'timestamp'", e2.Message, StringComparison.Ordinal);
        Assert.Contains("'plantHeight'", e3.Message, StringComparison.Ordinal);
        Assert.Equal(0, await f.ScalarAsync("SELECT count(*) FROM pg_tables WHERE tablename = 'plants'"));
    }

    [SkippableFact]
    public async Task An_existing_table_with_other_columns_is_a_clear_error_before_any_data_moves()
    {
        await using var f = await EngineFixture.CreateAsync();
        await f.ScalarAsync("""CREATE TABLE plants (entity_id uuid NOT NULL, "timestamp" timestamptz NOT NULL, longitude real, latitude double precision NOT NULL); SELECT 0""");
        var file = f.WriteFile("a.csv", EngineFixture.Rows(5));

        var error = await Assert.ThrowsAsync<SchemaException>(() => f.ImportAsync([file]));

        Assert.Contains("\"longitude\" is real, expected double precision", error.Message, StringComparison.Ordinal);
        Assert.Contains("\"plantHeight\" is missing", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await f.ScalarAsync("SELECT count(*) FROM plants"));
    }

    [SkippableFact]
    public async Task Names_from_input_are_quoted_so_a_hostile_dataset_name_is_just_a_table_name()
    {
        await using var f = await EngineFixture.CreateAsync();
        const string Hostile = "x\"; drop table victim; --";
        await f.ScalarAsync("CREATE TABLE victim (id int); SELECT 0");
        var file = f.WriteFile("a.csv", EngineFixture.Rows(3));

        var result = await f.ImportAsync([file], schema: EngineFixture.Plants(Hostile));

        Assert.Equal(3, result.InsertCount);
        Assert.Equal(3, await f.ScalarAsync("SELECT count(*) FROM \"x\"\"; drop table victim; --\""));
        Assert.Equal(1, await f.ScalarAsync("SELECT count(*) FROM pg_tables WHERE tablename = 'victim'"));
    }

    [SkippableFact]
    public async Task One_and_three_streams_give_the_same_table()
    {
        await using var f = await EngineFixture.CreateAsync();
        var files = Enumerable.Range(0, 6).Select(i => f.WriteFile($"f{i}.csv", EngineFixture.Rows(700, i * 1000))).ToArray();

        var one = await f.Engine.ImportAsync(new ImportRequest(EngineFixture.Plants("one"), EngineFixture.PlantsFormat, files));
        await using var three = new IngestEngine(f.DataSource, f.Recorder, EngineFixture.FastOptions with { Streams = 3 });
        var threeResult = await three.ImportAsync(new ImportRequest(EngineFixture.Plants("three"), EngineFixture.PlantsFormat, files));
        await using var single = new IngestEngine(f.DataSource, f.Recorder, EngineFixture.FastOptions with { Streams = 1 });
        var singleResult = await single.ImportAsync(new ImportRequest(EngineFixture.Plants("single"), EngineFixture.PlantsFormat, files));

        Assert.Equal(4200, threeResult.InsertCount);
        Assert.Equal(4200, singleResult.InsertCount);
        Assert.Equal(one.InsertCount, threeResult.InsertCount);
        Assert.Equal(0, await f.ScalarAsync("SELECT count(*) FROM (SELECT * FROM three EXCEPT ALL SELECT * FROM single) d"));
        Assert.Equal(0, await f.ScalarAsync("SELECT count(*) FROM (SELECT * FROM single EXCEPT ALL SELECT * FROM three) d"));
    }

    [SkippableFact]
    public async Task Running_a_batch_again_loads_each_file_exactly_once()
    {
        await using var f = await EngineFixture.CreateAsync();
        var a = f.WriteFile("a.csv", EngineFixture.Rows(100));
        var b = f.WriteFile("b.csv", EngineFixture.Rows(50, 100));
        var id = Guid.NewGuid();

        var first = await f.ImportAsync([a], id);
        var second = await f.ImportAsync([a, b], id);
        var third = await f.ImportAsync([a, b], id);

        Assert.Equal(100, first.InsertCount);
        Assert.Equal(150, second.InsertCount);
        Assert.Equal(150, third.InsertCount);
        Assert.Equal(BatchStatus.Finished, third.Status);
        Assert.Equal(150, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Equal(2, await f.ScalarAsync($"SELECT count(*) FROM ingest.import_file WHERE batch_id = '{id}'"));
        var log = (await f.Recorder.GetBatchAsync(id)).Log!;
        Assert.Contains("Resuming batch job: 1 of 2 files already loaded, 1 to load", log, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_resume_whose_table_was_dropped_warns_that_the_files_loaded_before_are_not_loaded_again()
    {
        await using var f = await EngineFixture.CreateAsync();
        var a = f.WriteFile("a.csv", EngineFixture.Rows(100));
        var b = f.WriteFile("b.csv", EngineFixture.Rows(50, 100));
        var id = Guid.NewGuid();
        await f.ImportAsync([a], id);
        await f.ScalarAsync("DROP TABLE plants; SELECT 1");

        var resumed = await f.ImportAsync([a, b], id);

        Assert.Equal(BatchStatus.Finished, resumed.Status);
        Assert.Equal(50, await f.ScalarAsync("SELECT count(*) FROM plants"));
        Assert.Contains(
            "WARN Table \"plants\" was not there and has been made again, empty, but ingest.import_file records 1 file(s) of this batch as loaded into it: they are not loaded again",
            resumed.Log,
            StringComparison.Ordinal);

        // A first run that makes its table says nothing of the kind.
        var fresh = await f.ImportAsync([f.WriteFile("c.csv", EngineFixture.Rows(5))], schema: EngineFixture.Plants("fresh_plants"));
        Assert.DoesNotContain("was not there", fresh.Log, StringComparison.Ordinal);
    }
}
