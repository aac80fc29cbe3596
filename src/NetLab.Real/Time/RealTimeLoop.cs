using System.Collections.Concurrent;
using System.Diagnostics;
using NetLab.Core.Time;
using NetLab.Real.Native;

namespace NetLab.Real.Time;

/// <summary>
/// Runs a <see cref="Scheduler"/> in real time: virtual time advances with the wall clock (monotonic,
/// from the moment <see cref="Run"/> starts), every event runs when the wall clock reaches its deadline,
/// and other threads (a TAP reader, signal handlers) hand work to the loop through a thread-safe inbox.
/// The loop sleeps in ppoll() on an eventfd until the next deadline or until something is posted; the
/// scheduler itself is unchanged, so deterministic runs pay nothing for this mode.
/// </summary>
public sealed class RealTimeLoop : IDisposable
{
    private readonly record struct WorkItem(SendOrPostCallback Callback, object? State);

    private readonly ConcurrentQueue<WorkItem> _inbox = new();
    private readonly int _eventFd;
    // With no timer pending the loop still wakes once a second: cheap, and robust to a lost wake-up.
    private const long NoTimerSleepNs = 1_000_000_000;
    private int _signalled;
    private volatile bool _stopping;
    private long _wallStart;
    private long _virtualStart;

    public RealTimeLoop(Scheduler scheduler)
    {
        Scheduler = scheduler;
        _eventFd = Libc.eventfd(0, Libc.EfdNonBlock | Libc.EfdCloExec);
        if (_eventFd < 0) throw new IOException($"eventfd: {Libc.Describe(Libc.Errno)}");
    }

    public Scheduler Scheduler { get; }

    /// <summary>How late due events ran (the loop's wake-up latency plus the work ahead of them).</summary>
    public TimerJitter Jitter { get; } = new();

    /// <summary>
    /// Unix time (ns) of virtual instant zero, fixed when <see cref="Run"/> starts: captures made in real
    /// time carry wall-clock timestamps, so they line up with the kernel's own tcpdump.
    /// </summary>
    public long UnixNsAtVirtualZero { get; private set; }

    /// <summary>Work items taken from the inbox.</summary>
    public long InboxItems { get; private set; }

    /// <summary>
    /// Queues <paramref name="callback"/> to run on the loop at the virtual instant the loop picks it up.
    /// Safe from any thread; allocation-free when the callback is cached.
    /// </summary>
    public void Post(SendOrPostCallback callback, object? state)
    {
        _inbox.Enqueue(new WorkItem(callback, state));
        Wake();
    }

    /// <summary>Makes <see cref="Run"/> return after the work it is doing now. Safe from any thread.</summary>
    public void Stop()
    {
        _stopping = true;
        Wake();
    }

    /// <summary>Runs events in real time on the calling thread until <see cref="Stop"/>.</summary>
    public void Run()
    {
        // Timer slack (default 50 µs) delays every sleep of this thread; 1 ns asks hrtimers for the deadline itself.
        Libc.prctl(Libc.PrSetTimerSlack, 1, 0, 0, 0);
        _wallStart = Stopwatch.GetTimestamp();
        _virtualStart = Scheduler.Now.Nanoseconds;
        UnixNsAtVirtualZero = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100 - _virtualStart;
        while (!_stopping)
        {
            long now = VirtualNow();
            if (Scheduler.TryPeekNextDue(out var due) && due.Nanoseconds <= now)
                Jitter.Record(now - due.Nanoseconds);
            // Timers due by now first, so that I/O picked up below is stamped with the current time.
            Scheduler.RunUntil(new SimTime(now));
            Volatile.Write(ref _signalled, 0);
            bool posted = false;
            while (_inbox.TryDequeue(out var item))
            {
                Scheduler.Post(item.Callback, item.State);
                InboxItems++;
                posted = true;
            }
            if (posted)
            {
                Scheduler.RunUntil(new SimTime(now));
                continue;
            }
            if (_stopping) break;
            if (!Scheduler.TryPeekNextDue(out due)) Sleep(NoTimerSleepNs);
            else if (due.Nanoseconds - VirtualNow() is var waitNs and > 0) Sleep(waitNs);
        }
    }

    /// <summary>Virtual time now: where the scheduler started plus the monotonic wall time since.</summary>
    public long VirtualNow()
    {
        long ticks = Stopwatch.GetTimestamp() - _wallStart;
        // Linux's Stopwatch counts CLOCK_MONOTONIC nanoseconds (Frequency 10^9): no conversion, no rounding.
        return _virtualStart + (Stopwatch.Frequency == 1_000_000_000 ? ticks : (long)(ticks * (1e9 / Stopwatch.Frequency)));
    }

    private void Wake()
    {
        // One eventfd write per sleep, not per item: the loop clears _signalled before it drains the inbox.
        if (Interlocked.Exchange(ref _signalled, 1) == 0)
        {
            Span<byte> one = stackalloc byte[8];
            BitConverter.TryWriteBytes(one, 1L);
            Libc.write(_eventFd, ref one[0], 8);
        }
    }

    /// <summary>Sleeps until the eventfd is written or <paramref name="timeoutNs"/> passes.</summary>
    private void Sleep(long timeoutNs)
    {
        var pfd = new Libc.PollFd { Fd = _eventFd, Events = Libc.PollIn };
        var ts = new Libc.Timespec { Seconds = timeoutNs / 1_000_000_000, Nanoseconds = timeoutNs % 1_000_000_000 };
        if (Libc.ppoll(ref pfd, 1, ref ts, 0) > 0)
        {
            Span<byte> drain = stackalloc byte[8];
            Libc.read(_eventFd, ref drain[0], 8);
        }
    }

    public void Dispose() => Libc.close(_eventFd);
}
