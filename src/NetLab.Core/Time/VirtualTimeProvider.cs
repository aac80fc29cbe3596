namespace NetLab.Core.Time;

/// <summary>
/// A <see cref="System.TimeProvider"/> over the scheduler's virtual clock, so that plain
/// <c>Task.Delay(d, timeProvider)</c> and <c>WaitAsync(timeout, timeProvider)</c> run in virtual time.
/// </summary>
public sealed class VirtualTimeProvider(Scheduler scheduler) : TimeProvider
{
    /// <summary>The wall-clock date virtual time zero stands for (fixed, so runs are reproducible).</summary>
    public static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => Epoch.AddTicks(scheduler.Now.Nanoseconds / 100);
    public override long TimestampFrequency => 1_000_000_000;
    public override long GetTimestamp() => scheduler.Now.Nanoseconds;
    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        new VirtualTimer(scheduler, callback, state, dueTime, period);

    private sealed class VirtualTimer : ITimer
    {
        private readonly Scheduler _scheduler;
        private readonly SimTimer _timer;
        private readonly TimerCallback _callback;
        private readonly object? _state;
        private TimeSpan _period;

        public VirtualTimer(Scheduler scheduler, TimerCallback callback, object? state, TimeSpan due, TimeSpan period)
        {
            _scheduler = scheduler;
            _callback = callback;
            _state = state;
            _timer = new SimTimer(scheduler, Fire);
            Change(due, period);
        }

        private void Fire()
        {
            if (_period > TimeSpan.Zero && _period != Timeout.InfiniteTimeSpan)
                _timer.ArmAfter(SimDuration.FromTimeSpan(_period));
            _callback(_state);
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            _period = period;
            if (dueTime == Timeout.InfiniteTimeSpan) { _timer.Cancel(); return true; }
            _timer.Arm(_scheduler.Now + SimDuration.FromTimeSpan(dueTime));
            return true;
        }

        public void Dispose() => _timer.Cancel();
        public ValueTask DisposeAsync() { _timer.Cancel(); return ValueTask.CompletedTask; }
    }
}

/// <summary>Posts continuations onto the scheduler at the current virtual instant.</summary>
public sealed class SchedulerSynchronizationContext(Scheduler scheduler) : SynchronizationContext
{
    public override void Post(SendOrPostCallback d, object? state) => scheduler.Post(d, state);
    public override void Send(SendOrPostCallback d, object? state) => d(state);
    public override SynchronizationContext CreateCopy() => this;
}
