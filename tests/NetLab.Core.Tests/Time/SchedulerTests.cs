using CsCheck;
using NetLab.Core.Time;

namespace NetLab.Core.Tests.Time;

public class SchedulerTests
{
    private static SimTime At(double seconds) => SimTime.Zero + SimDuration.FromSeconds(seconds);

    [Fact]
    public void EventsAtTheSameInstant_RunFirstInFirstOut()
    {
        var s = new Scheduler();
        var log = new List<int>();
        for (int i = 0; i < 10; i++)
        {
            int id = i;
            // Alternate the three ways of arming: order must follow arming, not the API used.
            switch (i % 3)
            {
                case 0: s.At(At(1), () => log.Add(id)); break;
                case 1: s.After(SimDuration.FromSeconds(1), () => log.Add(id)); break;
                default: new SimTimer(s, () => log.Add(id)).Arm(At(1)); break;
            }
        }
        s.RunUntilIdle();
        Assert.Equal(Enumerable.Range(0, 10), log);
        Assert.Equal(At(1), s.Now);
    }

    [Fact]
    public void ReArm_MovesTheTimerEarlier_AndItFiresOnce()
    {
        var s = new Scheduler();
        var fired = new List<SimTime>();
        var t = new SimTimer(s, () => fired.Add(s.Now));
        t.Arm(At(10));
        t.Arm(At(2));
        Assert.Equal(1, s.Pending);
        Assert.Equal(At(2), t.Deadline);
        s.RunUntilIdle();
        Assert.Equal([At(2)], fired);
        Assert.False(t.IsArmed);
    }

    [Fact]
    public void ReArm_MovesTheTimerLater_BehindAnEventItUsedToPrecede()
    {
        var s = new Scheduler();
        var log = new List<(string, SimTime)>();
        var t = new SimTimer(s, () => log.Add(("t", s.Now)));
        t.Arm(At(2));
        s.At(At(5), () => log.Add(("other", s.Now)));
        t.Arm(At(10));
        s.RunUntilIdle();
        Assert.Equal([("other", At(5)), ("t", At(10))], log);
    }

    [Fact]
    public void ReArm_AtTheSameInstant_GoesBehindEventsArmedBefore()
    {
        // The key is (time, sequence) and re-arming takes a new sequence number (ns-3's uid).
        var s = new Scheduler();
        var log = new List<string>();
        var a = new SimTimer(s, () => log.Add("a"));
        var b = new SimTimer(s, () => log.Add("b"));
        a.Arm(At(1));
        b.Arm(At(1));
        a.Arm(At(1));
        s.RunUntilIdle();
        Assert.Equal(["b", "a"], log);
    }

    [Fact]
    public void Cancel_PreventsFiring_AndIsIdempotent()
    {
        var s = new Scheduler();
        int fired = 0;
        var t = new SimTimer(s, () => fired++);
        t.Arm(At(1));
        t.Cancel();
        t.Cancel();
        Assert.False(t.IsArmed);
        Assert.Equal(0, s.Pending);
        s.RunUntilIdle();
        Assert.Equal(0, fired);
        // A cancelled timer can be armed again.
        t.Arm(At(3));
        s.RunUntilIdle();
        Assert.Equal(1, fired);
        Assert.Equal(At(3), s.Now);
        t.Cancel(); // cancelling a timer that already fired is a no-op
        Assert.Equal(0, s.Pending);
    }

    [Fact]
    public void Cancel_FromAnEarlierCallbackAtTheSameInstant_PreventsTheLaterOne()
    {
        var s = new Scheduler();
        var log = new List<string>();
        var victim = new SimTimer(s, () => log.Add("victim"));
        s.At(At(1), () => { log.Add("killer"); victim.Cancel(); });
        victim.Arm(At(1));
        s.RunUntilIdle();
        Assert.Equal(["killer"], log);
    }

    [Fact]
    public void Cancel_OfAMiddleHeapEntry_KeepsTheRestInOrder()
    {
        var s = new Scheduler();
        var log = new List<int>();
        var timers = Enumerable.Range(0, 50).Select(i => new SimTimer(s, () => log.Add(i))).ToArray();
        for (int i = 0; i < timers.Length; i++) timers[i].Arm(At((i * 37) % 50));
        for (int i = 0; i < timers.Length; i += 3) timers[i].Cancel();
        s.RunUntilIdle();
        var expected = Enumerable.Range(0, 50).Where(i => i % 3 != 0).OrderBy(i => (i * 37) % 50);
        Assert.Equal(expected, log);
    }

    [Fact]
    public void ATimerArmedInThePast_FiresAtNow()
    {
        var s = new Scheduler();
        s.RunUntil(At(5));
        var fired = new List<SimTime>();
        var t = new SimTimer(s, () => fired.Add(s.Now));
        t.Arm(At(1));
        Assert.Equal(At(5), t.Deadline);
        s.At(At(2), () => fired.Add(s.Now));
        s.After(SimDuration.FromSeconds(-3), () => fired.Add(s.Now));
        t.ArmAfter(SimDuration.FromSeconds(-1));
        s.RunUntilIdle();
        Assert.Equal([At(5), At(5), At(5)], fired);
        Assert.Equal(At(5), s.Now);
    }

    [Fact]
    public void RunUntil_LeavesNowAtTheEndTime_AndLaterEventsPending()
    {
        var s = new Scheduler();
        var fired = new List<SimTime>();
        s.At(At(1), () => fired.Add(s.Now));
        s.At(At(3), () => fired.Add(s.Now));
        s.At(At(7), () => fired.Add(s.Now));
        s.RunUntil(At(3));
        Assert.Equal([At(1), At(3)], fired);
        Assert.Equal(At(3), s.Now);
        s.RunUntil(At(5));
        Assert.Equal(At(5), s.Now);
        Assert.Equal(1, s.Pending);
        s.RunUntil(At(4)); // the clock never runs backwards
        Assert.Equal(At(5), s.Now);
        s.RunFor(SimDuration.FromSeconds(2));
        Assert.Equal([At(1), At(3), At(7)], fired);
        Assert.Equal(At(7), s.Now);
    }

    [Fact]
    public void RunUntil_OnAnEmptyQueue_StillAdvancesTheClock()
    {
        var s = new Scheduler();
        s.RunUntil(At(3));
        Assert.Equal(At(3), s.Now);
        Assert.Equal(0, s.Dispatched);
    }

    [Fact]
    public void RunUntilIdle_StopsTheClockAtTheLastEvent()
    {
        var s = new Scheduler();
        s.At(At(2), () => { });
        s.RunUntilIdle();
        Assert.Equal(At(2), s.Now);
        s.At(At(9), () => { });
        s.RunUntilIdle(At(4));
        Assert.Equal(At(4), s.Now);
        Assert.Equal(1, s.Pending);
    }

    [Fact]
    public void Step_RunsExactlyOneDueEvent_AndNeverPassesTheLimit()
    {
        var s = new Scheduler();
        Assert.False(s.Step(SimTime.MaxValue));
        var log = new List<int>();
        s.At(At(1), () => log.Add(1));
        s.At(At(1), () => log.Add(2));
        s.At(At(2), () => log.Add(3));
        Assert.False(s.Step(At(0.5)));
        Assert.Equal(SimTime.Zero, s.Now);
        Assert.True(s.Step(At(10)));
        Assert.Equal([1], log);
        Assert.Equal(At(1), s.Now);
        Assert.Equal(1, s.Dispatched);
        Assert.True(s.Step(At(1)));
        Assert.False(s.Step(At(1.5)));
        Assert.Equal(At(1), s.Now); // Step does not move the clock to the limit
        Assert.True(s.Step(At(2)));
        Assert.Equal([1, 2, 3], log);
        Assert.Equal(3, s.Dispatched);
    }

    [Fact]
    public void Post_RunsAtTheCurrentInstant_AfterEverythingAlreadyDueNow()
    {
        var s = new Scheduler();
        var log = new List<(string, SimTime)>();
        s.At(At(1), () =>
        {
            log.Add(("a", s.Now));
            s.Post(state => log.Add(((string)state!, s.Now)), "posted-by-a");
        });
        s.At(At(1), () => log.Add(("b", s.Now)));
        s.At(At(2), () => log.Add(("c", s.Now)));
        s.RunUntilIdle();
        Assert.Equal([("a", At(1)), ("b", At(1)), ("posted-by-a", At(1)), ("c", At(2))], log);
    }

    [Fact]
    public void Post_ReusesPooledEntries_AcrossManyPosts()
    {
        var s = new Scheduler();
        int n = 0;
        void Again(object? _) { if (++n < 1000) s.Post(Again, null); }
        s.Post(Again, null);
        s.RunUntilIdle();
        Assert.Equal(1000, n);
        Assert.Equal(SimTime.Zero, s.Now);
        Assert.Equal(1000, s.Dispatched);
    }

    [Fact]
    public void ATimer_ReArmedFromItsOwnCallback_IsPeriodic()
    {
        var s = new Scheduler();
        var fired = new List<SimTime>();
        SimTimer? t = null;
        t = new SimTimer(s, () => { fired.Add(s.Now); if (fired.Count < 4) t!.ArmAfter(SimDuration.FromMilliseconds(250)); });
        t.Arm(At(1));
        s.RunUntilIdle();
        Assert.Equal([At(1), At(1.25), At(1.5), At(1.75)], fired);
    }

    [Fact]
    public void ArmNoLaterThan_OnlyMovesTheDeadlineEarlier()
    {
        var s = new Scheduler();
        var t = new SimTimer(s, () => { });
        t.ArmNoLaterThan(At(5));
        Assert.Equal(At(5), t.Deadline);
        t.ArmNoLaterThan(At(8));
        Assert.Equal(At(5), t.Deadline);
        t.ArmNoLaterThan(At(3));
        Assert.Equal(At(3), t.Deadline);
    }

    [Fact]
    public void ManyTimers_BeyondTheInitialHeapCapacity_FireInOrder()
    {
        var s = new Scheduler();
        var rng = new Core.Randomness.RandomStreams(7).Stream("scheduler-test");
        var due = Enumerable.Range(0, 3000).Select(_ => (long)rng.Next(1_000)).ToArray();
        var fired = new List<(long Due, int Id)>();
        for (int i = 0; i < due.Length; i++)
        {
            int id = i;
            s.At(new SimTime(due[i]), () => fired.Add((s.Now.Nanoseconds, id)));
        }
        Assert.Equal(3000, s.Pending);
        s.RunUntilIdle();
        Assert.Equal(Enumerable.Range(0, 3000).OrderBy(i => due[i]).ThenBy(i => i).Select(i => (due[i], i)), fired);
    }

    // ---- Property: the heap behaves exactly like a sorted list keyed by (due, arm sequence). ----

    private enum OpKind { Arm, Cancel, RunUntil, Step }

    private readonly record struct Op(OpKind Kind, int Timer, long Time);

    private static readonly Gen<Op> GenOp = Gen.Frequency(
        (5, Gen.Select(Gen.Int[0, 7], Gen.Long[0, 40], (t, at) => new Op(OpKind.Arm, t, at))),
        (2, Gen.Int[0, 7].Select(t => new Op(OpKind.Cancel, t, 0))),
        (2, Gen.Long[0, 40].Select(at => new Op(OpKind.RunUntil, 0, at))),
        (1, Gen.Long[0, 40].Select(at => new Op(OpKind.Step, 0, at))));

    [Fact]
    public void RandomInterleavings_OfArmReArmCancel_FireLikeASortedListModel()
    {
        GenOp.Array[0, 60].Sample(ops =>
        {
            var s = new Scheduler();
            var actual = new List<(int Timer, long At)>();
            var timers = Enumerable.Range(0, 8).Select(i => new SimTimer(s, () => actual.Add((i, s.Now.Nanoseconds)))).ToArray();

            // Reference model: at most one entry per timer, ordered by (due, sequence).
            var model = new List<(long Due, long Seq, int Timer)>();
            var expected = new List<(int Timer, long At)>();
            long now = 0, seq = 0;
            void FireModel(long limit, bool once)
            {
                while (model.Count > 0)
                {
                    var next = model.OrderBy(e => e.Due).ThenBy(e => e.Seq).First();
                    if (next.Due > limit) break;
                    model.Remove(next);
                    now = next.Due;
                    expected.Add((next.Timer, now));
                    if (once) break;
                }
            }

            foreach (var op in ops)
            {
                switch (op.Kind)
                {
                    case OpKind.Arm:
                        timers[op.Timer].Arm(new SimTime(op.Time));
                        model.RemoveAll(e => e.Timer == op.Timer);
                        model.Add((Math.Max(now, op.Time), seq++, op.Timer));
                        break;
                    case OpKind.Cancel:
                        timers[op.Timer].Cancel();
                        model.RemoveAll(e => e.Timer == op.Timer);
                        break;
                    case OpKind.RunUntil:
                        s.RunUntil(new SimTime(op.Time));
                        FireModel(op.Time, once: false);
                        now = Math.Max(now, op.Time);
                        break;
                    case OpKind.Step:
                        s.Step(new SimTime(op.Time));
                        FireModel(op.Time, once: true);
                        break;
                }
                Assert.Equal(now, s.Now.Nanoseconds);
                Assert.Equal(model.Count, s.Pending);
                foreach (var e in model) Assert.Equal(e.Due, timers[e.Timer].Deadline.Nanoseconds);
            }
            s.RunUntilIdle();
            FireModel(long.MaxValue, once: false);
            Assert.Equal(expected, actual);
            Assert.All(timers, t => Assert.False(t.IsArmed));
        }, iter: 2000);
    }
}
