using NetLab.Core.Randomness;
using NetLab.Core.Time;

namespace NetLab.Core.Tests.Time;

/// <summary>Lazy deletion: re-armed and cancelled timers leave stale heap nodes that must never fire.</summary>
public class SchedulerCompactionTests
{
    [Fact]
    public void ManyRearmsAndCancels_FireEachLiveTimerOnceAtItsLastDeadline_InOrder()
    {
        var s = new Scheduler();
        var rng = new RandomStreams(7).Stream("t");
        var fired = new List<(int Id, long At)>();
        var timers = new SimTimer[3000];
        var deadline = new long[timers.Length];
        for (int i = 0; i < timers.Length; i++)
        {
            int id = i;
            timers[i] = new SimTimer(s, () => fired.Add((id, s.Now.Nanoseconds)));
        }
        // Ten rounds of re-arming every timer (27,000 stale nodes, several compactions), then cancel a third.
        for (int round = 0; round < 10; round++)
            for (int i = 0; i < timers.Length; i++)
            {
                deadline[i] = 1 + rng.Next(1_000_000);
                timers[i].Arm(new SimTime(deadline[i]));
            }
        for (int i = 0; i < timers.Length; i += 3) timers[i].Cancel();
        Assert.Equal(2000, s.Pending);

        s.RunUntilIdle();

        Assert.Equal(2000, fired.Count);
        Assert.Equal(2000, fired.Select(f => f.Id).Distinct().Count());
        Assert.All(fired, f => Assert.True(f.Id % 3 != 0 && f.At == deadline[f.Id]));
        Assert.Equal(fired.OrderBy(f => f.At).Select(f => f.Id), fired.Select(f => f.Id)); // time order kept
        Assert.Equal(0, s.Pending);
        Assert.All(timers, t => Assert.False(t.IsArmed));
    }

    [Fact]
    public void RearmedTimer_AtTheSameInstant_RunsAfterTimersArmedBeforeTheRearm()
    {
        var s = new Scheduler();
        var order = new List<string>();
        var a = new SimTimer(s, () => order.Add("a"));
        var b = new SimTimer(s, () => order.Add("b"));
        a.Arm(new SimTime(10));
        b.Arm(new SimTime(10));
        a.Arm(new SimTime(10)); // re-arming takes a new sequence number: a now runs after b
        s.RunUntilIdle();
        Assert.Equal(["b", "a"], order);
    }
}
