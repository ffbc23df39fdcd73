using Npgsql;

namespace Ingest.Benchmarks.Throughput;

/// <summary>
/// Samples what the server's COPY backends are doing while a load runs (<c>pg_stat_activity</c>'s wait
/// event, or on CPU when there is none), so a run says whether the client or the server is the limit:
/// <c>Client:ClientRead</c> means a backend waits for the loader; a lock or IO wait means the server is
/// the limit. The sampler's own query runs every few milliseconds on its own connection, which costs the
/// server a little CPU and this process some (it counts in the report's client CPU), so it is on only with
/// <c>--waits</c>.
/// </summary>
internal sealed class WaitSampler : IAsyncDisposable
{
    private const string Query = """
        SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU')
        FROM pg_stat_activity
        WHERE backend_type = 'client backend' AND state = 'active' AND pid <> pg_backend_pid() AND query ILIKE 'COPY %'
        """;

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Dictionary<string, int> _counts;

    private WaitSampler(NpgsqlConnection connection, Dictionary<string, int> counts)
    {
        _counts = counts;
        _loop = Task.Run(() => LoopAsync(connection));
    }

    /// <summary>Starts sampling into <paramref name="counts"/> (event → samples, added to what is there).</summary>
    public static async Task<WaitSampler> StartAsync(BenchDatabase database, Dictionary<string, int> counts) =>
        new(await database.OpenAsync(), counts);

    private async Task LoopAsync(NpgsqlConnection connection)
    {
        await using (connection)
        {
            await using var command = new NpgsqlCommand(Query, connection);
            await command.PrepareAsync();
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    await using var reader = await command.ExecuteReaderAsync();
                    while (await reader.ReadAsync())
                    {
                        var wait = reader.GetString(0);
                        _counts[wait] = _counts.GetValueOrDefault(wait) + 1;
                    }
                }
                catch (NpgsqlException ex)
                {
                    // A sample lost must not fail (or hide the failure of) the load it watches.
                    var key = "sampler error: " + ex.GetType().Name;
                    _counts[key] = _counts.GetValueOrDefault(key) + 1;
                    break;
                }

                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(5), _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    /// <summary>The most frequent waits as "event 41%" parts, largest first.</summary>
    public static string Summary(IReadOnlyDictionary<string, int> counts, int top = 5)
    {
        var total = counts.Values.Sum();
        return total == 0
            ? "no COPY backend seen"
            : string.Join(", ", counts.OrderByDescending(c => c.Value).Take(top)
                .Select(c => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{c.Key} {100.0 * c.Value / total:0}%")))
              + string.Create(System.Globalization.CultureInfo.InvariantCulture, $" ({total} samples)");
    }
}
