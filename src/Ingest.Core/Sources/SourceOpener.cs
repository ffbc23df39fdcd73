using Amazon.S3;
using Ingest.Sources.S3;

namespace Ingest.Sources;

/// <summary>
/// Opens the decompressed byte stream of a <see cref="SourceFile"/>: local files from disk, http(s) files and
/// <c>s3://</c> objects streamed (never buffered whole) with retries and mid-body resume. One opener serves a whole
/// batch, so its connections, and its one S3 client, are shared across files.
/// </summary>
internal sealed partial class SourceOpener : IDisposable
{
    public const int MaxRedirects = 5;

    private readonly HttpClient _client;
    private readonly Lock _s3Lock = new();
    private AmazonS3Client? _s3;

    /// <summary>
    /// Creates the opener. Unless <paramref name="handler"/> is given it owns a
    /// <see cref="SocketsHttpHandler"/> with <see cref="SourceOptions.ConnectTimeout"/> and no automatic
    /// decompression: gzip is decoded here, so Range offsets count the raw bytes on the wire. With
    /// <see cref="SourceOptions.AllowPrivateNetworks"/> off, that handler connects through a
    /// <see cref="NetworkGuard"/> and bypasses proxies (a proxy would connect on our behalf, unchecked).
    /// </summary>
    public SourceOpener(SourceOptions options, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        var owned = handler is null;
        handler ??= CreateHandler(options);
        _client = new HttpClient(handler, disposeHandler: owned) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>One message per retry, naming the file by its key only, e.g. <c>Retrying https://host/f.csv (attempt 2 of 5) after HTTP 503 Service Unavailable in 0.4 s</c>.</summary>
    public event Action<string>? Retrying;

    public SourceOptions Options { get; }

    internal HttpClient Client => _client;

    /// <summary>
    /// Opens the file's decompressed bytes (gzip when the path ends with <c>.gz</c> or the server sends
    /// <c>Content-Encoding: gzip</c>, zstd when it ends with <c>.zst</c>). Faults surface as
    /// <see cref="FileErrorException"/> naming the file's key.
    /// </summary>
    public async ValueTask<Stream> OpenAsync(SourceFile file, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (file.IsS3)
        {
            var s3 = await S3ObjectStream.OpenAsync(this, file, cancellationToken).ConfigureAwait(false);
            return GuardedDecompressionStream.Wrap(s3, file, Encoded(file, s3.IsGzipEncoded), Options);
        }

        if (!file.IsHttp)
        {
            return GuardedDecompressionStream.Wrap(OpenLocal(file), file, file.Compression, Options);
        }

        var raw = await ResumableHttpStream.OpenAsync(this, file, cancellationToken).ConfigureAwait(false);
        return GuardedDecompressionStream.Wrap(raw, file, Encoded(file, raw.IsGzipEncoded), Options);
    }

    /// <summary>
    /// Opens bytes <paramref name="start"/> to <paramref name="end"/> (exclusive) of an uncompressed local file: a chunk of
    /// it (<see cref="Engine.Chunks.Chunk"/>), read inline by the parsing thread as a whole file is.
    /// </summary>
    public Stream OpenRange(SourceFile file, long start, long end)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (file.IsHttp || file.IsS3 || file.Compression != SourceCompression.None)
        {
            throw new InvalidOperationException("Only an uncompressed local file is read in ranges.");
        }

        var local = OpenLocal(file);
        try
        {
            return GuardedDecompressionStream.Wrap(new FileRangeStream(local, start, end - start), file, SourceCompression.None, Options);
        }
        catch
        {
            local.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _client.Dispose();
        _s3?.Dispose();
    }

    /// <summary>
    /// The opener's S3 client, made on first use (<see cref="S3ClientFactory"/>) and shared by every listing and
    /// object of the batch. A failure to make it (no credentials) is not kept: the next call tries again.
    /// </summary>
    internal IAmazonS3 S3Client()
    {
        lock (_s3Lock)
        {
            return _s3 ??= S3ClientFactory.Create(Options);
        }
    }

    // A gzip Content-Encoding on a file whose name says nothing of compression; a .gz file so served is one gzip layer.
    private static SourceCompression Encoded(SourceFile file, bool gzipEncoded) =>
        gzipEncoded && file.Compression == SourceCompression.None ? SourceCompression.Gzip : file.Compression;

    internal void OnRetrying(string message) => Retrying?.Invoke(message);

    private static SocketsHttpHandler CreateHandler(SourceOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.ConnectTimeout,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            AllowAutoRedirect = false, // ResumableHttpStream follows them, checking each (see there).
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        };
        if (!options.AllowPrivateNetworks)
        {
            handler.ConnectCallback = new NetworkGuard(options.AllowedNetworks).ConnectAsync;
            handler.UseProxy = false;
        }

        return handler;
    }

    private FileStream OpenLocal(SourceFile file)
    {
        if (!Options.AllowLocalFiles)
        {
            throw new FileErrorException(file.Key, "local files are not allowed for this host (SourceOptions.AllowLocalFiles): give an http(s) URL");
        }

        try
        {
            return new FileStream(file.LocalPath, FileMode.Open, FileAccess.Read, FileShare.Read, Options.BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileErrorException(file.Key, "file not found", ex);
        }
        catch (UnauthorizedAccessException ex) when (Directory.Exists(file.LocalPath))
        {
            throw new FileErrorException(file.Key, "is a folder, not a file: list the files in it as the batch's sources", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new FileErrorException(file.Key, "access denied: check the file's permissions", ex);
        }
        catch (IOException ex)
        {
            throw new FileErrorException(file.Key, $"cannot open the file: {ex.Message}", ex) { IsTransient = true };
        }
    }
}
