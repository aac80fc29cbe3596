using NetLab.Core.Addressing;
using NetLab.Core.Packets;

namespace NetLab.Stack.Link;

/// <summary>
/// An Ethernet NIC whose TX ring holds one frame: it sends when the wire is idle, so queueing
/// happens in the qdisc, as with BQL-limited Linux drivers.
/// </summary>
public sealed class EthernetDevice : NetDevice, IWireEnd
{
    /// <summary>Linux's ether_setup(): txqueuelen 1000 (DEFAULT_TX_QUEUE_LEN).</summary>
    public const int DefaultTxQueueLen = 1000;

    private IWire? _wire;

    public EthernetDevice(Host host, string name, int ifIndex, MacAddress mac, int mtu = 1500)
        : base(host, name, ifIndex, mac, mtu, DeviceFlags.Broadcast | DeviceFlags.Multicast, DefaultTxQueueLen) { }

    public IWire? Wire => _wire;

    /// <summary>Plugs the device into a wire (or unplugs with null).</summary>
    public void Attach(IWire? wire)
    {
        _wire = wire;
        OnCarrierChanged(wire is not null);
    }

    protected override bool CanTransmit => _wire is { IsBusy: false } && HasCarrier;

    protected override void StartXmit(Packet frame)
    {
        // Drivers pad runt frames to the 60-byte minimum (after the taps saw them, as tcpdump shows).
        if (frame.Length < EthernetHeaderView.MinFrameLength)
            frame.Put(EthernetHeaderView.MinFrameLength - frame.Length);
        _wire!.Transmit(frame);
    }

    public void AttachWire(IWire wire, int mtu)
    {
        Mtu = mtu;
        Attach(wire);
    }

    public void OnWireIdle() => RunQueue();

    public void OnCarrierChanged(bool up)
    {
        HasCarrier = up && _wire is not null;
        if (HasCarrier) RunQueue();
    }

    public void OnFrameReceived(Packet frame)
    {
        // A frame longer than MTU + header is dropped by the receiving driver (veth: is_skb_forwardable).
        if (frame.Length > Mtu + EthernetHeaderView.Length)
        {
            Stats.RxLengthErrors++;
            Stats.RxErrors++;
            Host.Drop(frame, SkbDropReason.PktTooBig);
            return;
        }
        ReceiveFromDriver(frame);
    }
}
