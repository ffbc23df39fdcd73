namespace Ingest.Api;

/// <summary>A request the API refuses, answered as <c>{"error": message, "status": code, ...}</c> by <see cref="ErrorHandling"/>.</summary>
internal sealed class ApiError(int status, string message, IReadOnlyDictionary<string, object?>? details = null) : Exception(message)
{
    public int Status { get; } = status;

    public IReadOnlyDictionary<string, object?>? Details { get; } = details;

    public static ApiError BadRequest(string message, IReadOnlyDictionary<string, object?>? details = null) => new(StatusCodes.Status400BadRequest, message, details);

    public static ApiError NotFound(string message) => new(StatusCodes.Status404NotFound, message);

    public static ApiError Conflict(string message, IReadOnlyDictionary<string, object?>? details = null) => new(StatusCodes.Status409Conflict, message, details);

    /// <summary>The JSON body of an error.</summary>
    public static IResult Result(int status, string message, IReadOnlyDictionary<string, object?>? details = null)
    {
        var body = new Dictionary<string, object?> { ["error"] = message, ["status"] = status };
        foreach (var (key, value) in details ?? new Dictionary<string, object?>())
        {
            body[key] = value;
        }

        return Results.Json(body, statusCode: status);
    }
}
