namespace Ingest.Status.Tests.Recorders;

public sealed class InMemoryStatusRecorderTests : StatusRecorderContract
{
    private InMemoryStatusRecorder? _last;

    protected override Task<IStatusRecorder> CreateStoreAsync(TimeProvider? time)
    {
        _last = new InMemoryStatusRecorder(time);
        return Task.FromResult<IStatusRecorder>(_last);
    }

    // The in-memory store is the recorder itself: "another process" can only be another caller of it.
    protected override IStatusRecorder OpenSameStore() =>
        _last ?? throw new InvalidOperationException("Create a store first.");
}
