namespace NetLab.Core.Time;

/// <summary>
/// A re-armable timer on a <see cref="Scheduler"/>, like Linux's timer_list: one object per
/// timer kind per owner, armed and cancelled in O(log n) without allocating.
/// </summary>
public sealed class SimTimer
{
    private readonly Scheduler _scheduler;
    private Action? _callback;
    // One-shot posts from the SynchronizationContext reuse pooled timers with these instead.
    internal SendOrPostCallback? PostCallback;
    internal object? PostState;

    internal long Due;
    // The sequence number of the heap node that is this timer's live arming; -1 when not armed.
    // Older nodes of a re-armed or cancelled timer stay in the heap and are skipped (lazy deletion).
    internal long ArmedSequence = -1;

    public SimTimer(Scheduler scheduler, Action callback)
    {
        _scheduler = scheduler;
        _callback = callback;
    }

    internal SimTimer(Scheduler scheduler) => _scheduler = scheduler;

    public bool IsArmed => ArmedSequence >= 0;

    /// <summary>When the timer fires, if armed.</summary>
    public SimTime Deadline => new(Due);

    /// <summary>Arms (or re-arms) the timer to fire at <paramref name="at"/>; a time in the past fires at once.</summary>
    public void Arm(SimTime at) => _scheduler.Arm(this, at.Nanoseconds);

    public void ArmAfter(SimDuration delay) => _scheduler.Arm(this, _scheduler.Now.Nanoseconds + delay.Nanoseconds);

    /// <summary>Arms only if not armed or if <paramref name="at"/> is earlier than the current deadline.</summary>
    public void ArmNoLaterThan(SimTime at)
    {
        if (!IsArmed || at.Nanoseconds < Due) Arm(at);
    }

    public void Cancel() => _scheduler.Cancel(this);

    internal void SetCallback(Action callback) => _callback = callback;

    internal void Fire()
    {
        if (_callback is not null) { _callback(); return; }
        var cb = PostCallback!;
        var state = PostState;
        PostCallback = null;
        PostState = null;
        _scheduler.ReturnPosted(this);
        cb(state);
    }
}
