using Ingest.Status;
using Ingest.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Ingest.Hosting.Tests;

public sealed class SecretLoggingTests
{
    private const string Secret = "S3cr3t-never-logged";

    [SkippableFact]
    public async Task No_password_signature_or_user_info_reaches_ILogger_output_or_its_scopes()
    {
        var connectionString = new NpgsqlConnectionStringBuilder(await TestPostgres.CreateDatabaseAsync()) { Password = Secret }.ConnectionString;
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection()
            .AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace))
            .AddIngest(o =>
            {
                o.ConnectionString = connectionString;
                o.Engine = Plants.FastOptions with { FileAttempts = 1, Source = new Sources.SourceOptions { MaxAttempts = 1 } };
                o.WatchInterval = TimeSpan.FromMilliseconds(20);
            });
        await using var provider = services.BuildServiceProvider();
        var good = Plants.File(Plants.Rows(5));
        var request = Plants.Request(good, $"http://reader:{Secret}@127.0.0.1:1/missing.csv?X-Amz-Signature={Secret}");

        var result = await provider.GetRequiredService<IngestService>().ImportAsync(request);

        Assert.Equal(BatchStatus.Error, result.Status);
        Assert.NotEmpty(logs.Entries);
        Assert.Contains(logs.Entries, e => e.Message.Contains("missing.csv", StringComparison.Ordinal));
        foreach (var entry in logs.Entries)
        {
            Assert.DoesNotContain(Secret, entry.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("reader:", entry.Message, StringComparison.Ordinal);
            Assert.All(entry.Scope.Values, v => Assert.DoesNotContain(Secret, Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty, StringComparison.Ordinal));
        }

        Assert.DoesNotContain(Secret, result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, result.Log, StringComparison.Ordinal);
    }
}
