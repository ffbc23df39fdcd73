using System.Text.Json;
using System.Text.Json.Nodes;
using Ingest.Schema;

namespace Ingest.Api.Datasets;

/// <summary><c>POST /v1/datasets</c> and <c>GET /v1/datasets/{id}[/schema]</c>.</summary>
internal static class DatasetEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/datasets").WithTags("Datasets");
        group.MapPost("/", RegisterAsync)
            .WithSummary("Registers a dataset document (SPEC §1) and returns it with its \"id\", which batches give as datasetId. Its \"name\" is its table.")
            .Produces<JsonObject>(StatusCodes.Status201Created);
        group.MapGet("/{id}", GetAsync).WithSummary("The dataset document.").Produces<JsonObject>();
        group.MapGet("/{id}/schema", GetAsync).WithSummary("The dataset document: its name and dataDescription.metadataSchema.").Produces<JsonObject>();
    }

    private static async Task<IResult> RegisterAsync(HttpRequest request, DatasetStore store, CancellationToken cancellationToken)
    {
        var node = await JsonNode.ParseAsync(request.Body, cancellationToken: cancellationToken)
            ?? throw ApiError.BadRequest("The body must be a dataset document: {\"name\": ..., \"dataDescription\": {\"metadataSchema\": {...}}}.");
        if (node is not JsonObject document)
        {
            throw ApiError.BadRequest("The body must be a JSON object: {\"name\": ..., \"dataDescription\": {\"metadataSchema\": {...}}}.");
        }

        // Validated now, so a bad document is a 400 here rather than at its first batch.
        using var parsed = JsonDocument.Parse(document.ToJsonString());
        var schema = DatasetSchema.FromDocument(parsed.RootElement);
        var dataset = await store.AddAsync(schema.Name, document, cancellationToken);
        return Results.Text(dataset.Document.ToJsonString(), "application/json", statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> GetAsync(string id, DatasetStore store, CancellationToken cancellationToken)
    {
        var dataset = Guid.TryParse(id, out _) ? await store.FindAsync(id, cancellationToken) : null;
        return dataset is null
            ? throw ApiError.NotFound($"Dataset {id} was not found; register it with POST /v1/datasets and use the \"id\" it returns.")
            : Results.Text(dataset.Document.ToJsonString(), "application/json");
    }
}
