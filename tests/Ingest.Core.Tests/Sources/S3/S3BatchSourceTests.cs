using System.Text.Json;
using Ingest.Sources.S3;

namespace Ingest.Core.Tests.Sources.S3;

public sealed class S3BatchSourceTests
{
    private static S3BatchSource Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return S3BatchSource.Parse(document.RootElement);
    }

    [Fact]
    public void The_dfi_s3_source_reads_bucket_prefix_glob_and_role()
    {
        var source = Parse("""
            {"bucket": "s3://bucket-name", "credentials": {"RoleArn": "arn:aws:iam::123456789012:role/importer"},
             "glob": "**/*.csv", "prefix": "sample-data"}
            """);

        Assert.Equal("bucket-name", source.Bucket);
        Assert.Equal("sample-data", source.Prefix);
        Assert.Equal("**/*.csv", source.Glob);
        Assert.Equal("arn:aws:iam::123456789012:role/importer", source.RoleArn);
        Assert.Equal("s3://bucket-name/sample-data/**/*.csv", source.ToPattern());
        Assert.Equal("sample-data/", source.ToS3Pattern().ListPrefix);
    }

    [Fact]
    public void A_plain_bucket_name_without_prefix_or_glob_is_every_object_of_the_bucket()
    {
        var source = Parse("""{"bucket": "bucket-name"}""");

        Assert.Equal("bucket-name", source.Bucket);
        Assert.Equal(string.Empty, source.Prefix);
        Assert.Equal("**", source.Glob);
        Assert.Null(source.RoleArn);
        Assert.Equal("s3://bucket-name/**", source.ToPattern());
    }

    [Fact]
    public void The_source_writes_back_as_the_json_dfi_takes()
    {
        var source = Parse("""{"bucket": "s3://bucket-name", "prefix": "p", "glob": "*.csv", "credentials": {"RoleArn": "arn:aws:iam::123456789012:role/importer"}}""");

        var json = source.ToJson();

        Assert.Equal("s3://bucket-name", json.GetProperty("bucket").GetString());
        Assert.Equal("arn:aws:iam::123456789012:role/importer", json.GetProperty("credentials").GetProperty("RoleArn").GetString());
        Assert.Equal(source, S3BatchSource.Parse(json));
    }

    [Theory]
    [InlineData("""{"prefix": "p"}""", "source.s3.bucket is missing")]
    [InlineData("""{"bucket": "s3://b"}""", "is not valid")]
    [InlineData("""{"bucket": 12}""", "source.s3.bucket must be a string")]
    [InlineData("""{"bucket": "bucket-name", "credentials": {"RoleArn": "importer"}}""", "is not the ARN of an IAM role")]
    [InlineData("""{"bucket": "bucket-name", "credentials": "arn:aws:iam::1:role/x"}""", "source.s3.credentials must be an object")]
    [InlineData("""["bucket-name"]""", "source.s3 must be an object")]
    public void A_bad_source_says_what_to_fix(string json, string reason)
    {
        var error = Assert.Throws<ArgumentException>(() => Parse(json));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ingest batch/1", "ingest-batch-1")]
    [InlineData("x", "x-")]
    [InlineData("a+b=c,d.e@f_g-h", "a+b=c,d.e@f_g-h")]
    public void A_session_name_keeps_only_what_sts_allows(string name, string expected)
    {
        Assert.Equal(expected, S3RoleArn.SessionName(name));
        Assert.Equal(64, S3RoleArn.SessionName(new string('a', 100)).Length);
    }
}
