using Ingest.Sources;
using Ingest.Sources.S3;

namespace Ingest.Core.Tests.Sources.S3;

public sealed class S3SettingsTests
{
    private static Func<string, string?> Environment(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void The_role_session_names_the_batch()
    {
        var name = S3Settings.SessionNameFor(Guid.Parse("3c1243c4-a532-4487-9662-5655a23dec3a"));

        Assert.Equal("ingest-3c1243c4-a532-4487-9662-5655a23dec3a", name);
        Assert.True(name.Length <= 64);
    }

    [Fact]
    public void An_endpoint_option_switches_to_path_style_and_us_east_1_when_no_region_is_set()
    {
        var options = new SourceOptions { S3 = new S3Settings { Endpoint = new Uri("http://127.0.0.1:9000") } };

        var config = S3ClientFactory.Config(options, Environment());

        Assert.StartsWith("http://127.0.0.1:9000", config.ServiceURL, StringComparison.Ordinal);
        Assert.True(config.ForcePathStyle);
        Assert.Equal("us-east-1", config.AuthenticationRegion);
        Assert.Equal(0, config.MaxErrorRetry);
    }

    [Fact]
    public void The_environment_gives_the_endpoint_the_s3_one_first_and_the_region()
    {
        var environment = Environment(("AWS_ENDPOINT_URL", "http://general:1"), ("AWS_ENDPOINT_URL_S3", "http://s3only:2"), ("AWS_REGION", "eu-west-1"));

        var config = S3ClientFactory.Config(new SourceOptions(), environment);

        Assert.StartsWith("http://s3only:2", config.ServiceURL, StringComparison.Ordinal);
        Assert.True(config.ForcePathStyle);
        Assert.Equal("eu-west-1", config.AuthenticationRegion);
        Assert.StartsWith("http://general:1", S3ClientFactory.Config(new SourceOptions(), Environment(("AWS_ENDPOINT_URL", "http://general:1"))).ServiceURL, StringComparison.Ordinal);
    }

    [Fact]
    public void Path_style_can_be_turned_off_for_an_endpoint_and_the_option_beats_the_environment()
    {
        var options = new SourceOptions { S3 = new S3Settings { Endpoint = new Uri("http://option:3"), ForcePathStyle = false, Region = "ap-south-1" } };

        var config = S3ClientFactory.Config(options, Environment(("AWS_ENDPOINT_URL", "http://env:1"), ("AWS_REGION", "eu-west-1")));

        Assert.StartsWith("http://option:3", config.ServiceURL, StringComparison.Ordinal);
        Assert.False(config.ForcePathStyle);
        Assert.Equal("ap-south-1", config.AuthenticationRegion);
    }

    [Fact]
    public void Without_an_endpoint_aws_is_used_in_the_region_with_virtual_host_addressing()
    {
        var config = S3ClientFactory.Config(new SourceOptions(), Environment(("AWS_DEFAULT_REGION", "eu-central-1")));

        Assert.Null(config.ServiceURL);
        Assert.False(config.ForcePathStyle);
        Assert.Equal("eu-central-1", config.RegionEndpoint.SystemName);
    }

    [Fact]
    public void Configured_endpoints_can_be_ignored_as_the_sdk_allows()
    {
        var environment = Environment(("AWS_ENDPOINT_URL", "http://env:1"), ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"));

        Assert.Null(S3ClientFactory.Endpoint(new S3Settings(), environment));
    }

    [Theory]
    [InlineData("ftp://host/", "is not an http(s) URL")]
    [InlineData("http://user:secret@host/", "holds a user name or password (user:password@)")]
    public void A_bad_endpoint_in_the_environment_is_refused_saying_what_is_wrong_without_repeating_it(string endpoint, string why)
    {
        var error = Assert.Throws<ArgumentException>(() => S3ClientFactory.Endpoint(new S3Settings(), Environment(("AWS_ENDPOINT_URL", endpoint))));

        Assert.StartsWith($"AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_S3) {why}", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(nameof(S3Settings.Endpoint))]
    [InlineData(nameof(S3Settings.Region))]
    [InlineData(nameof(S3Settings.RoleArn))]
    [InlineData(nameof(S3Settings.RoleSessionName))]
    public void Validation_names_the_setting(string name)
    {
        var settings = name switch
        {
            nameof(S3Settings.Endpoint) => new S3Settings { Endpoint = new Uri("ftp://host/") },
            nameof(S3Settings.Region) => new S3Settings { Region = "EU WEST" },
            nameof(S3Settings.RoleArn) => new S3Settings { RoleArn = "importer" },
            _ => new S3Settings { RoleSessionName = "has spaces" },
        };

        var error = Assert.Throws<ArgumentException>(() => (new SourceOptions() with { S3 = settings }).Validate());

        Assert.Equal(name, error.ParamName);
    }

    [Fact]
    public void Printing_the_settings_shows_no_external_id_or_credentials()
    {
        var settings = new S3Settings
        {
            RoleArn = "arn:aws:iam::123456789012:role/importer",
            ExternalId = "EXTERNAL-ID-VALUE",
            Credentials = new Amazon.Runtime.SessionAWSCredentials("AKIAPRINTED", "SECRETPRINTED", "TOKENPRINTED"),
        };

        var text = settings.ToString() + new SourceOptions { S3 = settings };

        Assert.Contains("arn:aws:iam::123456789012:role/importer", text, StringComparison.Ordinal);
        Assert.DoesNotContain("EXTERNAL-ID-VALUE", text, StringComparison.Ordinal);
        Assert.DoesNotContain("AKIAPRINTED", text, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRETPRINTED", text, StringComparison.Ordinal);
        Assert.DoesNotContain("TOKENPRINTED", text, StringComparison.Ordinal);
    }
}
