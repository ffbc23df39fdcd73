namespace Ingest.Status.Tests;

/// <summary>A clock that stands still until moved: lets tests put several entries in one millisecond.</summary>
internal sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    private readonly Lock _gate = new();
    private DateTimeOffset _now = now;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    public void Advance(TimeSpan by)
    {
        lock (_gate)
        {
            _now += by;
        }
    }
}
