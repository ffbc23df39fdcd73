using System.Diagnostics;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Ingest.Core.Tests.Infrastructure;

/// <summary>
/// A real S3-compatible server on loopback: the npm package <c>s3rver</c> run by Node.js on 127.0.0.1, a free port
/// and a temp folder, killed on dispose. Objects are put with the AWS SDK itself (<see cref="Client"/>). s3rver
/// knows one access key, <c>S3RVER</c>, and does not check V4 signatures: any secret passes with that key, any
/// other key is refused (<c>InvalidAccessKeyId</c>).
/// <code>
/// var server = await TestS3.GetServerAsync();      // installs s3rver with npm if needed; skips (or fails on CI) without Node
/// var bucket = await server.CreateBucketAsync();
/// await server.PutAsync(bucket, "data/a.csv", bytes);
/// </code>
/// </summary>
public sealed partial class S3rverServer : IAsyncDisposable
{
    /// <summary>The access key s3rver accepts.</summary>
    public const string AccessKey = "S3RVER";

    /// <summary>The secret of <see cref="AccessKey"/> (s3rver does not check V4 signatures, so any secret passes).</summary>
    public const string SecretKey = "S3RVER";

    private readonly Process _node;
    private readonly string _folder;
    private readonly AmazonS3Client _client;
    private int _buckets;

    private S3rverServer(Process node, string folder, Uri endpoint)
    {
        _node = node;
        _folder = folder;
        Endpoint = endpoint;
        _client = CreateClient(endpoint, new BasicAWSCredentials(AccessKey, SecretKey));
    }

    /// <summary>The server's root, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri Endpoint { get; }

    /// <summary>A client of the server with the key it accepts, for putting objects.</summary>
    public IAmazonS3 Client => _client;

    /// <summary>A client of <paramref name="endpoint"/> (path-style, us-east-1) with <paramref name="credentials"/>.</summary>
    public static AmazonS3Client CreateClient(Uri endpoint, AWSCredentials credentials) => new(credentials, new AmazonS3Config
    {
        ServiceURL = endpoint.AbsoluteUri,
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        // s3rver stores an aws-chunked body as it comes: send plain bodies, with no trailing checksum.
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
    });

    /// <summary>Creates a bucket of its own for a test and returns its name.</summary>
    public async Task<string> CreateBucketAsync(string prefix = "test")
    {
        var name = $"{prefix}-{Interlocked.Increment(ref _buckets)}-{Guid.NewGuid():N}".ToLowerInvariant();
        name = name[..Math.Min(name.Length, 63)];
        await _client.PutBucketAsync(new PutBucketRequest { BucketName = name });
        return name;
    }

    /// <summary>Puts <paramref name="content"/> at <paramref name="key"/> and returns the object's ETag.</summary>
    public async Task<string> PutAsync(string bucket, string key, byte[] content)
    {
        using var body = new MemoryStream(content, writable: false);
        var response = await _client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, InputStream = body, UseChunkEncoding = false });
        return response.ETag;
    }

    /// <summary>Puts an empty object at each key, <paramref name="parallel"/> at a time.</summary>
    public Task PutManyAsync(string bucket, IEnumerable<string> keys, int parallel = 8) =>
        Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (key, _) => await PutAsync(bucket, key, []));

    /// <summary>Stops the server (closing its stdin makes the launcher exit; a kill if it does not) and deletes its folder.</summary>
    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        try
        {
            _node.StandardInput.Close();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _node.WaitForExitAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
            _node.Kill(entireProcessTree: true);
        }

        _node.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the folder is under the temp folder.
        }
    }
}
