using NetLab.Core.Randomness;
using NetLab.Core.Time;
using NetLab.Stack;

namespace NetLab.Tools;

/// <summary>
/// What a running tool sees of its process: the host (network namespace), stdout/stderr, the
/// virtual clock, a pid, and a token that stands for SIGINT or the end of the scenario.
/// </summary>
public sealed class ToolContext
{
    /// <summary>Unix time of virtual time zero, in microseconds (whole seconds, so truncation is unaffected).</summary>
    private static readonly long EpochMicroseconds = VirtualTimeProvider.Epoch.ToUnixTimeMilliseconds() * 1000;

    public ToolContext(Host host, IToolOutput output, CancellationToken cancellationToken, ReadOnlyMemory<byte> stdin = default)
    {
        Host = host;
        Output = output;
        CancellationToken = cancellationToken;
        Stdin = stdin;
        Pid = host.AllocatePid();
    }

    /// <summary>
    /// Standard input: these bytes, then end of file (no input given is /dev/null). A scenario or a
    /// test passes it to <see cref="ToolRunner.RunAsync(Host, string, IToolOutput, CancellationToken, string?)"/>,
    /// or the command line carries it as a here-string (<c>nc 10.0.0.2 7 &lt;&lt;&lt; hello</c>) or an
    /// echo/printf pipe (<c>echo hello | nc 10.0.0.2 7</c>).
    /// </summary>
    public ReadOnlyMemory<byte> Stdin { get; }

    public Host Host { get; }
    public IToolOutput Output { get; }

    /// <summary>Cancelled on SIGINT or when the scenario ends: tools stop and print what they would on ^C.</summary>
    public CancellationToken CancellationToken { get; }

    public int Pid { get; }

    /// <summary>The host's virtual clock, for Task.Delay and timeouts.</summary>
    public TimeProvider TimeProvider => Host.Scheduler.TimeProvider;

    public SimTime Now => Host.Now;

    /// <summary>A random stream private to this process (so two runs of a tool differ, reproducibly).</summary>
    public RandomStream RandomStream(string purpose) => Host.RandomStream($"{purpose}/pid{Pid}");

    /// <summary>gettimeofday() at virtual instant <paramref name="virtualNs"/>: microseconds since the Unix epoch.</summary>
    public static long WallMicroseconds(long virtualNs) => EpochMicroseconds + virtualNs / 1000;

    /// <summary>
    /// clock_gettime(CLOCK_MONOTONIC) at virtual instant <paramref name="virtualNs"/>, in ns. It counts
    /// from boot, which came before the world started, so it is never 0 (tools read 0 as "unset").
    /// </summary>
    public static long MonotonicNs(long virtualNs) => virtualNs + UptimeAtWorldStartNs;

    private const long UptimeAtWorldStartNs = 1_000_000_000;

    /// <summary>The longest delay a .NET timer (and so a CancellationTokenSource) accepts.</summary>
    public static readonly TimeSpan MaxTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    /// <summary>
    /// Waits until <paramref name="wait"/> completes (true), <paramref name="timeoutNs"/> passes or
    /// <paramref name="interrupt"/> fires (false): a poll() with a timeout. Negative waits forever.
    /// </summary>
    public async Task<bool> WaitAsync(Func<CancellationToken, Task> wait, long timeoutNs, CancellationToken interrupt)
    {
        if (interrupt.IsCancellationRequested) return false;
        // Round up to the TimeProvider's 100 ns ticks: waking before the deadline would make callers spin.
        // Timers stop at about 49 days; the callers' loops simply wait again after such a wake-up.
        var delay = timeoutNs < 0 ? Timeout.InfiniteTimeSpan
            : TimeSpan.FromTicks(Math.Min((timeoutNs + 99) / 100, MaxTimer.Ticks));
        using var timeout = new CancellationTokenSource(delay, TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, interrupt);
        try
        {
            await wait(linked.Token);
            return true;
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            return false;
        }
    }
}
