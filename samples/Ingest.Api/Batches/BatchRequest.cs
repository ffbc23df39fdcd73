using System.Text.Json;
using Ingest.Sources.S3;

namespace Ingest.Api.Batches;

/// <summary>
/// The body of <c>PUT /v1/import/batch</c> (SPEC §2): <c>{"datasetId", "source": {"urls": [...]}, "format": {"csv": {...}}}</c>,
/// plus an optional <c>"id"</c> to run an earlier batch again (it loads only the files not yet loaded).
/// </summary>
internal sealed record BatchRequest(string DatasetId, IReadOnlyList<string> Urls, JsonElement Format, Guid? Id)
{
    private const string Shape = "Expected {\"datasetId\": \"<id>\", \"source\": {\"urls\": [\"https://...\"]} or {\"s3\": {\"bucket\": \"s3://bucket-name\", \"prefix\": \"...\", \"glob\": \"**/*.csv\", \"credentials\": {\"RoleArn\": \"arn:aws:iam::...:role/...\"}}}, \"format\": {\"csv\": {\"entityId\": 0, \"timestamp\": 1, ...}}}.";

    /// <summary>The DFI object-store source (<c>source.s3</c>), when given.</summary>
    public S3BatchSource? S3 { get; init; }

    public static BatchRequest Parse(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw ApiError.BadRequest("The body must be a JSON object. " + Shape);
        }

        var datasetId = body.TryGetProperty("datasetId", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
        if (d.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.String))
        {
            throw ApiError.BadRequest($"\"datasetId\" must be a string, the id POST /v1/datasets returned; found a {d.ValueKind.ToString().ToLowerInvariant()}. " + Shape);
        }

        if (string.IsNullOrWhiteSpace(datasetId))
        {
            throw ApiError.BadRequest("\"datasetId\" is missing: give the id POST /v1/datasets returned. " + Shape);
        }

        if (!body.TryGetProperty("source", out var source) || source.ValueKind != JsonValueKind.Object)
        {
            throw ApiError.BadRequest("\"source\" is missing or not an object: give source.urls or source.s3. " + Shape);
        }

        S3BatchSource? s3 = null;
        if (source.TryGetProperty("s3", out var s3Element) && s3Element.ValueKind != JsonValueKind.Null)
        {
            try
            {
                s3 = S3BatchSource.Parse(s3Element);
            }
            catch (ArgumentException ex)
            {
                throw ApiError.BadRequest(ex.Message.Replace($" (Parameter '{ex.ParamName}')", string.Empty, StringComparison.Ordinal));
            }
        }

        var urls = new List<string>();
        if (source.TryGetProperty("urls", out var urlArray) && urlArray.ValueKind != JsonValueKind.Null)
        {
            if (urlArray.ValueKind != JsonValueKind.Array)
            {
                throw ApiError.BadRequest("\"source.urls\" is not an array. " + Shape);
            }

            foreach (var url in urlArray.EnumerateArray())
            {
                urls.Add(url.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(url.GetString())
                    ? url.GetString()!
                    : throw ApiError.BadRequest($"\"source.urls\" must hold URL strings; found {url.ValueKind}."));
            }
        }
        else if (s3 is null)
        {
            throw ApiError.BadRequest("\"source.urls\" (or \"source.s3\") is missing. " + Shape);
        }

        if (urls.Count == 0 && s3 is null)
        {
            throw ApiError.BadRequest("\"source.urls\" is empty: give at least one file URL.");
        }

        if (!body.TryGetProperty("format", out var format) || format.ValueKind != JsonValueKind.Object)
        {
            throw ApiError.BadRequest("\"format\" is missing. " + Shape);
        }

        Guid? id = null;
        if (body.TryGetProperty("id", out var idElement) && idElement.ValueKind != JsonValueKind.Null)
        {
            id = idElement.ValueKind == JsonValueKind.String && Guid.TryParse(idElement.GetString(), out var parsed)
                ? parsed
                : throw ApiError.BadRequest("\"id\" must be a batch UUID (or left out for a new batch).");
        }

        return new BatchRequest(datasetId, urls, format.Clone(), id) { S3 = s3 };
    }

    /// <summary>Reads <c>?dryRun=</c>: absent or <c>false</c> imports; <c>true</c> checks the default rows; N checks N rows.</summary>
    public static int? DryRunRows(string? value, int defaultRows)
    {
        if (string.IsNullOrEmpty(value) || value.Equals("false", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (value.Equals("true", StringComparison.OrdinalIgnoreCase))
        {
            return defaultRows;
        }

        return int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var rows) && rows > 0
            ? rows
            : throw ApiError.BadRequest($"dryRun must be true, false or a number of rows (1 or more), not '{value}'.");
    }
}
