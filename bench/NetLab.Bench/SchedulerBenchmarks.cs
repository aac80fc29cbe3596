using BenchmarkDotNet.Attributes;
using NetLab.Core.Time;

namespace NetLab.Bench;

/// <summary>
/// Event throughput with 1000 timers pending: each dispatched event re-arms itself a random
/// distance ahead, and every fourth one also cancels and re-arms another timer (the TCP pattern
/// of a retransmit timer pushed back by ACKs).
/// </summary>
[MemoryDiagnoser]
public class SchedulerBenchmarks
{
    private const int Pending = 1000;
    private Scheduler _scheduler = null!;
    private SimTimer[] _timers = null!;
    private uint _rng = 12345;
    private long _fired;

    [GlobalSetup]
    public void Setup()
    {
        _scheduler = new Scheduler();
        _timers = new SimTimer[Pending];
        for (int i = 0; i < Pending; i++)
        {
            int index = i;
            _timers[i] = new SimTimer(_scheduler, () => OnFire(index));
            _timers[i].Arm(new SimTime(Next() % 1_000_000));
        }
    }

    private uint Next()
    {
        _rng ^= _rng << 13; _rng ^= _rng >> 17; _rng ^= _rng << 5;
        return _rng;
    }

    private void OnFire(int index)
    {
        _fired++;
        _timers[index].ArmAfter(new SimDuration(1 + Next() % 1_000_000));
        if ((_fired & 3) == 0)
        {
            var other = _timers[Next() % Pending];
            other.Cancel();
            other.ArmAfter(new SimDuration(1 + Next() % 1_000_000));
        }
    }

    /// <summary>One million events per invocation: divide the mean time by 10^6 for ns/event.</summary>
    [Benchmark(OperationsPerInvoke = 1_000_000)]
    public long DispatchRearmCancel()
    {
        long target = _scheduler.Dispatched + 1_000_000;
        while (_scheduler.Dispatched < target) _scheduler.Step(SimTime.MaxValue);
        return _fired;
    }
}
