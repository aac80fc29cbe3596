using NetLab.Core.Addressing;
using NetLab.Core.Packets;

namespace NetLab.Stack.Link;

[Flags]
public enum DeviceFlags
{
    None = 0,
    Up = 1,
    Broadcast = 2,
    Loopback = 8,
    PointToPoint = 16,
    NoArp = 128,
    Promisc = 256,
    Multicast = 4096,
}

/// <summary>
/// netdev_features_t bits NetLab models. Every device does software GSO (NETIF_F_GSO is on by default in
/// Linux), so TCP always builds super-segments of up to <see cref="NetDevice.GsoMaxSize"/> bytes; a device
/// with <see cref="Tso"/> takes them whole (a TSO NIC, or packetdrill's tun), any other device gets them
/// cut into MSS-sized frames after the qdisc (validate_xmit_skb → skb_gso_segment), so its taps and its wire
/// see ordinary segments.
/// </summary>
[Flags]
public enum NetdevFeatures
{
    None = 0,
    /// <summary>NETIF_F_TSO: the device segments TCP super-segments itself.</summary>
    Tso = 1,
}

/// <summary>Counters with the names of struct rtnl_link_stats64 (ip -s link, ethtool -S).</summary>
public sealed class DeviceStats
{
    public long RxPackets, TxPackets, RxBytes, TxBytes, RxErrors, TxErrors, RxDropped, TxDropped, Multicast,
        Collisions, RxLengthErrors, RxOverErrors, RxCrcErrors, RxFrameErrors, RxFifoErrors, RxMissedErrors,
        TxAbortedErrors, TxCarrierErrors, TxFifoErrors, TxHeartbeatErrors, TxWindowErrors, RxNohandler;
}

/// <summary>
/// A network interface (struct net_device): name, ifindex, MAC, MTU, flags, a transmit queue,
/// and the receive hook into its host. Frames handed to <see cref="Xmit"/> carry their link header.
/// </summary>
public abstract class NetDevice
{
    private readonly List<IPacketTap> _taps = [];
    private readonly Queue<Packet> _gsoSegments = new();
    private long _gsoBytes;

    protected NetDevice(Host host, string name, int ifIndex, MacAddress mac, int mtu, DeviceFlags flags, int txQueueLen)
    {
        Host = host;
        Name = name;
        IfIndex = ifIndex;
        Mac = mac;
        Mtu = mtu;
        Flags = flags;
        Qdisc = new PfifoQueue(txQueueLen);
    }

    public Host Host { get; }
    public string Name { get; }
    public int IfIndex { get; }
    public MacAddress Mac { get; set; }
    public int Mtu { get; set; }
    /// <summary>The largest MTU the device accepts (ip link set mtu checks it).</summary>
    public virtual int MaxMtu => 9000;
    public DeviceFlags Flags { get; protected set; }
    /// <summary>dev->features (ethtool -k).</summary>
    public NetdevFeatures Features { get; set; }
    /// <summary>dev->gso_max_size: GSO_LEGACY_MAX_SIZE, the largest super-segment TCP builds for this device.</summary>
    public int GsoMaxSize { get; set; } = 65536;
    /// <summary>dev->gso_max_segs: GSO_MAX_SEGS.</summary>
    public int GsoMaxSegs { get; set; } = 65535;
    public DeviceStats Stats { get; } = new();

    /// <summary>The device's root qdisc (pfifo with txqueuelen until the tc issue lands).</summary>
    public PfifoQueue Qdisc { get; }
    public int TxQueueLen { get => Qdisc.Limit; set => Qdisc.Limit = value; }

    /// <summary>Bytes waiting below the stack: the qdisc's backlog and segments of a GSO packet not yet on the wire.</summary>
    public long TxBacklogBytes => Qdisc.Stats.BacklogBytes + _gsoBytes;

    public bool IsUp => (Flags & DeviceFlags.Up) != 0;
    /// <summary>Carrier (LOWER_UP): a cable with a live far end.</summary>
    public bool HasCarrier { get; protected set; }
    /// <summary>
    /// Operational state as ip link prints it (IF_OPER_*): UP only when administratively up with
    /// carrier. lo never reports an operstate (its driver does not call netif_carrier_on/off through
    /// linkwatch), so Linux shows it as UNKNOWN.
    /// </summary>
    public string OperState => !IsUp ? "DOWN" : IsLoopback ? "UNKNOWN" : HasCarrier ? "UP" : "DOWN";
    public bool IsLoopback => (Flags & DeviceFlags.Loopback) != 0;
    public bool NoArp => (Flags & DeviceFlags.NoArp) != 0;

    public void AddTap(IPacketTap tap) => _taps.Add(tap);
    public void RemoveTap(IPacketTap tap) => _taps.Remove(tap);

    /// <summary>ip link set DEV up / down.</summary>
    public void SetUp(bool up)
    {
        if (up == IsUp) return;
        Flags = up ? Flags | DeviceFlags.Up : Flags & ~DeviceFlags.Up;
        if (!up)
        {
            Qdisc.Purge();
            while (_gsoSegments.TryDequeue(out var seg)) seg.Dispose();
            _gsoBytes = 0;
        }
        Host.OnDeviceStateChanged(this);
    }

    /// <summary>
    /// dev_queue_xmit(): enqueue a link-layer frame on the qdisc and kick the driver. Takes ownership.
    /// Returns false for NET_XMIT_DROP, a frame the full qdisc refused: TCP then keeps the segment unsent
    /// and reduces cwnd (tcp_enter_cwr). A device down or without carrier drops in noop_qdisc, which
    /// reports NET_XMIT_CN; NetLab reports it as sent.
    /// </summary>
    public bool Xmit(Packet frame)
    {
        if (!IsUp)
        {
            Stats.TxDropped++;
            Host.Drop(frame, SkbDropReason.Dev);
            return true;
        }
        if (!HasCarrier)
        {
            // Without carrier Linux swaps the qdisc for noop_qdisc (dev_deactivate), which drops everything.
            Stats.TxDropped++;
            Host.Drop(frame, SkbDropReason.Qdisc);
            return true;
        }
        if (!Qdisc.TryEnqueue(frame))
        {
            Host.Drop(frame, SkbDropReason.Qdisc);
            return false;
        }
        RunQueue();
        return true;
    }

    /// <summary>
    /// qdisc_run(): hand queued frames to the driver while it can take them. A GSO packet is cut into wire frames
    /// first (validate_xmit_skb) unless the device does TSO; the frames not yet taken wait in the driver's list,
    /// as the rest of a segment list does after a busy ring (dev_requeue_skb).
    /// </summary>
    protected void RunQueue()
    {
        while (CanTransmit)
        {
            Packet? frame;
            if (_gsoSegments.Count > 0)
            {
                frame = _gsoSegments.Dequeue();
                _gsoBytes -= frame.Length;
            }
            else if ((frame = Qdisc.Dequeue()) is null) break;
            else if (frame.GsoSize > 0)
            {
                if ((Features & NetdevFeatures.Tso) == 0)
                {
                    _gsoBytes += Gso.Segment(frame, Host.Pool, _gsoSegments);
                    continue;
                }
                Gso.CompleteChecksum(frame);
            }
            DeliverToTaps(TapDirection.Transmitted, frame);
            Stats.TxPackets++;
            Stats.TxBytes += frame.Length;
            StartXmit(frame);
        }
    }

    /// <summary>Whether the driver's TX ring has room (netif_queue_stopped inverted).</summary>
    protected abstract bool CanTransmit { get; }

    /// <summary>ndo_start_xmit: put the frame on the medium. Takes ownership.</summary>
    protected abstract void StartXmit(Packet frame);

    /// <summary>The driver received a frame: count it, show it to taps, pass it up (netif_receive_skb). Takes ownership.</summary>
    protected void ReceiveFromDriver(Packet frame)
    {
        if (!IsUp)
        {
            frame.Dispose();
            return;
        }
        frame.IngressIfIndex = IfIndex;
        frame.Timestamp = Host.Scheduler.Now.Nanoseconds;
        Stats.RxPackets++;
        Stats.RxBytes += frame.Length;
        DeliverToTaps(TapDirection.Received, frame);
        Host.NetifReceive(this, frame);
    }

    private void DeliverToTaps(TapDirection direction, Packet frame)
    {
        for (int i = 0; i < _taps.Count; i++)
            _taps[i].OnFrame(this, direction, frame.Data, Host.Scheduler.Now.Nanoseconds);
    }

    public override string ToString() => Name;
}
