using System.Text;
using Ingest.Core.Tests.Infrastructure;
using Ingest.Status;
using Ingest.Testing;
using Microsoft.Extensions.DependencyInjection;
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
        await using var provider = logs.BuildIngest(connectionString, Plants.FastOptions with { FileAttempts = 1, Source = new Sources.SourceOptions { MaxAttempts = 1 } });
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

    [SkippableFact]
    public async Task No_key_secret_or_session_token_of_an_s3_role_reaches_ILogger_output_or_its_scopes()
    {
        const string HostKey = "AKIAHOSTINGKEY000001";
        const string HostSecret = "hosting-host-secret-value";
        const string IssuedSecret = "hosting-issued-secret-value";
        const string IssuedToken = "hosting-issued-token-value";
        var s3 = await TestS3.GetServerAsync();
        var bucket = await s3.CreateBucketAsync("logged");
        await s3.PutAsync(bucket, "in/ok.csv", Encoding.UTF8.GetBytes(Plants.Rows(5)));
        await s3.PutAsync(bucket, "in/bad.csv", Encoding.UTF8.GetBytes("\"unterminated,\n"));
        await using var sts = await FakeSts.StartAsync();
        sts.Issued = (S3rverServer.AccessKey, IssuedSecret, IssuedToken);

        // The host signs its AssumeRole with its own credentials (this process's environment, put back after).
        using var aws = await EnvironmentScope.SetAsync(("AWS_ACCESS_KEY_ID", HostKey), ("AWS_SECRET_ACCESS_KEY", HostSecret), ("AWS_SESSION_TOKEN", null), ("AWS_PROFILE", null));
        var connectionString = await TestPostgres.CreateDatabaseAsync();
        var logs = new CapturingLoggerProvider();
        await using var provider = logs.BuildIngest(connectionString, Plants.FastOptions with
        {
            Source = new Sources.SourceOptions { S3 = new Sources.S3.S3Settings { Endpoint = s3.Endpoint, StsEndpoint = sts.Endpoint } },
        });
        var request = Plants.Request() with
        {
            S3 = new Sources.S3.S3BatchSource { Bucket = bucket, Prefix = "in", Glob = "*.csv", RoleArn = "arn:aws:iam::123456789012:role/importer" },
        };

        var result = await provider.GetRequiredService<IngestService>().ImportAsync(request);

        Assert.Equal(BatchStatus.Error, result.Status);
        Assert.Equal($"ingest-{request.BatchId:D}", Assert.Single(sts.Requests)["RoleSessionName"]);
        Assert.Contains(logs.Entries, e => e.Message.Contains($"s3://{bucket}/in/bad.csv line 1: unterminated quoted field", StringComparison.Ordinal));
        Assert.Contains(logs.Entries, e => e.Message.Contains($"Fetching url s3://{bucket}/in/ok.csv", StringComparison.Ordinal));
        foreach (var entry in logs.Entries)
        {
            var scope = string.Join(' ', entry.Scope.Values.Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)));
            foreach (var forbidden in (string[])[HostKey, HostSecret, S3rverServer.AccessKey, IssuedSecret, IssuedToken, "Signature", "Credential=", "X-Amz-Security-Token"])
            {
                Assert.DoesNotContain(forbidden, entry.Message, StringComparison.Ordinal);
                Assert.DoesNotContain(forbidden, scope, StringComparison.Ordinal);
            }
        }
    }
}
