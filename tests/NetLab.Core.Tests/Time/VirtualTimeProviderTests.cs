using NetLab.Core.Time;

namespace NetLab.Core.Tests.Time;

public class VirtualTimeProviderTests
{
    private static SimTime At(double seconds) => SimTime.Zero + SimDuration.FromSeconds(seconds);

    /// <summary>Starts an async method on the loop, so its awaits capture the scheduler's context (as apps on a host do).</summary>
    private static T StartOnLoop<T>(Scheduler s, Func<T> start)
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(s.SynchronizationContext);
        try { return start(); }
        finally { SynchronizationContext.SetSynchronizationContext(previous); }
    }

    [Fact]
    public void TaskDelay_CompletesAtExactlyTheVirtualInstant()
    {
        var s = new Scheduler();
        var task = StartOnLoop(s, async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(5), s.TimeProvider);
            return s.Now;
        });
        Assert.False(task.IsCompleted);
        Assert.Equal(At(5), s.Run(task));
        Assert.Equal(At(5), s.Now);
        Assert.Equal(0, s.Pending);
    }

    [Fact]
    public void TaskDelays_InSequenceAndInParallel_AddUpInVirtualTime()
    {
        var s = new Scheduler();
        var task = StartOnLoop(s, async () =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(1500), s.TimeProvider);
            var afterFirst = s.Now;
            await Task.WhenAll(
                Task.Delay(TimeSpan.FromSeconds(1), s.TimeProvider),
                Task.Delay(TimeSpan.FromSeconds(2), s.TimeProvider));
            return (afterFirst, s.Now);
        });
        Assert.Equal((At(1.5), At(3.5)), s.Run(task));
    }

    [Fact]
    public void Continuations_RunOnTheSchedulersContext_OnTheCallingThread()
    {
        var s = new Scheduler();
        int thread = Environment.CurrentManagedThreadId;
        var task = StartOnLoop(s, async () =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(10), s.TimeProvider);
            var first = (SynchronizationContext.Current, Environment.CurrentManagedThreadId, s.Now);
            await Task.Yield(); // a posted continuation: runs as a loop event at the same instant
            return (first, (SynchronizationContext.Current, Environment.CurrentManagedThreadId, s.Now));
        });
        var (afterDelay, afterYield) = s.Run(task);
        Assert.Equal((s.SynchronizationContext, thread, At(0.01)), afterDelay);
        Assert.Equal((s.SynchronizationContext, thread, At(0.01)), afterYield);
        Assert.Equal(2, s.Dispatched); // the delay's timer, then the posted Yield continuation
    }

    [Fact]
    public void CancellationTokenSource_WithTheProvider_FiresAtTheVirtualInstant()
    {
        var s = new Scheduler();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3), s.TimeProvider);
        SimTime? cancelledAt = null;
        using var registration = cts.Token.Register(() => cancelledAt = s.Now);
        s.RunUntil(At(2.999999999));
        Assert.Null(cancelledAt);
        s.RunUntilIdle();
        Assert.Equal(At(3), cancelledAt);
        Assert.True(cts.IsCancellationRequested);
    }

    [Fact]
    public void TaskDelay_CancelledByAVirtualTimeout_ThrowsAtTheTimeout_AndLeavesNoTimer()
    {
        var s = new Scheduler();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2), s.TimeProvider);
        var task = StartOnLoop(s, () => Task.Delay(TimeSpan.FromSeconds(10), s.TimeProvider, cts.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => s.Run(task));
        Assert.Equal(At(2), s.Now);
        Assert.Equal(0, s.Pending);
    }

    [Fact]
    public void WaitAsync_WithTheProvider_TimesOutInVirtualTime()
    {
        var s = new Scheduler();
        var never = new TaskCompletionSource();
        var task = StartOnLoop(s, () => never.Task.WaitAsync(TimeSpan.FromMilliseconds(750), s.TimeProvider));
        Assert.Throws<TimeoutException>(() => s.Run(task));
        Assert.Equal(At(0.75), s.Now);
    }

    [Fact]
    public void Run_ThrowsWhenTheWorldGoesIdleFirst()
    {
        var s = new Scheduler();
        s.At(At(4), () => { });
        var never = new TaskCompletionSource<int>();
        var e = Assert.Throws<InvalidOperationException>(() => s.Run(never.Task));
        Assert.Equal("The world went idle at 4.000000s before the task completed.", e.Message);
    }

    [Fact]
    public void Clock_ReadsVirtualTime()
    {
        var s = new Scheduler();
        var tp = s.TimeProvider;
        Assert.Equal(VirtualTimeProvider.Epoch, tp.GetUtcNow());
        long start = tp.GetTimestamp();
        s.RunUntil(SimTime.Zero + SimDuration.FromNanoseconds(1_234_567_891));
        Assert.Equal(1_000_000_000, tp.TimestampFrequency);
        Assert.Equal(1_234_567_891, tp.GetTimestamp());
        Assert.Equal(TimeSpan.FromTicks(12_345_678), tp.GetElapsedTime(start));
        Assert.Equal(VirtualTimeProvider.Epoch.AddTicks(12_345_678), tp.GetUtcNow());
        Assert.Equal(TimeZoneInfo.Utc, tp.LocalTimeZone);
    }

    [Fact]
    public void PeriodicTimer_FiresEveryPeriod_UntilDisposed()
    {
        var s = new Scheduler();
        var fired = new List<SimTime>();
        var timer = s.TimeProvider.CreateTimer(_ => fired.Add(s.Now), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
        s.RunUntil(At(6));
        Assert.Equal([At(1), At(3), At(5)], fired);
        timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        s.RunUntil(At(20));
        Assert.Equal(3, fired.Count);
        timer.Change(TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        s.RunUntilIdle();
        Assert.Equal(At(21), fired[^1]);
        timer.Change(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        timer.Dispose();
        s.RunUntilIdle();
        Assert.Equal(4, fired.Count);
        Assert.Equal(0, s.Pending);
    }
}
