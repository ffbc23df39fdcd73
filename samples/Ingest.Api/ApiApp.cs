using Ingest.Api.Batches;
using Ingest.Api.Datasets;
using Ingest.Hosting;

namespace Ingest.Api;

/// <summary>Builds the host: Ingest services, the batch workers, auth, errors, OpenAPI and the endpoints.</summary>
internal static class ApiApp
{
    public static WebApplication Build(string[] args, ApiSettings settings, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.AddSingleton(settings);
        builder.Services.AddIngest(o =>
        {
            o.ConnectionString = settings.ConnectionString;
            o.Engine = SourceGuardOptions.Apply(settings.Engine, settings.AllowPrivateNetworks);
        });
        builder.Services.AddSingleton<DatasetStore>();
        builder.Services.AddSingleton<SourceGuard>();
        builder.Services.AddSingleton<BatchQueue>();
        builder.Services.AddSingleton<BearerToken>();
        builder.Services.AddHostedService<BatchWorker>();
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Ingest Import API";
            document.Info.Description = "DFI-compatible import API. Every /v1 request needs 'Authorization: Bearer <INGEST_API_TOKEN>'.";
            return Task.CompletedTask;
        }));
        configure?.Invoke(builder);

        var app = builder.Build();
        app.Use(ErrorHandling.HandleAsync);
        var token = app.Services.GetRequiredService<BearerToken>();
        app.Use(token.HandleAsync);
        app.MapOpenApi();
        DatasetEndpoints.Map(app);
        BatchEndpoints.Map(app);
        app.MapFallback(context => ApiError.Result(StatusCodes.Status404NotFound, $"No endpoint {context.Request.Method} {context.Request.Path}; see /openapi/v1.json.").ExecuteAsync(context));
        return app;
    }

    /// <summary>Creates the tables the API reads before it takes a request (the recorder's, then its own).</summary>
    public static async Task PrepareAsync(WebApplication app, CancellationToken cancellationToken = default)
    {
        if (app.Services.GetRequiredService<IngestService>().Recorder is Ingest.Status.PostgresStatusRecorder recorder)
        {
            await recorder.EnsureSchemaAsync(cancellationToken);
        }

        await app.Services.GetRequiredService<DatasetStore>().EnsureSchemaAsync(cancellationToken);
    }
}
