using System.Text.Json;
using Ingest.Api.Datasets;
using Ingest.Hosting;
using Ingest.Schema;
using Ingest.Status;

namespace Ingest.Api.Batches;

/// <summary>The DFI Import API's batch surface: <c>PUT /v1/import/batch</c>, <c>GET /v1/import/batch/{id}[/status]</c>, <c>PATCH /v1/import/batch/{id}</c>.</summary>
internal static class BatchEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/import/batch").WithTags("Import batches");
        group.MapPut("/", PutAsync)
            .WithSummary("Queues a batch for the workers (this host runs one) and returns its record (202), or with ?dryRun=true|N checks the first 100 or N rows of every file and returns the dry-run result (200).")
            .Produces<BatchRecord>(StatusCodes.Status202Accepted)
            .Produces<DryRunResult>();
        group.MapGet("/{id}", GetAsync).WithSummary("The batch record with live counts and log.").Produces<BatchRecord>();
        group.MapGet("/{id}/status", TimelineAsync).WithSummary("The batch's status timeline, newest first.").Produces<IReadOnlyList<StatusRecord>>();
        app.MapGet("/v1/import/awsTrustPolicy", TrustPolicy)
            .WithTags("Import batches")
            .WithSummary("The trust policy a customer attaches to the IAM role named in source.s3.credentials.RoleArn, so this host may assume it.");
        group.MapPatch("/{id}", PatchAsync)
            .WithSummary("With {\"status\": \"aborted\"}, aborts the batch and returns its record; 409 when it has already ended finished or error.")
            .Produces<BatchRecord>();
    }

    private static async Task<IResult> PutAsync(
        HttpRequest http, string? dryRun, DatasetStore datasets, SourceGuard guard, BatchQueue queue, IngestService ingest, ApiSettings settings, CancellationToken cancellationToken)
    {
        var rows = BatchRequest.DryRunRows(dryRun, settings.Engine.DryRunRows);
        using var body = await JsonDocument.ParseAsync(http.Body, cancellationToken: cancellationToken);
        var request = BatchRequest.Parse(body.RootElement);
        var dataset = await datasets.FindAsync(request.DatasetId, cancellationToken)
            ?? throw ApiError.NotFound($"Dataset '{request.DatasetId}' was not found; register it with POST /v1/datasets and use the \"id\" it returns.");
        var schema = DatasetSchema.FromDocument(JsonSerializer.SerializeToElement(dataset.Document));
        var format = CsvFormat.FromJson(request.Format);
        await guard.CheckAsync(request.Urls, request.S3, cancellationToken);
        var import = new ImportRequest(schema, format, request.Urls) { BatchId = request.Id ?? Guid.NewGuid(), S3 = request.S3 };

        if (rows is { } dryRunRows)
        {
            var result = await IngestEngine.DryRunAsync(import, ingest.Engine.Options with { DryRunRows = dryRunRows }, cancellationToken);
            return Results.Json(result);
        }

        if (format.Check(schema) is { Count: > 0 } problems)
        {
            throw ApiError.BadRequest($"The format does not fit dataset '{schema.Name}': {string.Join(" ", problems)}", new Dictionary<string, object?> { ["problems"] = problems });
        }

        var id = import.BatchId!.Value;
        // A batch not yet ended may still be resumed here when nothing runs it: its host died running it (the run's
        // sessions, which hold its lease, end within LeaseWait of its death) and no queue worker has files of it left.
        var existing = await ingest.Recorder.TryGetBatchAsync(id, cancellationToken);
        if (existing is not null && (queue.IsLive(id) || (!existing.Status.IsTerminal() && !await ingest.Engine.CanResumeAsync(id, cancellationToken))))
        {
            throw ApiError.Conflict($"Batch {id} is {existing.Status.ToWord()}; wait for it to end before running it again.");
        }

        if (existing is null)
        {
            // A new batch goes into the PostgreSQL work queue, like `ingest submit`: this host's own worker
            // loads it, and any `ingest worker` processes sharing the database help (issue [6]). It is linked to
            // its dataset once submitted: a submit refused (a source that cannot be listed) leaves nothing behind.
            await ingest.Engine.SubmitAsync(import, cancellationToken);
            await datasets.LinkBatchAsync(id, dataset.Id, cancellationToken);
            return Results.Json(await RecordAsync(id, ingest, datasets, cancellationToken), StatusJson.Options, statusCode: StatusCodes.Status202Accepted);
        }

        // Running an ended batch (or one whose run died with its host) again resumes it here: only its files not yet loaded are loaded.
        await datasets.LinkBatchAsync(id, dataset.Id, cancellationToken);
        if (!queue.TryEnqueue(new BatchJob(id, import, Resume: true)))
        {
            await ingest.Recorder.RequestAbortAsync(id, CancellationToken.None);
            return ApiError.Result(StatusCodes.Status503ServiceUnavailable, "Too many batches are waiting; the batch was not started. Try again later.");
        }

        var record = await RecordAsync(id, ingest, datasets, cancellationToken);
        return Results.Json(record, StatusJson.Options, statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>
    /// The policy document of <c>GET /v1/import/awsTrustPolicy</c>: this host's principal may assume the role, with the
    /// host's <c>sts:ExternalId</c> as a condition when it has one.
    /// </summary>
    private static IResult TrustPolicy(ApiSettings settings)
    {
        if (settings.AwsPrincipal is not { } principal)
        {
            return ApiError.Result(
                StatusCodes.Status404NotFound,
                "This host has no AWS principal configured: set INGEST_API_AWS_PRINCIPAL to the ARN of the role or user it runs as (and INGEST_API_AWS_EXTERNAL_ID to require an external id).");
        }

        var statement = new Dictionary<string, object>
        {
            ["Effect"] = "Allow",
            ["Principal"] = new Dictionary<string, string> { ["AWS"] = principal },
            ["Action"] = "sts:AssumeRole",
        };
        if (settings.AwsExternalId is { } externalId)
        {
            statement["Condition"] = new Dictionary<string, object> { ["StringEquals"] = new Dictionary<string, string> { ["sts:ExternalId"] = externalId } };
        }

        return Results.Json(new Dictionary<string, object> { ["Version"] = "2012-10-17", ["Statement"] = new[] { statement } });
    }

    private static async Task<IResult> GetAsync(string id, IngestService ingest, DatasetStore datasets, CancellationToken cancellationToken) =>
        Results.Json(await RecordAsync(BatchId(id), ingest, datasets, cancellationToken), StatusJson.Options);

    private static async Task<IResult> TimelineAsync(string id, IngestService ingest, CancellationToken cancellationToken)
    {
        var timeline = await ingest.Recorder.GetTimelineAsync(BatchId(id), cancellationToken);
        return Results.Json(timeline, StatusJson.Options);
    }

    private static async Task<IResult> PatchAsync(string id, HttpRequest http, IngestService ingest, BatchQueue queue, DatasetStore datasets, CancellationToken cancellationToken)
    {
        var batchId = BatchId(id);
        using var body = await JsonDocument.ParseAsync(http.Body, cancellationToken: cancellationToken);
        if (body.RootElement.ValueKind != JsonValueKind.Object || !body.RootElement.TryGetProperty("status", out var status)
            || status.ValueKind != JsonValueKind.String || status.GetString() != "aborted")
        {
            throw ApiError.BadRequest("The only change a batch takes is {\"status\": \"aborted\"}.");
        }

        var batch = await ingest.Recorder.GetBatchAsync(batchId, cancellationToken);
        if (batch.Status is BatchStatus.Finished or BatchStatus.Error
            || await ingest.Engine.AbortAsync(batchId, cancellationToken) == AbortOutcome.AlreadyEnded)
        {
            var ended = await ingest.Recorder.GetBatchAsync(batchId, cancellationToken);
            throw ApiError.Conflict(
                $"Batch {batchId} has already ended with status '{ended.Status.ToWord()}'; a batch that has ended cannot be aborted.",
                new Dictionary<string, object?> { ["batchStatus"] = ended.Status.ToWord() });
        }

        // The recorder carries the request to whichever process runs the batch; here it also stops at once.
        queue.CancelLocal(batchId);
        return Results.Json(await RecordAsync(batchId, ingest, datasets, cancellationToken), StatusJson.Options);
    }

    /// <summary>The batch record, naming the dataset by the id the client registered it under.</summary>
    private static async Task<BatchRecord> RecordAsync(Guid batchId, IngestService ingest, DatasetStore datasets, CancellationToken cancellationToken)
    {
        var record = await ingest.Recorder.GetBatchAsync(batchId, cancellationToken);
        var datasetId = await datasets.DatasetOfBatchAsync(batchId, cancellationToken);
        return datasetId is { } registered ? record with { DatasetId = registered.ToString() } : record;
    }

    private static Guid BatchId(string id) =>
        Guid.TryParse(id, out var batchId) ? batchId : throw ApiError.NotFound($"Batch {id} was not found: a batch id is a UUID.");
}
