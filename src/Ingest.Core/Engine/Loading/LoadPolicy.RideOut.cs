namespace Ingest.Engine.Loading;

internal sealed partial class LoadPolicy
{
    /// <summary>
    /// Runs a step that needs the database outside of a file's attempts (a run's start and end, a queue worker's
    /// start-up) by the rule of <see cref="Retries"/>: a database restarting, failing over or out of connection slots
    /// (<c>53300</c>) is ridden out for <see cref="IngestOptions.DatabaseOutageTolerance"/>, as the streams ride it out,
    /// and <paramref name="announce"/> hears once that it is. Past the tolerance, the step's own exception is thrown.
    /// </summary>
    public async Task<T> RideOutAsync<T>(Func<Task<T>> step, Action<string>? announce, CancellationToken cancellationToken)
    {
        long? outageSince = null;
        var announced = false;
        for (var attempt = 1; ; attempt++)
        {
            TimeSpan delay;
            try
            {
                return await step().ConfigureAwait(false);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && Retries(ex, attempt, ref outageSince, out delay, out _))
            {
                if (!announced && announce is not null && IsDatabaseUnavailable(ex))
                {
                    announced = true;
                    announce($"The database is out of reach ({Describe(ex)}): trying again for up to {options.DatabaseOutageTolerance.TotalSeconds:0} s");
                }
            }

            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc cref="RideOutAsync{T}"/>
    public Task RideOutAsync(Func<Task> step, Action<string>? announce, CancellationToken cancellationToken) =>
        RideOutAsync(
            async () =>
            {
                await step().ConfigureAwait(false);
                return true;
            },
            announce,
            cancellationToken);
}
