using Ingest.Engine.Chunks;

namespace Ingest.Core.Tests.Chunks;

/// <summary>The gate decides once: every chunk of a file commits, or none does.</summary>
public sealed class ChunkGateTests
{
    [Fact]
    public async Task A_stop_while_a_chunk_waits_closes_the_gate_for_the_last_chunk_too_though_it_checked_before_the_stop()
    {
        var gate = new ChunkGate(2);
        using var stop = new CancellationTokenSource();
        var waiting = Task.Run(() => gate.Wait(0, stop.Token));
        await WaitUntilBlockedAsync(waiting);

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);

        // The last chunk passed its own check of the stop before it came: it must not commit alone.
        Assert.ThrowsAny<OperationCanceledException>(() => gate.Wait(1, CancellationToken.None));
        Assert.False(gate.IsOpen);
    }

    [Fact]
    public async Task The_last_chunk_arriving_after_the_stop_closes_the_gate_for_those_waiting()
    {
        var gate = new ChunkGate(3);
        using var stop = new CancellationTokenSource();
        using var live = new CancellationTokenSource();
        var first = Task.Run(() => gate.Wait(0, live.Token)); // its own token not stopped yet: only the gate can tell it
        var second = Task.Run(() => gate.Wait(1, live.Token));
        await WaitUntilBlockedAsync(first);
        await WaitUntilBlockedAsync(second);

        await stop.CancelAsync();
        Assert.ThrowsAny<OperationCanceledException>(() => gate.Wait(2, stop.Token));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);
    }

    [Fact]
    public async Task Every_chunk_passes_once_all_have_copied_and_a_retry_after_that_passes_whatever_comes()
    {
        var gate = new ChunkGate(3);
        using var stop = new CancellationTokenSource();
        var waiting = new[] { Task.Run(() => gate.Wait(0, stop.Token)), Task.Run(() => gate.Wait(1, stop.Token)) };
        await WaitUntilBlockedAsync(waiting[0]);

        gate.Wait(2, stop.Token);
        await Task.WhenAll(waiting);
        Assert.True(gate.IsOpen);

        // Open is final: a chunk tried again (its commit failed) passes, even once the batch is stopping.
        await stop.CancelAsync();
        gate.Wait(1, stop.Token);
    }

    [Fact]
    public void A_chunk_arriving_twice_counts_once()
    {
        var gate = new ChunkGate(2);
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        var second = Task.Run(() => gate.Wait(0, stop.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => gate.Wait(0, stop.Token));
        Assert.ThrowsAny<Exception>(() => second.GetAwaiter().GetResult());
        Assert.False(gate.IsOpen);
    }

    private static async Task WaitUntilBlockedAsync(Task waiter)
    {
        // Gives the waiter time to reach the gate; it must still be waiting then.
        await Task.Delay(100);
        Assert.False(waiter.IsCompleted, waiter.Exception?.ToString());
    }
}
