namespace Ingest.Sources;

/// <summary>
/// Opens the decompressed byte stream of a <see cref="SourceFile"/>: local files from disk, http(s)
/// files streamed (never buffered whole) with retries and mid-body resume. One opener serves a whole
/// batch, so its connections are pooled across files.
/// </summary>
internal sealed class SourceOpener : IDisposable
{
    public const int MaxRedirects = 5;

    private readonly HttpClient _client;

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
        if (!file.IsHttp)
        {
            return GuardedDecompressionStream.Wrap(OpenLocal(file), file, file.Compression, Options);
        }

        var raw = await ResumableHttpStream.OpenAsync(this, file, cancellationToken).ConfigureAwait(false);
        return GuardedDecompressionStream.Wrap(raw, file, Encoded(file, raw.IsGzipEncoded), Options);
    }

    public void Dispose() => _client.Dispose();

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
