using NetLab.Core.Time;
using NetLab.Real.Time;

namespace NetLab.Real.Tests;

public class RealTimeLoopTests
{
    /// <summary>Work posted from other threads runs on the loop's thread, in the order posted; Stop from another thread ends Run.</summary>
    [Fact]
    public void PostFromOtherThreads_RunsOnTheLoopInOrder_AndStopEndsRun()
    {
        var scheduler = new Scheduler();
        using var loop = new RealTimeLoop(scheduler);
        var ran = new List<(int Value, int Thread)>();
        int loopThread = Environment.CurrentManagedThreadId;
        var poster = new Thread(() =>
        {
            for (int i = 0; i < 100; i++) loop.Post(s => ran.Add(((int)s!, Environment.CurrentManagedThreadId)), i);
            loop.Post(_ => loop.Stop(), null);
        });
        poster.Start();
        loop.Run();
        poster.Join();
        Assert.Equal(Enumerable.Range(0, 100), ran.Select(r => r.Value));
        Assert.All(ran, r => Assert.Equal(loopThread, r.Thread));
        Assert.Equal(101, loop.InboxItems);
    }

    /// <summary>A timer never fires before its deadline in virtual time, read on the wall-clock-paced virtual clock, and the jitter is recorded.</summary>
    [Fact]
    public void Timers_FireAtTheirDeadline_InOrder_AndJitterIsRecorded()
    {
        var scheduler = new Scheduler();
        using var loop = new RealTimeLoop(scheduler);
        var fired = new List<(int Id, long At)>();
        var deadlines = new[] { 30, 10, 20 }.Select(ms => SimTime.Zero + SimDuration.FromMilliseconds(ms)).ToArray();
        for (int i = 0; i < deadlines.Length; i++)
        {
            int id = i;
            scheduler.At(deadlines[i], () => fired.Add((id, loop.VirtualNow())));
        }
        scheduler.At(deadlines.Max(), () => loop.Stop());
        loop.Run();
        Assert.Equal([1, 2, 0], fired.Select(f => f.Id));
        Assert.All(fired, f => Assert.True(f.At >= deadlines[f.Id].Nanoseconds, $"timer {f.Id} fired at {f.At} ns, before its deadline"));
        Assert.True(loop.Jitter.Count >= 3);
    }

    [Fact]
    public void Jitter_Percentiles_ComeFromTheRecordedLateness()
    {
        var j = new TimerJitter();
        for (int i = 1; i <= 100; i++) j.Record(i * 1000L);   // 1..100 µs
        j.Record(-5);                                        // early never counts as negative
        Assert.Equal(101, j.Count);
        Assert.Equal(51, j.PercentileMicroseconds(0.5));
        Assert.Equal(101, j.PercentileMicroseconds(1.0));
        Assert.Equal(100_000, j.MaxNs);
        Assert.Contains("p99", j.ToString());
    }
}
