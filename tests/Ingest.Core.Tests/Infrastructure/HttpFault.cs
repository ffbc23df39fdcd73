namespace Ingest.Core.Tests.Infrastructure;

/// <summary>How <see cref="LoopbackHttpServer"/> misbehaves for one path. The defaults serve the file cleanly.</summary>
public sealed record HttpFault
{
    /// <summary>Answer the first N requests with <see cref="FailStatus"/> and no body.</summary>
    public int FailFirst { get; init; }

    /// <summary>The status of the failed requests (503, 500, 429...). Default 503.</summary>
    public int FailStatus { get; init; } = 503;

    /// <summary>A Retry-After (seconds) sent with the failed requests.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>Abort the connection after this many body bytes (of each response) ...</summary>
    public long? DropAfterBytes { get; init; }

    /// <summary>... for the first N responses that send a body. Default 1.</summary>
    public int DropFirst { get; init; } = 1;

    /// <summary>Send this many body bytes, then nothing until the client gives up ...</summary>
    public long? StallAfterBytes { get; init; }

    /// <summary>... for the first N responses that send a body. Default 1.</summary>
    public int StallFirst { get; init; } = 1;

    /// <summary>A slow body: pause this long between chunks of <see cref="ChunkSize"/> bytes.</summary>
    public TimeSpan ChunkDelay { get; init; }

    /// <summary>The size of the chunks the body is written in. Default 16 KiB.</summary>
    public int ChunkSize { get; init; } = 16 * 1024;

    /// <summary>Honour <c>Range</c> (and <c>If-Range</c> against the ETag) and send Accept-Ranges. Default true.</summary>
    public bool SupportsRange { get; init; } = true;

    /// <summary>Send a strong ETag and a Last-Modified. Default true.</summary>
    public bool SendValidators { get; init; } = true;

    /// <summary>
    /// A server (or cache) that answers a range of another version of the file: it ignores If-Range and sends this
    /// ETag with its 206 answers.
    /// </summary>
    public string? RangeOfAnotherVersionETag { get; init; }

    /// <summary>Send the file gzip-compressed with <c>Content-Encoding: gzip</c> (Range offsets then count compressed bytes).</summary>
    public bool GzipEncoded { get; init; }

    /// <summary>The Content-Type header. Default <c>text/csv</c>.</summary>
    public string ContentType { get; init; } = "text/csv";

    /// <summary>Always answer this status (e.g. 403) with an empty body instead of the file.</summary>
    public int? Status { get; init; }
}

/// <summary>One request the server answered.</summary>
/// <param name="Status">The status it answered.</param>
/// <param name="Range">The request's Range header, if any.</param>
/// <param name="IfRange">The request's If-Range header, if any.</param>
/// <param name="Authorization">The request's Authorization header, if any.</param>
/// <param name="Query">The query string, with its <c>?</c>, or empty.</param>
public sealed record HttpServedRequest(int Status, string? Range, string? IfRange, string? Authorization, string Query);
