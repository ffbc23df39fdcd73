namespace Ingest.Sources;

/// <summary>Delays between attempts: exponential, capped, with jitter so parallel streams do not retry in step.</summary>
internal static class Backoff
{
    /// <summary>The delay before attempt <paramref name="failures"/> + 1, after that many failures (1 or more).</summary>
    public static TimeSpan Delay(SourceOptions options, int failures, TimeSpan? retryAfter = null)
    {
        // A server's own Retry-After wins when it is short; a long one would stall the batch, so it is capped.
        if (retryAfter is { } asked && asked >= TimeSpan.Zero && asked <= options.MaxBackoff)
        {
            return asked;
        }

        return Delay(options.InitialBackoff, options.MaxBackoff, failures);
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
