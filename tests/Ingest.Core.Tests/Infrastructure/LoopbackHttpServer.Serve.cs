using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Ingest.Core.Tests.Infrastructure;

/// <summary>How <see cref="LoopbackHttpServer"/> answers one request.</summary>
public sealed partial class LoopbackHttpServer
{
    private static readonly TimeSpan DropGrace = TimeSpan.FromMilliseconds(100);

    private async Task ServeAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var path = request.Path.Value ?? "/";
        var served = _served.GetOrAdd(path, static _ => new ConcurrentQueue<HttpServedRequest>());
        if (!_entries.TryGetValue(path, out var entry))
        {
            served.Enqueue(Record(request, StatusCodes.Status404NotFound));
            response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var index = entry.NextRequest();
        var fault = entry.Fault;
        var status = Decide(entry, request, index, out var from);
        served.Enqueue(Record(request, status));
        response.StatusCode = status;
        if (entry.Redirect is { } location)
        {
            response.Headers.Location = location;
            return;
        }

        if (status != StatusCodes.Status200OK && status != StatusCodes.Status206PartialContent)
        {
            if (fault.RetryAfterSeconds is { } seconds && index < fault.FailFirst)
            {
                response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            }

            return;
        }

        var body = entry.Body;
        response.ContentType = fault.ContentType;
        response.ContentLength = body.Length - from;
        if (fault.GzipEncoded)
        {
            response.Headers.ContentEncoding = "gzip";
        }

        if (fault.SupportsRange)
        {
            response.Headers.AcceptRanges = "bytes";
        }

        if (fault.SendValidators)
        {
            response.Headers.ETag = status == StatusCodes.Status206PartialContent && fault.RangeOfAnotherVersionETag is { } other ? other : entry.ETag;
            response.Headers.LastModified = LastModified.ToString("R", CultureInfo.InvariantCulture);
        }

        if (status == StatusCodes.Status206PartialContent)
        {
            response.Headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes {from}-{body.Length - 1}/{body.Length}");
        }

        await WriteBodyAsync(context, entry, from);
    }

    private static int Decide(Entry entry, HttpRequest request, int index, out long from)
    {
        from = 0;
        var fault = entry.Fault;
        if (entry.Redirect is not null)
        {
            return StatusCodes.Status302Found;
        }

        if (fault.Status is { } fixedStatus)
        {
            return fixedStatus;
        }

        if (index < fault.FailFirst)
        {
            return fault.FailStatus;
        }

        var range = Header(request, HeaderNames.Range);
        if (!fault.SupportsRange || range is null || !range.StartsWith("bytes=", StringComparison.Ordinal))
        {
            return StatusCodes.Status200OK;
        }

        // If-Range names the version the client holds: another version gets the whole file.
        var ifRange = Header(request, HeaderNames.IfRange);
        var lastModified = LastModified.ToString("R", CultureInfo.InvariantCulture);
        if (ifRange is not null && fault.RangeOfAnotherVersionETag is null && (!fault.SendValidators || (ifRange != entry.ETag && ifRange != lastModified)))
        {
            return StatusCodes.Status200OK;
        }

        var spec = range["bytes=".Length..];
        var dash = spec.IndexOf('-', StringComparison.Ordinal);
        if (dash <= 0 || !long.TryParse(spec.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out from))
        {
            from = 0;
            return StatusCodes.Status200OK;
        }

        if (from >= entry.Body.Length)
        {
            from = 0;
            return StatusCodes.Status416RangeNotSatisfiable;
        }

        return StatusCodes.Status206PartialContent;
    }

    private async Task WriteBodyAsync(HttpContext context, Entry entry, long from)
    {
        var fault = entry.Fault;
        var bodyIndex = entry.NextBody();
        long? dropAt = fault.DropAfterBytes is { } drop && bodyIndex < fault.DropFirst ? drop : null;
        long? stallAt = fault.StallAfterBytes is { } stall && bodyIndex < fault.StallFirst ? stall : null;
        using var aborted = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        var body = entry.Body.AsMemory((int)from);
        var sent = 0;
        try
        {
            while (sent < body.Length)
            {
                var limit = Math.Min(dropAt ?? long.MaxValue, stallAt ?? long.MaxValue);
                var count = (int)Math.Min(Math.Min(fault.ChunkSize, body.Length - sent), Math.Max(0, limit - sent));
                if (count > 0)
                {
                    await context.Response.Body.WriteAsync(body.Slice(sent, count), aborted.Token);
                    await context.Response.Body.FlushAsync(aborted.Token);
                    sent += count;
                }

                if (sent >= dropAt)
                {
                    // Abort drops output the transport has not sent yet: give the flushed bytes time to
                    // leave, so the client really holds the first K bytes when the connection breaks.
                    await Task.Delay(DropGrace, aborted.Token);
                    context.Abort();
                    return;
                }

                if (sent >= stallAt)
                {
                    await Task.Delay(Timeout.Infinite, aborted.Token);
                }

                if (fault.ChunkDelay > TimeSpan.Zero)
                {
                    await Task.Delay(fault.ChunkDelay, aborted.Token);
                }
            }
        }
        catch (OperationCanceledException)
        {
            context.Abort(); // the client went away (or the server stops): nothing more to send
        }
    }

    private static HttpServedRequest Record(HttpRequest request, int status) => new(
        status, Header(request, HeaderNames.Range), Header(request, HeaderNames.IfRange), Header(request, HeaderNames.Authorization), request.QueryString.Value ?? string.Empty);

    private static string? Header(HttpRequest request, string name) =>
        request.Headers.TryGetValue(name, out var values) ? values.ToString() : null;
}
