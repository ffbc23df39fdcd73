using System.Text.Json;
using Ingest.Cli;
using Ingest.Core.Tests.Copy;
using Ingest.Core.Tests.Engine;

namespace Ingest.Core.Tests.Cli;

public sealed class CliTests
{
    private static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await CliApp.RunAsync(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [SkippableFact]
    public async Task Import_then_status_and_batch_print_the_spec_json_and_exit_0()
    {
        await using var f = await EngineFixture.CreateAsync();
        var file = f.WriteFile("a.csv", EngineFixture.Rows(20) + "x,0,1,2,,5,,,\n");
        var id = Guid.NewGuid().ToString();

        var import = await RunAsync("import", "--dataset", "cli_plants", "--schema", RowEncoderTests.Plants, "--format", RowEncoderTests.PlantsFormat,
            "--streams", "2", "--batch-id", id, "--connection", f.ConnectionString, file);
        var status = await RunAsync("status", id, "--connection", f.ConnectionString);
        var batch = await RunAsync("batch", id, "--connection", f.ConnectionString);

        Assert.True(import.Exit == 0, import.Err);
        Assert.Equal(0, status.Exit);
        using var timeline = JsonDocument.Parse(status.Out);
        var newest = timeline.RootElement[0];
        Assert.Equal(["id", "status", "insertCount", "invalidCount", "log", "updatedAt"], newest.EnumerateObject().Select(p => p.Name));
        Assert.Equal("finished", newest.GetProperty("status").GetString());
        Assert.Equal(20, newest.GetProperty("insertCount").GetInt64());
        Assert.Equal(1, newest.GetProperty("invalidCount").GetInt64());
        Assert.Equal("created", timeline.RootElement[timeline.RootElement.GetArrayLength() - 1].GetProperty("status").GetString());
        Assert.Equal(0, batch.Exit);
        using var record = JsonDocument.Parse(batch.Out);
        Assert.Equal(id, record.RootElement.GetProperty("id").GetString());
        Assert.Equal("cli_plants", record.RootElement.GetProperty("datasetId").GetString());
        Assert.Equal(20, record.RootElement.GetProperty("insertCount").GetInt64());
        Assert.Equal(20, await f.ScalarAsync("SELECT count(*) FROM cli_plants"));
    }

    [SkippableFact]
    public async Task Import_with_json_prints_a_machine_readable_outcome_and_progress_goes_to_stderr()
    {
        await using var f = await EngineFixture.CreateAsync();
        var file = f.WriteFile("a.csv", EngineFixture.Rows(7) + "x,0,1,2,,5,,,\n");

        var import = await RunAsync("import", "--dataset", "json_plants", "--schema", RowEncoderTests.Plants, "--format", RowEncoderTests.PlantsFormat,
            "--connection", f.ConnectionString, "--json", file);

        Assert.Equal(0, import.Exit);
        using var json = JsonDocument.Parse(import.Out);
        Assert.Equal("finished", json.RootElement.GetProperty("status").GetString());
        Assert.Equal(7, json.RootElement.GetProperty("insertCount").GetInt64());
        Assert.Equal(1, json.RootElement.GetProperty("invalidCount").GetInt64());
        var rowError = json.RootElement.GetProperty("rowErrors")[0];
        Assert.Equal(8, rowError.GetProperty("line").GetInt64());
        Assert.Equal("entityId", rowError.GetProperty("field").GetString());
        Assert.Matches(@"files 1/1, 7 rows inserted, 1 invalid", import.Err);
        Assert.Matches(@"Z WARN Invalid row skipped: .*a\.csv.*line 8.*entityId", import.Err); // the log's warnings, as they happen
    }

    [SkippableFact]
    public async Task A_connection_uri_works_like_the_connection_string_it_stands_for()
    {
        await using var f = await EngineFixture.CreateAsync();
        var cs = new Npgsql.NpgsqlConnectionStringBuilder(f.ConnectionString);
        var password = string.IsNullOrEmpty(cs.Password) ? string.Empty : ":" + Uri.EscapeDataString(cs.Password);
        var uri = $"postgresql://{Uri.EscapeDataString(cs.Username!)}{password}@{cs.Host}:{cs.Port}/{Uri.EscapeDataString(cs.Database!)}?application_name=ingest-uri-test";

        var import = await RunAsync("import", "--dataset", "uri_plants", "--schema", RowEncoderTests.Plants, "--format", RowEncoderTests.PlantsFormat,
            "--connection", uri, f.WriteFile("a.csv", EngineFixture.Rows(3)));

        Assert.True(import.Exit == 0, import.Err);
        Assert.Equal(3, await f.ScalarAsync("SELECT count(*) FROM uri_plants"));
    }

    [Fact]
    public async Task Cancelling_a_command_exits_1_with_a_message_not_a_crash()
    {
        await using var server = await Infrastructure.LoopbackHttpServer.StartAsync();
        server.AddFile("/slow.csv", System.Text.Encoding.UTF8.GetBytes(EngineFixture.Rows(2000)), new Infrastructure.HttpFault { ChunkDelay = TimeSpan.FromSeconds(1), ChunkSize = 1024 });
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        var stderr = new StringWriter();

        var exit = await CliApp.RunAsync(
            ["dry-run", "--dataset", "plants", "--schema", RowEncoderTests.Plants, "--format", RowEncoderTests.PlantsFormat, server.Url("/slow.csv").ToString()],
            new StringWriter(),
            stderr,
            cancel.Token);

        Assert.Equal(1, exit);
        Assert.Contains("ingest: cancelled", stderr.ToString(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Import_and_submit_into_an_unlogged_table_say_so_on_stderr()
    {
        await using var f = await EngineFixture.CreateAsync();
        await UnloggedTableTests.CreateUnloggedAsync(f, "cli_unlogged");
        string[] common = ["--dataset", "cli_unlogged", "--schema", RowEncoderTests.Plants, "--format", RowEncoderTests.PlantsFormat, "--connection", f.ConnectionString];

        var import = await RunAsync(["import", .. common, f.WriteFile("a.csv", EngineFixture.Rows(2))]);
        var submit = await RunAsync(["submit", .. common, f.WriteFile("b.csv", EngineFixture.Rows(2, 10))]);

        Assert.Equal((0, 0), (import.Exit, submit.Exit));
        Assert.Contains("WARN Table \"cli_unlogged\" is UNLOGGED", import.Err, StringComparison.Ordinal);
        Assert.Contains("WARN Table \"cli_unlogged\" is UNLOGGED", submit.Err, StringComparison.Ordinal);
        Assert.True(Guid.TryParse(submit.Out.Trim(), out _), submit.Out);
    }

    [SkippableFact]
    public async Task Abort_of_a_finished_batch_is_refused_with_exit_1()
    {
        await using var f = await EngineFixture.CreateAsync();
        var result = await f.ImportAsync([f.WriteFile("a.csv", EngineFixture.Rows(3))]);

        var abort = await RunAsync("abort", result.BatchId.ToString(), "--connection", f.ConnectionString);

        Assert.Equal(1, abort.Exit);
        Assert.Contains("cannot be aborted", abort.Err, StringComparison.Ordinal);
        Assert.Equal("finished", (await f.Recorder.GetBatchAsync(result.BatchId)).Status.ToString().ToLowerInvariant());
    }

    [SkippableFact]
    public async Task A_privilege_or_database_the_server_refuses_says_what_to_grant_or_create_with_exit_2()
    {
        await using var f = await EngineFixture.CreateAsync();
        var role = $"lim_{Guid.NewGuid():N}";
        await using (var command = f.DataSource.CreateCommand($"CREATE ROLE {role} LOGIN; REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
        {
            await command.ExecuteNonQueryAsync();
        }

        var file = f.WriteFile("a.csv", EngineFixture.Rows(3));
        string[] common = ["import", "--dataset", "lim_plants", "--schema", RowEncoderTests.Plants, "--format", RowEncoderTests.PlantsFormat];
        var limited = new Npgsql.NpgsqlConnectionStringBuilder(f.ConnectionString) { Username = role }.ConnectionString;
        var noSuchDatabase = new Npgsql.NpgsqlConnectionStringBuilder(f.ConnectionString) { Database = "no_such_db_here" }.ConnectionString;

        var denied = await RunAsync([.. common, "--connection", limited, file]);
        var missing = await RunAsync([.. common, "--connection", noSuchDatabase, file]);

        Assert.Equal(2, denied.Exit);
        Assert.Contains("ingest: the database refused: permission denied for", denied.Err, StringComparison.Ordinal);
        Assert.Contains("GRANT CREATE ON DATABASE", denied.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("POSITION", denied.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("Give a reachable PostgreSQL", denied.Err, StringComparison.Ordinal);
        Assert.Equal(2, missing.Exit);
        Assert.Contains("\"no_such_db_here\" does not exist", missing.Err, StringComparison.Ordinal);
        Assert.Contains("createdb", missing.Err, StringComparison.Ordinal);
        Assert.Equal(0, await f.ScalarAsync("SELECT count(*) FROM pg_tables WHERE tablename = 'lim_plants'"));
    }

    [Fact]
    public async Task A_port_nothing_listens_on_is_named_with_the_reason_and_what_to_check()
    {
        // A port just freed: nothing listens there (loopback answers at once with a reset).
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var (exit, _, err) = await RunAsync("status", Guid.NewGuid().ToString(), "--connection", $"Host=127.0.0.1;Port={port};Username=u;Database=d");

        Assert.Equal(1, exit);
        Assert.Contains($"ingest: cannot use the database: Failed to connect to 127.0.0.1:{port}: Connection refused", err, StringComparison.Ordinal);
        Assert.Contains("Nothing accepts connections at that host and port", err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bogus", "Format of the initialization string")]
    [InlineData("Host=db;bogus=1", "Couldn't set bogus")]
    [InlineData("Host=db;Port=abc;Password=hunter2", "Couldn't set port")]
    public async Task A_connection_string_the_driver_cannot_read_is_bad_usage_that_shows_a_good_one(string connection, string driverSaid)
    {
        var (exit, stdout, stderr) = await RunAsync("status", Guid.NewGuid().ToString(), "--connection", connection);

        Assert.Equal(2, exit);
        Assert.Equal(string.Empty, stdout);
        Assert.StartsWith("ingest: --connection is not a valid connection string (", stderr, StringComparison.Ordinal);
        Assert.Contains(driverSaid, stderr, StringComparison.Ordinal);
        Assert.Contains("give one such as Host=db;Port=5432;Username=app;Database=ingest", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", stderr, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Status_of_an_unknown_batch_says_not_found_with_exit_2()
    {
        await using var f = await EngineFixture.CreateAsync();

        var status = await RunAsync("status", Guid.NewGuid().ToString(), "--connection", f.ConnectionString);

        Assert.Equal(2, status.Exit);
        Assert.Contains("was not found", status.Err, StringComparison.Ordinal);
        Assert.Equal(string.Empty, status.Out);
    }

    [SkippableFact]
    public async Task Dry_run_with_a_connection_checks_the_table_and_without_one_says_it_did_not()
    {
        await using var f = await EngineFixture.CreateAsync();
        await using (var create = f.DataSource.CreateCommand("CREATE TABLE cli_mismatch (entity_id uuid not null, timestamp timestamp not null, longitude double precision not null, latitude double precision not null)"))
        {
            await create.ExecuteNonQueryAsync();
        }

        var file = f.WriteFile("a.csv", EngineFixture.Rows(3));
        string[] common = ["dry-run", "--dataset", "cli_mismatch", "--schema", RowEncoderTests.Plants, "--format", RowEncoderTests.PlantsFormat];

        var checkedRun = await RunAsync([.. common, "--connection", f.ConnectionString, file]);
        var filesOnly = await RunAsync([.. common, file]);

        Assert.Equal(1, checkedRun.Exit);
        using var json = JsonDocument.Parse(checkedRun.Out);
        Assert.Equal("error", json.RootElement.GetProperty("status").GetString());
        Assert.Contains("column \"timestamp\" is timestamp without time zone, expected timestamp with time zone", json.RootElement.GetProperty("report").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, filesOnly.Exit);
        Assert.Contains("the dataset's table is not", filesOnly.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dry_run_prints_only_the_json_result_and_exits_by_status()
    {
        var folder = Directory.CreateTempSubdirectory("ingest-cli-").FullName;
        try
        {
            var file = Path.Combine(folder, "a.csv");
            await File.WriteAllTextAsync(file, EngineFixture.Rows(3) + "x,0,1,2,,5,,,\n");
            var formatFile = Path.Combine(folder, "format.json");
            await File.WriteAllTextAsync(formatFile, RowEncoderTests.PlantsFormat);

            var ok = await RunAsync("dry-run", "--dataset", "plants", "--schema", RowEncoderTests.Plants, "--format", formatFile, file);
            var bad = await RunAsync("dry-run", "--dataset", "plants", "--schema", RowEncoderTests.Plants, "--format", """{"csv": {"entityId": 0}}""", file);

            Assert.Equal(0, ok.Exit);
            using var okJson = JsonDocument.Parse(ok.Out);
            Assert.Equal(["status", "report", "log"], okJson.RootElement.EnumerateObject().Select(p => p.Name));
            Assert.Equal("success", okJson.RootElement.GetProperty("status").GetString());
            Assert.Contains("Valid rows: 3\nInvalid rows dropped: 1", okJson.RootElement.GetProperty("report").GetString(), StringComparison.Ordinal);
            Assert.Contains("'x' is not a UUID", ok.Out, StringComparison.Ordinal); // readable as written, not \u0027
            Assert.Equal(1, bad.Exit);
            using var badJson = JsonDocument.Parse(bad.Out);
            Assert.Equal("error", badJson.RootElement.GetProperty("status").GetString());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("--streams", "0", "--streams must be 1 to 64")]
    [InlineData("--header-lines", "-1", "--header-lines must be 0 or more")]
    [InlineData("--max-record-size", "10", "--max-record-size must be at least 1024 characters")]
    [InlineData("--max-record-size", "2147483647", "--max-record-size must be at least 1024 characters and at most 1073741824")]
    public async Task A_bad_option_value_is_named_by_its_flag(string flag, string value, string message)
    {
        var (exit, _, stderr) = await RunAsync("import", "--dataset", "d", "--schema", "{\"name\": \"d\"}", "--format", "{\"csv\": {}}", flag, value, "a.csv");

        Assert.Equal(2, exit);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("IngestOptions", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_folder_given_as_the_schema_is_named_a_folder_not_a_missing_file()
    {
        var folder = Directory.CreateTempSubdirectory("ingest-cli-").FullName;
        try
        {
            var (exit, _, stderr) = await RunAsync("dry-run", "--dataset", "plants", "--schema", folder, "--format", RowEncoderTests.PlantsFormat, "a.csv");

            Assert.Equal(2, exit);
            Assert.Contains($"--schema: '{folder}' is a folder; give the JSON file in it, or inline JSON.", stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder);
        }
    }

    [Theory]
    [InlineData("import", "--bogusflag")]
    [InlineData("import", "--stream")] // a typo of --streams, followed by its value
    [InlineData("dry-run", "-x")]
    [InlineData("submit", "--stream")]
    public async Task An_unknown_option_among_the_files_is_bad_usage_before_anything_starts_not_a_file_that_fails(string command, string option)
    {
        // A closed port: had the command got as far as the database, it would fail there (exit 1), not here.
        var (exit, stdout, stderr) = await RunAsync(
            command, "--dataset", "plants", "--schema", RowEncoderTests.Plants, "--format", RowEncoderTests.PlantsFormat,
            "--connection", Infrastructure.ClosedPort.ConnectionString(), option, "2", "a.csv");

        Assert.Equal(2, exit);
        Assert.Contains($"unknown option '{option}'", stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, stdout);
    }

    [Fact]
    public async Task Import_json_with_the_database_out_of_reach_still_prints_an_outcome_to_parse()
    {
        var id = Guid.NewGuid();

        var (exit, stdout, stderr) = await RunAsync(
            "import", "--dataset", "plants", "--schema", RowEncoderTests.Plants, "--format", RowEncoderTests.PlantsFormat, "--json", "--batch-id", id.ToString(),
            "--connection", Infrastructure.ClosedPort.ConnectionString(), "a.csv", "b.csv");

        Assert.Equal(1, exit);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(["batchId", "status", "interrupted", "insertCount", "invalidCount", "filesLoaded", "filesTotal", "error", "rowErrors"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(id, json.RootElement.GetProperty("batchId").GetGuid());
        Assert.Equal("error", json.RootElement.GetProperty("status").GetString());
        Assert.Equal(2, json.RootElement.GetProperty("filesTotal").GetInt32());
        Assert.StartsWith("cannot use the database: ", json.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("ingest: cannot use the database", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", stdout + stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "--dataset is empty: give the dataset's name")]
    [InlineData(" ", "--dataset is empty: give the dataset's name")]
    [InlineData("a.b.c", "The dataset name 'a.b.c' has more than one '.': name a table as 'table' or 'schema.table'")]
    public async Task A_dataset_name_that_names_no_table_exits_2_saying_why(string dataset, string message)
    {
        var (exit, stdout, stderr) = await RunAsync("dry-run", "--dataset", dataset, "--schema", RowEncoderTests.Plants, "--format", RowEncoderTests.PlantsFormat, "a.csv");

        Assert.Equal(2, exit);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, stdout);
    }

    [Theory]
    [InlineData("import", "--schema", "{}", "--format", "{}", "a.csv")]
    [InlineData("import", "--dataset", "d", "--schema", "/nonexistent/dataset.json", "--format", "{\"csv\": {}}", "a.csv")]
    [InlineData("import", "--dataset", "d", "--schema", "{\"name\": \"d\"}", "--format", "{not json", "a.csv")]
    [InlineData("dry-run", "--dataset", "d", "--schema", "{\"name\": \"d\"}", "--format", "{\"csv\": {\"entityId\": -1}}", "a.csv")]
    [InlineData("status", "not-a-uuid")]
    [InlineData("nonsense")]
    [InlineData("import", "--dataset", "d", "--schema", "{\"name\": \"d\"}", "--format", "{\"csv\": {}}", "--yield-cpu", "sometimes", "a.csv")]
    [InlineData("import", "--dataset", "d", "--schema", "{\"name\": \"d\"}", "--format", "{\"csv\": {}}", "--streams", "0", "a.csv")]
    public async Task Bad_usage_or_input_exits_2_with_a_message(params string[] args)
    {
        var (exit, stdout, stderr) = await RunAsync(args);

        Assert.Equal(2, exit);
        Assert.False(string.IsNullOrWhiteSpace(stderr));
        Assert.Equal(string.Empty, stdout);
    }
}
