using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ingest.Hosting.Tests;

/// <summary>An <see cref="ILoggerProvider"/> that keeps every entry with the scope values active when it was written.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public ConcurrentQueue<Entry> Entries { get; } = new();

    /// <summary>A container logging to this provider at every level, with Ingest on <paramref name="connectionString"/> and <paramref name="engine"/>.</summary>
    public ServiceProvider BuildIngest(string connectionString, IngestOptions engine) => new ServiceCollection()
        .AddLogging(b => b.AddProvider(this).SetMinimumLevel(LogLevel.Trace))
        .AddIngest(o =>
        {
            o.ConnectionString = connectionString;
            o.Engine = engine;
            o.WatchInterval = TimeSpan.FromMilliseconds(20);
        })
        .BuildServiceProvider();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    public sealed record Entry(string Category, LogLevel Level, string Message, IReadOnlyDictionary<string, object?> Scope);

    private sealed class Logger(CapturingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => provider._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var scope = new Dictionary<string, object?>();
            provider._scopes.ForEachScope(
                (value, into) =>
                {
                    if (value is IEnumerable<KeyValuePair<string, object?>> pairs)
                    {
                        foreach (var (key, item) in pairs)
                        {
                            into[key] = item;
                        }
                    }
                },
                scope);
            provider.Entries.Enqueue(new Entry(category, logLevel, formatter(state, exception), scope));
        }
    }
}
