using System.Text.Json;
using Ingest.Schema;
using Ingest.Sources.S3;
using Ingest.Status;

namespace Ingest.Api;

/// <summary>Turns what a handler throws into the JSON error a client can act on; anything unexpected is a logged 500.</summary>
internal static partial class ErrorHandling
{
    public static async Task HandleAsync(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (!context.Response.HasStarted && Map(ex) is { } error)
        {
            await error.ExecuteAsync(context);
        }
        catch (Exception ex) when (!context.Response.HasStarted && ex is not OperationCanceledException)
        {
            Unhandled(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Ingest.Api"), context.Request.Method, context.Request.Path, ex);
            await ApiError.Result(StatusCodes.Status500InternalServerError, $"The server failed to handle the request (trace id {context.TraceIdentifier}); see its log.").ExecuteAsync(context);
        }
    }

    private static IResult? Map(Exception exception) => exception switch
    {
        ApiError api => ApiError.Result(api.Status, api.Message, api.Details),
        SchemaException schema => ApiError.Result(StatusCodes.Status400BadRequest, schema.Message),
        BatchNotFoundException notFound => ApiError.Result(StatusCodes.Status404NotFound, notFound.Message),

        // The source could not be listed into files, so no batch was made: a pattern matching nothing, a missing bucket
        // or refused credentials are the request's to fix; a store out of reach may answer a later try.
        SourceListingException listing => ApiError.Result(
            listing.IsTransient ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status400BadRequest,
            Redactor.RedactText(listing.IsTransient ? $"{listing.Message}; no batch was made, try again later" : listing.Message)),
        JsonException json => ApiError.Result(StatusCodes.Status400BadRequest, "The body is not valid JSON: " + json.Message),
        BadHttpRequestException bad => ApiError.Result(bad.StatusCode, bad.Message),
        _ => null,
    };

    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "Unhandled error in {Method} {Path}")]
    private static partial void Unhandled(ILogger logger, string method, string path, Exception exception);
}
