using System.Globalization;

namespace Ingest.Api;

/// <summary>The host's settings, read from the environment once at start.</summary>
internal sealed record ApiSettings
{
    /// <summary>The bearer token every <c>/v1</c> request must carry (<c>INGEST_API_TOKEN</c>, required).</summary>
    public required string Token { get; init; }

    /// <summary>The PostgreSQL of data, datasets and status (<c>INGEST_CONNECTION</c>, required).</summary>
    public required string ConnectionString { get; init; }

    /// <summary>Allow sources on loopback and private networks (<c>INGEST_ALLOW_PRIVATE_NETWORKS=true</c>). Default false.</summary>
    public bool AllowPrivateNetworks { get; init; }

    /// <summary>Batches loading at once in this process (<c>INGEST_API_CONCURRENT_BATCHES</c>). Default 2.</summary>
    public int ConcurrentBatches { get; init; } = 2;

    /// <summary>Batches waiting to start before PUT answers 503. Default 1,000.</summary>
    public int QueueCapacity { get; init; } = 1000;

    /// <summary>The engine's options (<c>INGEST_STREAMS</c> sets the streams per batch).</summary>
    public IngestOptions Engine { get; init; } = new();

    /// <summary>
    /// Buckets whose objects callers may load with this host's own AWS credentials (<c>INGEST_API_S3_BUCKETS</c>,
    /// comma-separated): <c>s3://</c> URLs in <c>source.urls</c>, and a <c>source.s3</c> without a role. Default none:
    /// callers name a role of theirs (<c>source.s3.credentials.RoleArn</c>) that trusts this host.
    /// </summary>
    public IReadOnlyList<string> S3Buckets { get; init; } = [];

    /// <summary>
    /// The AWS principal (an IAM role or user ARN) this host assumes customers' roles as (<c>INGEST_API_AWS_PRINCIPAL</c>):
    /// what <c>GET /v1/import/awsTrustPolicy</c> tells customers to trust. Default none (the endpoint says how to set it).
    /// </summary>
    public string? AwsPrincipal { get; init; }

    /// <summary>The <c>sts:ExternalId</c> this host sends when it assumes a customer's role (<c>INGEST_API_AWS_EXTERNAL_ID</c>). Default none.</summary>
    public string? AwsExternalId { get; init; }

    /// <summary>Reads the settings from environment variables.</summary>
    /// <exception cref="ApiConfigurationException">A required variable is missing or one is malformed; the message says which and how to fix it.</exception>
    public static ApiSettings FromEnvironment(Func<string, string?> variable)
    {
        var token = variable("INGEST_API_TOKEN");
        if (string.IsNullOrWhiteSpace(token))
        {
            // Refusing beats generating: a generated token would land in logs, and a host without one must not serve.
            throw new ApiConfigurationException("INGEST_API_TOKEN is not set. Set it to the bearer token clients must send (e.g. export INGEST_API_TOKEN=$(openssl rand -hex 32)).");
        }

        var connection = variable("INGEST_CONNECTION");
        if (string.IsNullOrWhiteSpace(connection))
        {
            throw new ApiConfigurationException("INGEST_CONNECTION is not set. Set it to the PostgreSQL connection string (e.g. Host=127.0.0.1;Username=postgres;Password=...;Database=ingest).");
        }

        var engine = new IngestOptions();
        if (Int("INGEST_STREAMS", variable) is { } streams)
        {
            engine = engine with { Streams = streams };
        }

        var externalId = Text("INGEST_API_AWS_EXTERNAL_ID", variable);
        if (externalId is not null)
        {
            engine = engine with { Source = engine.Source with { S3 = engine.Source.S3 with { ExternalId = externalId } } };
        }

        var settings = new ApiSettings
        {
            Token = token.Trim(),
            ConnectionString = connection,
            AllowPrivateNetworks = Bool("INGEST_ALLOW_PRIVATE_NETWORKS", variable),
            ConcurrentBatches = Int("INGEST_API_CONCURRENT_BATCHES", variable) ?? 2,
            Engine = engine,
            S3Buckets = [.. (variable("INGEST_API_S3_BUCKETS") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
            AwsPrincipal = Text("INGEST_API_AWS_PRINCIPAL", variable),
            AwsExternalId = externalId,
        };
        settings.Validate();
        return settings;
    }

    /// <summary>Throws <see cref="ApiConfigurationException"/> for a value out of range.</summary>
    public void Validate()
    {
        if (ConcurrentBatches is < 1 or > 64)
        {
            throw new ApiConfigurationException("INGEST_API_CONCURRENT_BATCHES must be 1 to 64.");
        }

        try
        {
            Engine.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new ApiConfigurationException(ex.Message);
        }
    }

    private static bool Bool(string name, Func<string, string?> variable) => variable(name)?.Trim().ToUpperInvariant() switch
    {
        null or "" or "FALSE" or "0" or "NO" => false,
        "TRUE" or "1" or "YES" => true,
        var other => throw new ApiConfigurationException($"{name} must be true or false, not '{other}'."),
    };

    private static string? Text(string name, Func<string, string?> variable) =>
        variable(name) is { } text && !string.IsNullOrWhiteSpace(text) ? text.Trim() : null;

    private static int? Int(string name, Func<string, string?> variable)
    {
        var text = variable(name);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new ApiConfigurationException($"{name} must be a whole number, not '{text}'.");
    }
}

/// <summary>The host cannot start with its settings; the message says what to fix.</summary>
internal sealed class ApiConfigurationException(string message) : Exception(message);
