using Ingest.Api;

// Configuration comes from the environment (see ApiSettings); --urls and the other ASP.NET Core switches from args.
ApiSettings settings;
try
{
    settings = ApiSettings.FromEnvironment(Environment.GetEnvironmentVariable);
}
catch (ApiConfigurationException ex)
{
    await Console.Error.WriteLineAsync("ingest-api: " + ex.Message);
    return 2;
}

var app = ApiApp.Build(args, settings);
await ApiApp.PrepareAsync(app);
await app.RunAsync();
return 0;
