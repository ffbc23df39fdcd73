using System.Globalization;

namespace Ingest.Sources.S3;

/// <summary>
/// The attempts at one S3 request (a listing page, an object's body): counts failures, reports each retry through
/// <see cref="SourceOpener.Retrying"/> in the words http sources use, waits the backoff, and gives up after
/// <see cref="SourceOptions.MaxAttempts"/>. Real progress (<see cref="ReadProgressWatch"/>) starts the count again.
/// </summary>
internal sealed class S3Attempts(SourceOpener opener, string name, Func<string, Exception> giveUp)
{
    private int _failures;

    /// <summary>The request made real progress: a later fault starts a fresh count.</summary>
    public void Progress() => _failures = 0;

    /// <summary>Counts a failure; throws <c>giveUp</c>'s exception when the attempts ran out, else reports the retry and waits.</summary>
    public async Task FailedAsync(string reason, long position, CancellationToken cancellationToken)
    {
        _failures++;
        var max = opener.Options.MaxAttempts;
        if (_failures >= max)
        {
            throw giveUp(string.Create(CultureInfo.InvariantCulture, $"gave up after {max} attempts: {reason}"));
        }

        // No Retry-After here: the SDK's exceptions do not carry the answer's headers, and S3 throttles with SlowDown, not with one.
        var wait = Backoff.Delay(opener.Options, _failures);
        var from = position > 0 ? string.Create(CultureInfo.InvariantCulture, $" from byte {position}") : string.Empty;
        opener.OnRetrying(string.Create(
            CultureInfo.InvariantCulture,
            $"Retrying {name}{from} (attempt {_failures + 1} of {max}) after {reason} {wait.Words}"));
        await Task.Delay(wait.Delay, cancellationToken).ConfigureAwait(false);
    }
}
