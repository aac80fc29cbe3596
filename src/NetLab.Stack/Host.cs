using NetLab.Core.Addressing;
using NetLab.Core.Counters;
using NetLab.Core.Packets;
using NetLab.Core.Randomness;
using NetLab.Core.Sysctl;
using NetLab.Core.Time;
using NetLab.Stack.Icmp;
using NetLab.Stack.IPv4;
using NetLab.Stack.Link;
using NetLab.Stack.Neighbour;
using NetLab.Stack.Tcp;
using NetLab.Stack.Udp;

namespace NetLab.Stack;

/// <summary>
/// One network namespace: devices, addresses, neighbour table, routes, sockets, sysctls and
/// counters. Routers are hosts with net.ipv4.ip_forward=1.
/// </summary>
public sealed class Host
{
    private readonly List<NetDevice> _devices = [];
    private readonly Dictionary<int, NetDevice> _byIndex = [];
    private readonly Dictionary<SkbDropReason, long> _drops = [];
    private int _nextIfIndex = 1;
    private int _lastPid = 1000;

    public Host(string name, Scheduler scheduler, RandomStreams random, PacketPool pool)
    {
        Name = name;
        Scheduler = scheduler;
        Random = random;
        Pool = pool;
        Sysctl = new SysctlTree();
        Sysctl.Register("net.core.", Core);
        Sysctl.Register("net.ipv4.", Ipv4Sysctl);
        Sysctl.Register("net.ipv4.", TcpSysctl);
        Sysctl.Register("net.ipv4.neigh.default.", NeighTable);
        Sysctl.Register("net.ipv4.neigh.default.", DefaultNeighParms);
        Sysctl.Register("net.ipv4.conf.all.", AllConf);
        Sysctl.Register("net.ipv4.conf.default.", DefaultConf);
        Ipv4 = new Ipv4Layer(this);
        Ipv4Sysctl.ForwardingChanged += v =>
        {
            AllConf.Forwarding = v;
            DefaultConf.Forwarding = v;
            foreach (var d in _devices) Ipv4.DevConf(d).Forwarding = v;
        };
        Neighbours = new NeighbourTable(this);
        Icmp = new IcmpLayer(this);
        Udp = new UdpLayer(this);
        Tcp = new TcpLayer(this);

        Loopback = new LoopbackDevice(this, _nextIfIndex++);
        AddDevice(Loopback);
        Loopback.SetUp(true);
        Ipv4.AddAddress(Loopback, new Ipv4Prefix(Ipv4Address.Loopback, 8));
    }

    public string Name { get; }
    public Scheduler Scheduler { get; }
    public RandomStreams Random { get; }
    public PacketPool Pool { get; }
    public SimTime Now => Scheduler.Now;

    public SysctlTree Sysctl { get; }
    public NetCoreSysctls Core { get; } = new();
    public Ipv4Sysctls Ipv4Sysctl { get; } = new();
    public NeighTableSysctls NeighTable { get; } = new();
    public NeighParms DefaultNeighParms { get; } = new();
    public Ipv4DevConf AllConf { get; } = new();
    public Ipv4DevConf DefaultConf { get; } = new();
    public TcpSysctls TcpSysctl { get; } = new();

    public Ipv4Layer Ipv4 { get; }
    public NeighbourTable Neighbours { get; }
    public IcmpLayer Icmp { get; }
    public UdpLayer Udp { get; }
    public TcpLayer Tcp { get; }
    public LoopbackDevice Loopback { get; }

    public MibCounters<IpMib> IpStats { get; } = new("Ip");
    public MibCounters<IpExtMib> IpExtStats { get; } = new("IpExt");
    public MibCounters<IcmpMib> IcmpStats { get; } = new("Icmp");
    public MibCounters<UdpMib> UdpStats { get; } = new("Udp");
    public MibCounters<TcpMib> TcpStats { get; } = new("Tcp");
    public MibCounters<TcpExtMib> TcpExtStats { get; } = new("TcpExt");
    /// <summary>IcmpMsg: InType/OutType per ICMP type, as /proc/net/snmp prints the non-zero ones.</summary>
    public long[] IcmpInTypes { get; } = new long[256];
    public long[] IcmpOutTypes { get; } = new long[256];

    public IReadOnlyList<NetDevice> Devices => _devices;

    /// <summary>Packets dropped per reason (the drop monitor's view).</summary>
    public IReadOnlyDictionary<SkbDropReason, long> Drops => _drops;

    /// <summary>Creates an Ethernet device (down, as a new Linux netdev is) with a random local MAC.</summary>
    public EthernetDevice AddEthernet(string name, MacAddress? mac = null, int mtu = 1500)
    {
        if (FindDevice(name) is not null) throw new ArgumentException($"RTNETLINK answers: File exists ({name})");
        var dev = new EthernetDevice(this, name, _nextIfIndex++,
            mac ?? MacAddress.Random(Random.Stream($"{Name}/{name}/mac")), mtu);
        AddDevice(dev);
        return dev;
    }

    /// <summary>
    /// Adds a device whose driver lives outside NetLab.Stack (packetdrill's tun in NetLab.Drill): <paramref name="create"/>
    /// builds it with the next ifindex.
    /// </summary>
    public T AddDevice<T>(Func<int, T> create) where T : NetDevice
    {
        var dev = create(_nextIfIndex++);
        if (FindDevice(dev.Name) is not null) throw new ArgumentException($"RTNETLINK answers: File exists ({dev.Name})");
        AddDevice(dev);
        return dev;
    }

    private void AddDevice(NetDevice dev)
    {
        _devices.Add(dev);
        _byIndex[dev.IfIndex] = dev;
        var parms = new NeighParms();
        var conf = new Ipv4DevConf { Forwarding = DefaultConf.Forwarding };
        Ipv4.RegisterDevice(dev, conf);
        Neighbours.RegisterDevice(dev, parms);
        Sysctl.Register($"net.ipv4.conf.{dev.Name}.", conf);
        Sysctl.Register($"net.ipv4.neigh.{dev.Name}.", parms);
    }

    public NetDevice? FindDevice(string name)
    {
        foreach (var d in _devices) if (d.Name == name) return d;
        return null;
    }

    public NetDevice? DeviceByIndex(int ifIndex) => _byIndex.GetValueOrDefault(ifIndex);

    /// <summary>Called by a device when it goes up or down (NETDEV_UP / NETDEV_DOWN notifiers).</summary>
    internal void OnDeviceStateChanged(NetDevice dev)
    {
        Ipv4.OnDeviceStateChanged(dev);
        Neighbours.OnDeviceStateChanged(dev);
    }

    /// <summary>
    /// __netif_receive_skb(): classify by destination MAC (eth_type_trans) and hand to the
    /// protocol handler. Takes ownership.
    /// </summary>
    internal void NetifReceive(NetDevice dev, Packet frame)
    {
        if (!EthernetRepr.TryParse(frame.Data, out var eth))
        {
            dev.Stats.RxLengthErrors++;
            dev.Stats.RxErrors++;
            Drop(frame, SkbDropReason.PktTooSmall);
            return;
        }
        if (frame.PacketType != PacketType.Loopback)
        {
            frame.PacketType = eth.Destination == dev.Mac ? PacketType.Host
                : eth.Destination.IsBroadcast ? PacketType.Broadcast
                : eth.Destination.IsMulticast ? PacketType.Multicast
                : PacketType.OtherHost;
        }
        if (frame.PacketType == PacketType.Multicast) dev.Stats.Multicast++;
        frame.Protocol = eth.EtherType;
        frame.Pull(EthernetHeaderView.Length);
        frame.NetworkOffset = frame.DataOffset;
        switch (eth.EtherType)
        {
            case EtherType.Ipv4:
                Ipv4.Rcv(dev, frame);
                break;
            case EtherType.Arp:
                Neighbours.ArpRcv(dev, frame);
                break;
            default:
                dev.Stats.RxNohandler++;
                Drop(frame, SkbDropReason.UnhandledProto);
                break;
        }
    }

    /// <summary>kfree_skb_reason(): count the drop under its Linux reason and return the packet to the pool.</summary>
    public void Drop(Packet p, SkbDropReason reason)
    {
        _drops[reason] = _drops.GetValueOrDefault(reason) + 1;
        p.Dispose();
    }

    /// <summary>
    /// A process id for a program run on this host (tools, apps): unique per host, ascending, as
    /// a fresh pid namespace hands them out after its boot-time processes.
    /// </summary>
    public int AllocatePid() => ++_lastPid;

    private readonly List<(SimTime Time, string Line)> _kernelLog = [];

    /// <summary>The kernel log (dmesg): lines the stack prints, with their virtual time.</summary>
    public IReadOnlyList<(SimTime Time, string Line)> KernelLogLines => _kernelLog;

    /// <summary>printk(): one kernel log line.</summary>
    public void KernelLog(string line)
    {
        _kernelLog.Add((Now, line));
    }

    /// <summary>A named random stream belonging to this host.</summary>
    public RandomStream RandomStream(string purpose) => Random.Stream($"{Name}/{purpose}");

    public override string ToString() => Name;
}
