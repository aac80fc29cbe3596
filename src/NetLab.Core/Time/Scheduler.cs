namespace NetLab.Core.Time;

/// <summary>
/// The event loop of one world: a min-heap of timer nodes keyed by (time, sequence), so events due at
/// the same instant run first in, first out and a run is a pure function of its inputs (CONVENTIONS
/// rule 5). Arming pushes a node; cancelling or re-arming only marks the old node stale (O(1)), and
/// stale nodes are dropped when they reach the top or compacted away when they outnumber live ones.
/// Single-threaded: only the loop's own thread may touch it. In real time (a TAP attachment) NetLab.Real's
/// RealTimeLoop drives it, paced to the wall clock, and I/O threads reach it only through that loop's inbox.
/// </summary>
public sealed class Scheduler
{
    // A 4-ary heap with the keys inline: comparisons never dereference a timer, and the tree is half
    // as deep as a binary heap's.
    private struct Node
    {
        public long Due;
        public long Sequence;
        public SimTimer Timer;
    }

    private const int Arity = 4;
    private const int CompactionFloor = 1024;
    private Node[] _heap = new Node[1024];
    private int _count;
    private int _stale;
    private long _sequence;
    private long _now;
    private readonly Stack<SimTimer> _postPool = new();

    public Scheduler()
    {
        TimeProvider = new VirtualTimeProvider(this);
        SynchronizationContext = new SchedulerSynchronizationContext(this);
    }

    public SimTime Now => new(_now);

    /// <summary>Events still to run.</summary>
    public int Pending => _count - _stale;

    /// <summary>Events dispatched since the world began.</summary>
    public long Dispatched { get; private set; }

    public TimeProvider TimeProvider { get; }

    public SynchronizationContext SynchronizationContext { get; }

    /// <summary>Runs <paramref name="action"/> after <paramref name="delay"/> (allocates: not for per-packet work).</summary>
    public SimTimer After(SimDuration delay, Action action)
    {
        var t = new SimTimer(this, action);
        Arm(t, _now + Math.Max(0, delay.Nanoseconds));
        return t;
    }

    /// <summary>Runs <paramref name="action"/> at <paramref name="at"/> (allocates: not for per-packet work).</summary>
    public SimTimer At(SimTime at, Action action)
    {
        var t = new SimTimer(this, action);
        Arm(t, Math.Max(_now, at.Nanoseconds));
        return t;
    }

    /// <summary>Queues a callback at the current instant, after everything already due now.</summary>
    public void Post(SendOrPostCallback callback, object? state)
    {
        var t = _postPool.Count > 0 ? _postPool.Pop() : new SimTimer(this);
        t.PostCallback = callback;
        t.PostState = state;
        Arm(t, _now);
    }

    internal void ReturnPosted(SimTimer t) => _postPool.Push(t);

    internal void Arm(SimTimer t, long due)
    {
        if (due < _now) due = _now;
        if (t.ArmedSequence >= 0) _stale++;
        long sequence = _sequence++;
        t.Due = due;
        t.ArmedSequence = sequence;
        if (_count == _heap.Length) Array.Resize(ref _heap, _count * 2);
        int i = _count++;
        _heap[i] = new Node { Due = due, Sequence = sequence, Timer = t };
        SiftUp(i);
        if (_stale > CompactionFloor && _stale > _count / 2) Compact();
    }

    internal void Cancel(SimTimer t)
    {
        if (t.ArmedSequence < 0) return;
        t.ArmedSequence = -1;
        _stale++;
        if (_stale > CompactionFloor && _stale > _count / 2) Compact();
    }

    /// <summary>Runs one event if any is due at or before <paramref name="limit"/>.</summary>
    public bool Step(SimTime limit)
    {
        while (_count > 0)
        {
            ref var root = ref _heap[0];
            var t = root.Timer;
            if (t.ArmedSequence != root.Sequence)
            {
                RemoveRoot();
                _stale--;
                continue;
            }
            if (root.Due > limit.Nanoseconds) return false;
            RemoveRoot();
            t.ArmedSequence = -1;
            _now = t.Due;
            Dispatched++;
            t.Fire();
            return true;
        }
        return false;
    }

    /// <summary>
    /// When the earliest live event is due, if any: the real-time loop (NetLab.Real) sleeps until then.
    /// Stale nodes on top are dropped on the way, as <see cref="Step"/> drops them.
    /// </summary>
    public bool TryPeekNextDue(out SimTime due)
    {
        while (_count > 0)
        {
            ref var root = ref _heap[0];
            if (root.Timer.ArmedSequence != root.Sequence)
            {
                RemoveRoot();
                _stale--;
                continue;
            }
            due = new(root.Due);
            return true;
        }
        due = default;
        return false;
    }

    /// <summary>Runs every event due up to <paramref name="end"/>, then sets the clock to it.</summary>
    public void RunUntil(SimTime end)
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(SynchronizationContext);
        try
        {
            while (Step(end)) { }
            if (end.Nanoseconds > _now && end != SimTime.MaxValue) _now = end.Nanoseconds;
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    public void RunFor(SimDuration d) => RunUntil(Now + d);

    /// <summary>Runs until no event is left (or <paramref name="limit"/>): for tests.</summary>
    public void RunUntilIdle(SimTime? limit = null) => RunUntil(limit ?? SimTime.MaxValue);

    /// <summary>Runs the loop until <paramref name="task"/> completes; throws if the world goes idle first.</summary>
    public T Run<T>(Task<T> task, SimTime? limit = null)
    {
        RunUntilTaskDone(task, limit ?? SimTime.MaxValue);
        return task.GetAwaiter().GetResult();
    }

    public void Run(Task task, SimTime? limit = null)
    {
        RunUntilTaskDone(task, limit ?? SimTime.MaxValue);
        task.GetAwaiter().GetResult();
    }

    private void RunUntilTaskDone(Task task, SimTime limit)
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(SynchronizationContext);
        try
        {
            while (!task.IsCompleted && Step(limit)) { }
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
        if (!task.IsCompleted)
            throw new InvalidOperationException($"The world went idle at {Now}s before the task completed.");
    }

    private void RemoveRoot()
    {
        _count--;
        if (_count > 0)
        {
            _heap[0] = _heap[_count];
            SiftDown(0);
        }
        _heap[_count] = default;
    }

    /// <summary>Drops every stale node and rebuilds the heap bottom-up: O(n), amortised O(1) per cancel.</summary>
    private void Compact()
    {
        int live = 0;
        for (int i = 0; i < _count; i++)
        {
            if (_heap[i].Timer.ArmedSequence == _heap[i].Sequence) _heap[live++] = _heap[i];
        }
        Array.Clear(_heap, live, _count - live);
        _count = live;
        _stale = 0;
        for (int i = (_count - 2) / Arity; i >= 0; i--) SiftDown(i);
    }

    private static bool Less(in Node a, in Node b) =>
        a.Due < b.Due || (a.Due == b.Due && a.Sequence < b.Sequence);

    private void SiftUp(int i)
    {
        var item = _heap[i];
        while (i > 0)
        {
            int parent = (i - 1) / Arity;
            if (!Less(item, _heap[parent])) break;
            _heap[i] = _heap[parent];
            i = parent;
        }
        _heap[i] = item;
    }

    private void SiftDown(int i)
    {
        var item = _heap[i];
        while (true)
        {
            int first = i * Arity + 1;
            if (first >= _count) break;
            int best = first;
            int last = Math.Min(first + Arity, _count);
            for (int c = first + 1; c < last; c++)
                if (Less(_heap[c], _heap[best])) best = c;
            if (!Less(_heap[best], item)) break;
            _heap[i] = _heap[best];
            i = best;
        }
        _heap[i] = item;
    }
}
