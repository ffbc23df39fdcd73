namespace Ingest.Core.Tests.Infrastructure;

/// <summary>
/// Environment variables of this test process set for one test (the AWS chain's, for a host that reads with its own
/// credentials) and put back as they were on dispose. One scope at a time per process: a second waits for the first.
/// <code>
/// using var aws = await EnvironmentScope.SetAsync(("AWS_ACCESS_KEY_ID", key), ("AWS_SECRET_ACCESS_KEY", secret));
/// </code>
/// </summary>
public sealed class EnvironmentScope : IDisposable
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private readonly List<(string Name, string? Value)> _previous = [];
    private bool _disposed;

    private EnvironmentScope()
    {
    }

    /// <summary>Sets each variable (null removes it) once no other scope is open.</summary>
    public static async Task<EnvironmentScope> SetAsync(params (string Name, string? Value)[] variables)
    {
        await Gate.WaitAsync();
        var scope = new EnvironmentScope();
        foreach (var (name, value) in variables)
        {
            scope._previous.Add((name, Environment.GetEnvironmentVariable(name)));
            Environment.SetEnvironmentVariable(name, value);
        }

        return scope;
    }

    /// <summary>Puts every variable back as it was, in reverse order (a name set twice ends as it first was).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        for (var i = _previous.Count - 1; i >= 0; i--)
        {
            Environment.SetEnvironmentVariable(_previous[i].Name, _previous[i].Value);
        }

        Gate.Release();
    }
}
