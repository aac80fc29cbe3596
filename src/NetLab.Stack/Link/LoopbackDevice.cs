using NetLab.Core.Addressing;
using NetLab.Core.Packets;

namespace NetLab.Stack.Link;

/// <summary>lo: every frame sent comes straight back (loopback_xmit → netif_rx), after the current event.</summary>
public sealed class LoopbackDevice : NetDevice
{
    private readonly Queue<Packet> _backlog = new();
    private readonly Core.Time.SimTimer _rxTimer;

    public LoopbackDevice(Host host, int ifIndex)
        : base(host, "lo", ifIndex, MacAddress.Zero, 65536, DeviceFlags.Loopback, 1000)
    {
        HasCarrier = true;
        _rxTimer = new Core.Time.SimTimer(host.Scheduler, DrainBacklog);
    }

    public override int MaxMtu => 65536;

    protected override bool CanTransmit => true;

    protected override void StartXmit(Packet frame)
    {
        // netif_rx() defers to the softirq: deliver after the sender's current work, at the same instant.
        _backlog.Enqueue(frame);
        if (!_rxTimer.IsArmed) _rxTimer.Arm(Host.Scheduler.Now);
    }

    private void DrainBacklog()
    {
        while (_backlog.TryDequeue(out var frame))
        {
            frame.PacketType = PacketType.Loopback;
            ReceiveFromDriver(frame);
        }
    }
}
