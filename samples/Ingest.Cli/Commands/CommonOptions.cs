using System.CommandLine;
using Ingest.LocalPostgres;
using Ingest.Schema;
using Ingest.Status;

namespace Ingest.Cli.Commands;

/// <summary>Options shared by several commands, and reading what they name.</summary>
internal static class CommonOptions
{
    /// <summary>An <see cref="IngestOptions.OnLogLine"/> that hands the batch log's warnings (retries, invalid rows, an UNLOGGED table) to <paramref name="print"/>.</summary>
    public static Action<Guid, Status.BatchLogLevel, string> Warnings(Action<string> print) => (_, level, line) =>
    {
        if (level == Status.BatchLogLevel.Warn)
        {
            print(line);
        }
    };

    public static Option<string?> Connection() => new("--connection")
    {
        Description = "PostgreSQL connection: an Npgsql connection string (Host=...;Username=...) or a URI (postgresql://user:password@host:5432/db?sslmode=require). Default: $INGEST_CONNECTION, else a local PostgreSQL kept under the user's data folder.",
    };

    public static Option<CpuYield> YieldCpu() => new("--yield-cpu")
    {
        Description = "Lower ingest's CPU priority while it loads into a PostgreSQL on this machine, so the server gets the cores first (Linux): "
            + "auto = when the server's address is local (loopback, localhost, a Unix socket); from a shell, the shell's whole session yields while loading and gets its priority back after; "
            + "always = whatever the address (a local server reached by the machine's own name or address); never. Default auto.",
        DefaultValueFactory = _ => CpuYield.Auto,
    };

    public static Option<string> Dataset() => new("--dataset")
    {
        Description = "The dataset (table) to load into: name or schema.name.",
        Required = true,
    };

    public static Option<string> Schema() => new("--schema")
    {
        Description = "The dataset document (a JSON file, or inline JSON) with dataDescription.metadataSchema.",
        Required = true,
    };

    public static Option<string> Format() => new("--format")
    {
        Description = "The CSV format: a JSON file or inline JSON such as {\"csv\": {\"entityId\": 0, \"timestamp\": 1, \"longitude\": 2, \"latitude\": 3}}.",
        Required = true,
    };

    public static Option<int> HeaderLines() => new("--header-lines")
    {
        Description = "Lines to skip at the top of every file (header rows). Default 0.",
        DefaultValueFactory = _ => 0,
    };

    public static Option<int> MaxRecordSize() => new("--max-record-size")
    {
        Description = "The longest record allowed, in characters; a longer one is a file error. Default 1048576.",
        DefaultValueFactory = _ => 1024 * 1024,
    };

    public static Option<bool> Json() => new("--json")
    {
        Description = "Print the outcome as JSON on standard output (batch id, status, counts, first invalid rows).",
    };

    public static Argument<string[]> Sources()
    {
        var sources = new Argument<string[]>("sources")
        {
            Description = "CSV files: http(s) URLs, file:// URLs, local paths, s3://bucket/key objects and s3://bucket/prefix/**/*.csv.gz patterns "
                + "(listed once, when the batch first starts; * stays within a folder, ** spans folders). .gz and .zst are decompressed.",
            Arity = ArgumentArity.OneOrMore,
        };

        // A mistyped option (--stream for --streams) would otherwise be taken for a file, and the batch would be made
        // with it, to fail on it: it is bad usage, said before anything starts. A file that exists under such a name is
        // a file (given after '--', or as ./-name).
        sources.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                if (token.Value.Length > 1 && token.Value[0] == '-' && !File.Exists(token.Value) && !Directory.Exists(token.Value))
                {
                    result.AddError($"unknown option '{token.Value}' (see --help; a file whose name starts with '-' is given as ./{token.Value})");
                }
            }
        });
        return sources;
    }

    public static Option<string?> S3Endpoint() => new("--s3-endpoint")
    {
        Description = "The endpoint of an S3-compatible store (MinIO, Ceph, ...), e.g. http://127.0.0.1:9000; path-style addressing is then used. "
            + "Default: $AWS_ENDPOINT_URL_S3, else $AWS_ENDPOINT_URL, else AWS S3. Credentials and region come from the standard AWS chain "
            + "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, a container or instance role; AWS_REGION, us-east-1 when an endpoint is given).",
    };

    public static Option<string?> S3RoleArn() => new("--s3-role-arn")
    {
        Description = "An IAM role to assume (through STS, with a session named after the batch) for listing and reading s3:// sources; "
            + "a submitted batch keeps the role's ARN (never a credential) and its workers assume it too. Default: none.",
    };

    public static Option<string?> S3ExternalId() => new("--s3-external-id")
    {
        Description = "The external id a role's trust policy asks for (sts:ExternalId), sent whenever a role is assumed: --s3-role-arn's, "
            + "or for a worker the role of each batch it loads (a submitted batch keeps its role's ARN, not this id: give it to the workers). "
            + "Default: none. STS is reached at $AWS_ENDPOINT_URL_STS, else $AWS_ENDPOINT_URL, else in the region.",
    };

    /// <summary>
    /// The source options with <c>--s3-endpoint</c>, <c>--s3-role-arn</c> and <c>--s3-external-id</c> applied. An external
    /// id goes with a role: with <paramref name="rolesFromBatches"/> (a worker) the roles come with the batches.
    /// </summary>
    public static Sources.SourceOptions WithS3(Sources.SourceOptions options, string? endpoint, string? roleArn, string? externalId = null, bool rolesFromBatches = false)
    {
        var s3 = options.S3;
        if (!string.IsNullOrWhiteSpace(endpoint))
        {
            s3 = Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
                ? s3 with { Endpoint = uri }
                : throw new UsageException($"--s3-endpoint takes an http(s) URL such as http://127.0.0.1:9000, not '{Redactor.RedactUrl(endpoint)}'.");
        }

        if (!string.IsNullOrWhiteSpace(roleArn))
        {
            s3 = s3 with { RoleArn = roleArn };
        }

        if (externalId is not null)
        {
            var id = externalId.Trim();
            if (id.Length is < 2 or > 1224 || !id.All(c => char.IsAsciiLetterOrDigit(c) || "_+=,.@:/-".Contains(c, StringComparison.Ordinal)))
            {
                // The value is not echoed: it is the role owner's to share.
                throw new UsageException("--s3-external-id takes 2 to 1,224 of the characters STS accepts in sts:ExternalId: letters, digits and _+=,.@:/-");
            }

            if (s3.RoleArn is null && !rolesFromBatches)
            {
                throw new UsageException("--s3-external-id is sent when a role is assumed: give the role with --s3-role-arn too.");
            }

            s3 = s3 with { ExternalId = id };
        }

        return options with { S3 = s3 };
    }

    public static Argument<string> BatchId() => new("batch-id") { Description = "The batch id (a UUID)." };

    /// <summary>A flag's seconds as a time span; negative or not finite is a usage error naming the flag.</summary>
    public static TimeSpan Seconds(double seconds, string flag) =>
        double.IsFinite(seconds) && seconds is >= 0 and <= 86_400 ? TimeSpan.FromSeconds(seconds) : throw new UsageException($"{flag} takes seconds from 0 to 86400, not {seconds}.");

    public static Guid ParseBatchId(string text) =>
        Guid.TryParse(text, out var id) ? id : throw new UsageException($"'{text}' is not a batch id: expected a UUID such as 3c1243c4-a532-4487-9662-5655a23dec3a.");

    /// <summary>Reads JSON given inline (starting with '{') or as a file path.</summary>
    public static string ReadJson(string value, string option)
    {
        var trimmed = value.TrimStart();
        if (trimmed.StartsWith('{') || trimmed.StartsWith('['))
        {
            return value;
        }

        if (Directory.Exists(value))
        {
            throw new UsageException($"{option}: '{value}' is a folder; give the JSON file in it, or inline JSON.");
        }

        if (!File.Exists(value))
        {
            throw new UsageException($"{option}: the file '{value}' does not exist (give a JSON file or inline JSON).");
        }

        try
        {
            return File.ReadAllText(value);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{option}: the file '{value}' cannot be read: {ex.Message}");
        }
    }

    public static ImportRequest Request(string dataset, string schema, string format, string[] sources, Guid? batchId = null)
    {
        if (string.IsNullOrWhiteSpace(dataset))
        {
            throw new UsageException("--dataset is empty: give the dataset's name (its table, or schema.table).");
        }

        var datasetSchema = DatasetSchema.Parse(ReadJson(schema, "--schema"), dataset);
        var csvFormat = CsvFormat.Parse(ReadJson(format, "--format"));
        return new ImportRequest(datasetSchema, csvFormat, sources) { BatchId = batchId };
    }

    /// <summary>The connection the user gave: --connection, else $INGEST_CONNECTION (normalized); null when neither is set.</summary>
    public static string? GivenConnection(string? flag)
    {
        var fromFlag = !string.IsNullOrWhiteSpace(flag);
        var given = fromFlag ? flag : Environment.GetEnvironmentVariable("INGEST_CONNECTION");
        if (string.IsNullOrWhiteSpace(given))
        {
            return null;
        }

        var normalized = ConnectionStrings.Normalize(given); // a URI's own faults say what to write
        try
        {
            _ = new Npgsql.NpgsqlConnectionStringBuilder(normalized);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            // The driver's words alone ("Couldn't set bogus") do not say which setting or what a good one looks like.
            throw new UsageException(
                $"{(fromFlag ? "--connection" : "INGEST_CONNECTION")} is not a valid connection string ({Redactor.RedactText(CliApp.Reason(ex))}): "
                + "give one such as Host=db;Port=5432;Username=app;Database=ingest (with the user's password, if it needs one), or a URI such as postgresql://db:5432/ingest",
                ex);
        }

        return normalized;
    }

    /// <summary>--connection, else $INGEST_CONNECTION, else the embedded local PostgreSQL (started on demand).</summary>
    public static async Task<Connection> ConnectAsync(string? flag, CliIO io, CancellationToken cancellationToken)
    {
        if (GivenConnection(flag) is { } given)
        {
            return new Connection(ConnectionStrings.ForShortLivedProcess(given), null);
        }

        var server = await PostgresServer.StartEmbeddedAsync(cancellationToken).ConfigureAwait(false);
        await io.Error.WriteLineAsync($"Using {server.Description}").ConfigureAwait(false);
        return new Connection(ConnectionStrings.ForShortLivedProcess(server.ConnectionString), server);
    }
}

/// <summary>A connection string, and the embedded server behind it when there is one (left running on dispose).</summary>
internal sealed class Connection(string connectionString, PostgresServer? server) : IAsyncDisposable
{
    public string ConnectionString { get; } = connectionString;

    public ValueTask DisposeAsync() => server?.DisposeAsync() ?? ValueTask.CompletedTask;
}
