using NetLab.Core.Addressing;
using NetLab.Core.Packets;
using NetLab.Stack;
using NetLab.Stack.Link;

namespace NetLab.Drill.Running;

/// <summary>
/// packetdrill's tun device: what the host transmits is handed to <see cref="Transmitted"/> at the instant the qdisc
/// releases it (the script reads it), and the script's inbound packets enter through <see cref="Inject"/>. It is TSO
/// capable, as tun is, so TCP super-segments arrive whole. Like tun_get_user(), it does not check inbound packets
/// against the MTU (scripts inject 10000-byte segments, as GRO would have built).
/// </summary>
internal sealed class TunDevice : NetDevice
{
    public TunDevice(Host host, int ifIndex, MacAddress mac, int mtu)
        : base(host, "tun0", ifIndex, mac, mtu, DeviceFlags.Broadcast | DeviceFlags.Multicast, 500)
    {
        HasCarrier = true;
        Features = NetdevFeatures.Tso;
    }

    /// <summary>Receives every frame the host sends; takes ownership.</summary>
    public Action<Packet>? Transmitted { get; set; }

    public override int MaxMtu => 65535;

    protected override bool CanTransmit => true;

    protected override void StartXmit(Packet frame)
    {
        if (Transmitted is { } sink) sink(frame);
        else frame.Dispose();
    }

    /// <summary>A packet from the script's remote end arrives (tun_get_user → netif_rx). Takes ownership.</summary>
    public void Inject(Packet frame) => ReceiveFromDriver(frame);
}
