using System.Runtime.CompilerServices;
using NetLab.Core.Time;
using NetLab.Stack.Link;

namespace NetLab.Stack.Tcp;

/// <summary>
/// TCP Small Queues (tcp_output.c: tcp_small_queue_check, tcp_wfree, tcp_tsq_workfn) for one egress device. A socket
/// that finds more than its limit of bytes waiting below TCP stops sending and is queued here; when the device hands
/// a frame to its driver — the moment the previous one finished (Linux's TX completion, tcp_wfree) — the throttled
/// sockets are run again from a deferred event, as Linux runs them from its TSQ work (never from inside the device's
/// queue run). NetLab does not account bytes per socket below TCP (no skb destructor), so the device's qdisc backlog
/// stands for sk_wmem_alloc: exact for one flow per device, conservative when several share it.
/// </summary>
internal sealed class TcpSmallQueues : IPacketTap
{
    private static readonly ConditionalWeakTable<NetDevice, TcpSmallQueues> ByDevice = new();

    private readonly NetDevice _device;
    private readonly Scheduler _scheduler;
    private readonly SimTimer _work;
    private List<TcpSocket> _throttled = [];
    private List<TcpSocket> _running = [];
    private long _resumeAt; // the largest limit among the throttled sockets: run them once the backlog is down to it

    private TcpSmallQueues(NetDevice device, Scheduler scheduler)
    {
        _device = device;
        _scheduler = scheduler;
        _work = new SimTimer(scheduler, Run);
        device.AddTap(this);
    }

    public static TcpSmallQueues For(NetDevice device, Scheduler scheduler)
    {
        if (!ByDevice.TryGetValue(device, out var tsq))
        {
            tsq = new TcpSmallQueues(device, scheduler);
            ByDevice.Add(device, tsq);
        }
        return tsq;
    }

    /// <summary>Bytes waiting in the device's qdisc and driver list (sk_wmem_alloc of the sockets using it).</summary>
    public long Backlog => _device.TxBacklogBytes;

    /// <summary>
    /// TSQ_THROTTLED: run <paramref name="s"/> again after the transmit completion that brings the backlog down to
    /// its <paramref name="limit"/>. Linux runs a throttled socket at each completion of one of its skbs and the
    /// socket re-checks its limit; completions that leave the backlog above every throttled socket's limit would
    /// only throttle them again, so they are skipped.
    /// </summary>
    public void Throttle(TcpSocket s, long limit)
    {
        _resumeAt = Math.Max(_resumeAt, limit);
        if (s.TsqQueued) return;
        s.TsqQueued = true;
        _throttled.Add(s);
    }

    public void OnFrame(NetDevice device, TapDirection direction, ReadOnlySpan<byte> frame, long timestampNs)
    {
        if (direction == TapDirection.Transmitted && _throttled.Count > 0 && !_work.IsArmed && Backlog <= _resumeAt)
            _work.Arm(_scheduler.Now);
    }

    /// <summary>tcp_tsq_workfn(): each throttled socket writes again (tcp_tsq_write).</summary>
    private void Run()
    {
        (_running, _throttled) = (_throttled, _running);
        _resumeAt = 0;
        foreach (var s in _running)
        {
            s.TsqQueued = false;
            s.TsqWrite();
        }
        _running.Clear();
    }
}
