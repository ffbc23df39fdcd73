using System.Globalization;

namespace Ingest.Sources;

/// <summary>Delays between attempts: exponential, capped, with jitter so parallel streams do not retry in step.</summary>
internal static class Backoff
{
    /// <summary>
    /// The wait before attempt <paramref name="failures"/> + 1, after that many failures (1 or more). A server's
    /// <c>Retry-After</c> up to <see cref="SourceOptions.MaxRetryAfter"/> is the wait exactly (retrying sooner would only be
    /// refused again); a longer one is not waited: <see cref="RetryWait.TooLong"/> says so and the caller ends the file.
    /// </summary>
    public static RetryWait Delay(SourceOptions options, int failures, TimeSpan? retryAfter = null)
    {
        if (retryAfter is { } asked && asked >= TimeSpan.Zero)
        {
            return new RetryWait(asked, AsServerAsked: true, TooLong: asked > options.MaxRetryAfter);
        }

        return new RetryWait(Delay(options.InitialBackoff, options.MaxBackoff, failures), AsServerAsked: false, TooLong: false);
    }

    /// <summary>The delay after <paramref name="failures"/> failures (1 or more), from <paramref name="initial"/> doubling up to <paramref name="max"/>.</summary>
    public static TimeSpan Delay(TimeSpan initial, TimeSpan max, int failures)
    {
        var exponent = Math.Min(Math.Max(failures, 1) - 1, 30);
        var ceiling = Math.Min(initial.TotalMilliseconds * Math.Pow(2, exponent), max.TotalMilliseconds);

        // "Equal jitter": at least half the step, so the backoff still grows.
        var milliseconds = ceiling / 2 + (Random.Shared.NextDouble() * ceiling / 2);
        return TimeSpan.FromMilliseconds(milliseconds);
    }
}

/// <summary>The wait before another attempt, and whether it is the server's own <c>Retry-After</c>.</summary>
/// <param name="Delay">How long to wait.</param>
/// <param name="AsServerAsked">True when <paramref name="Delay"/> is the server's <c>Retry-After</c>.</param>
/// <param name="TooLong">True when the server asked for more than <see cref="SourceOptions.MaxRetryAfter"/>: the file ends instead.</param>
internal readonly record struct RetryWait(TimeSpan Delay, bool AsServerAsked, bool TooLong)
{
    /// <summary>The end of a retry log line: <c>in 30.0 s, as the server asked (Retry-After)</c>.</summary>
    public string Words => AsServerAsked
        ? string.Create(CultureInfo.InvariantCulture, $"in {Delay.TotalSeconds:0.0} s, as the server asked (Retry-After)")
        : string.Create(CultureInfo.InvariantCulture, $"in {Delay.TotalSeconds:0.0} s");

    /// <summary>The reason of the file error when the server asked to wait longer than Ingest does.</summary>
    public string TooLongReason(string reason, SourceOptions options) => string.Create(
        CultureInfo.InvariantCulture,
        $"{reason}: the server asked to wait {Math.Ceiling(Delay.TotalSeconds):0} s (Retry-After), more than Ingest waits (SourceOptions.MaxRetryAfter, {options.MaxRetryAfter.TotalSeconds:0.###} s); running the import again later resumes it");
}
