using NetLab.Core.Addressing;
using NetLab.Core.Packets;
using NetLab.Stack.Icmp;
using NetLab.Stack.Link;
using NetLab.Stack.Sockets;

namespace NetLab.Stack.IPv4;

/// <summary>
/// A host's IPv4: addresses, the local and main FIB tables, the PMTU cache, and the receive,
/// forward and output paths of net/ipv4/ip_input.c, ip_forward.c and ip_output.c.
/// </summary>
public sealed class Ipv4Layer
{
    private readonly Host _host;
    private readonly Dictionary<NetDevice, Ipv4DevConf> _conf = [];
    private readonly List<InetAddress> _addresses = [];
    private readonly Dictionary<uint, PmtuException> _pmtu = [];
    private readonly ushort[] _idents = new ushort[2048];
    private readonly List<RawSocket> _rawSockets = [];

    /// <summary>A learned path MTU (struct fib_nh_exception).</summary>
    public readonly record struct PmtuException(int Mtu, long ExpiresNs, bool Locked);

    internal Ipv4Layer(Host host)
    {
        _host = host;
        Defrag = new Ipv4Defrag(host);
        var rng = host.RandomStream("ip_idents");
        for (int i = 0; i < _idents.Length; i++) _idents[i] = (ushort)rng.Next(65536);
    }

    public FibTable LocalTable { get; } = new(Route.LocalTable);
    public FibTable MainTable { get; } = new(Route.MainTable);
    public Ipv4Defrag Defrag { get; }
    public IReadOnlyList<InetAddress> Addresses => _addresses;
    public IReadOnlyDictionary<uint, PmtuException> PmtuCache => _pmtu;

    internal void RegisterDevice(NetDevice dev, Ipv4DevConf conf) => _conf[dev] = conf;
    public Ipv4DevConf DevConf(NetDevice dev) => _conf[dev];

    // ---------------------------------------------------------------- addresses

    /// <summary>
    /// ip addr add: the address plus its local, broadcast and connected routes (fib_add_ifaddr).
    /// <paramref name="withBroadcast"/> is `brd +`: the address records the subnet broadcast, which
    /// `ip addr` then shows. Without it the broadcast route is still added, as Linux does for any
    /// prefix shorter than /31.
    /// </summary>
    public InetAddress AddAddress(NetDevice dev, Ipv4Prefix prefix, RouteScope? scope = null, bool withBroadcast = true)
    {
        if (_addresses.Any(a => a.Device == dev && a.Local == prefix.Address))
            throw new ArgumentException("Error: ipv4: Address already assigned."); // __inet_insert_ifa()'s extack
        bool secondary = _addresses.Any(a => a.Device == dev && a.Prefix.NetworkPrefix == prefix.NetworkPrefix);
        var addr = new InetAddress(dev, prefix, withBroadcast && prefix.HasBroadcast && !dev.IsLoopback ? prefix.Broadcast : null,
            scope ?? (prefix.Address.IsLoopback ? RouteScope.Host : RouteScope.Universe), secondary);
        _addresses.Add(addr);
        if (dev.IsUp) AddKernelRoutes(addr);
        // Linux announces nothing when an address is added; only NETDEV_UP with arp_notify does (NeighbourTable).
        return addr;
    }

    public bool RemoveAddress(NetDevice dev, Ipv4Address local)
    {
        var addr = _addresses.FirstOrDefault(a => a.Device == dev && a.Local == local);
        if (addr is null) return false;
        _addresses.Remove(addr);
        RemoveKernelRoutes(addr);
        return true;
    }

    /// <summary>fib_add_ifaddr(): local /32, explicit broadcast, then the prefix route and the network broadcast.</summary>
    private void AddKernelRoutes(InetAddress a)
    {
        var dev = a.Device;
        LocalTable.Add(new Route(new Ipv4Prefix(a.Local, 32), RouteType.Local, dev, Scope: RouteScope.Host,
            Protocol: RouteProtocol.Kernel, PreferredSource: a.Local));
        if (a.BroadcastAddress is { IsLimitedBroadcast: false } brd) AddBroadcastRoute(brd, a);
        var prefix = a.Prefix.NetworkPrefix;
        if (prefix.Network.IsZeroNet || a.Secondary || (prefix.Network == a.Local && a.Prefix.Length == 32)) return;
        // lo's prefix is local (127.0.0.0/8 answers as this host); every other device's is a connected route.
        if (dev.IsLoopback)
            LocalTable.Add(new Route(prefix, RouteType.Local, dev, Scope: RouteScope.Host,
                Protocol: RouteProtocol.Kernel, PreferredSource: a.Local));
        else
            MainTable.Add(new Route(prefix, RouteType.Unicast, dev, Scope: RouteScope.Link,
                Protocol: RouteProtocol.Kernel, PreferredSource: a.Local));
        if (a.Prefix.Length < 31) AddBroadcastRoute(a.Prefix.Broadcast, a);
    }

    private void AddBroadcastRoute(Ipv4Address brd, InetAddress a)
    {
        // fib_magic() of an existing alias fails with EEXIST, which fib_add_ifaddr() ignores.
        if (LocalTable.All().Any(r => r.Type == RouteType.Broadcast && r.Destination.Network == brd && r.Device == a.Device)) return;
        LocalTable.Add(new Route(new Ipv4Prefix(brd, 32), RouteType.Broadcast, a.Device, Scope: RouteScope.Link,
            Protocol: RouteProtocol.Kernel, PreferredSource: a.Local));
    }

    private void RemoveKernelRoutes(InetAddress a)
    {
        LocalTable.Remove(r => r.Protocol == RouteProtocol.Kernel && r.PreferredSource == a.Local);
        MainTable.Remove(r => r.Protocol == RouteProtocol.Kernel && r.PreferredSource == a.Local);
    }

    internal void OnDeviceStateChanged(NetDevice dev)
    {
        if (dev.IsUp)
        {
            foreach (var a in _addresses.Where(a => a.Device == dev)) AddKernelRoutes(a);
        }
        else
        {
            // fib_disable_ip(): every route through the device goes, static ones included.
            LocalTable.Remove(r => r.Device == dev);
            MainTable.Remove(r => r.Device == dev);
        }
    }

    /// <summary>ip route add: validates the next hop like fib_check_nh (gateway must be on-link).</summary>
    public Route AddRoute(Ipv4Prefix destination, Ipv4Address? gateway, NetDevice? dev, int metric = 0,
        RouteType type = RouteType.Unicast, Ipv4Address? source = null, int mtu = 0)
    {
        if (type == RouteType.Unicast)
        {
            if (gateway is { } gw)
            {
                var via = MainTable.Lookup(gw);
                if (via is null || via.Gateway is not null || (dev is not null && via.Device != dev))
                    throw new ArgumentException("Error: Nexthop has invalid gateway.");
                dev ??= via.Device;
            }
            // fib_check_nh_nongw(): the device must exist and be up (ENETDOWN).
            if (dev is null || !dev.IsUp) throw new ArgumentException("Error: Device for nexthop is not up.");
        }
        var network = new Ipv4Prefix(destination.Network, destination.Length);
        if (MainTable.All().Any(r => r.Destination == network && r.Metric == metric))
            throw new ArgumentException("RTNETLINK answers: File exists");
        var route = new Route(network, type, dev, gateway, metric,
            gateway is null && type == RouteType.Unicast ? RouteScope.Link : RouteScope.Universe,
            RouteProtocol.Boot, source, mtu);
        MainTable.Add(route);
        return route;
    }

    public bool DeleteRoute(Ipv4Prefix destination) =>
        MainTable.Remove(r => r.Destination.Network == destination.Network && r.Destination.Length == destination.Length);

    /// <summary>inet_addr_type() == RTN_LOCAL.</summary>
    public bool IsLocalAddress(Ipv4Address a) => LocalTable.Lookup(a) is { Type: RouteType.Local };

    /// <summary>True for 255.255.255.255 or a directed broadcast of one of our subnets.</summary>
    public bool IsBroadcast(Ipv4Address a) => a.IsLimitedBroadcast || LocalTable.Lookup(a) is { Type: RouteType.Broadcast, Destination.Length: 32 };

    /// <summary>inet_select_addr(): a primary address of <paramref name="dev"/>, preferring the subnet of <paramref name="destination"/>.</summary>
    public Ipv4Address SelectSourceAddress(NetDevice? dev, Ipv4Address destination, RouteScope scope = RouteScope.Universe)
    {
        InetAddress? best = null;
        foreach (var a in _addresses)
        {
            if (a.Device != dev || a.Secondary || a.Scope > scope) continue;
            if (a.Prefix.Contains(destination)) return a.Local;
            best ??= a;
        }
        if (best is not null) return best.Local;
        foreach (var a in _addresses)
            if (a.Scope == RouteScope.Universe && !a.Device.IsLoopback) return a.Local;
        foreach (var a in _addresses)
            if (a.Scope <= scope) return a.Local;
        return Ipv4Address.Any;
    }

    // ---------------------------------------------------------------- routing

    /// <summary>
    /// ip_route_output_key(): the route for a locally generated packet, local table first.
    /// Destination 0.0.0.0 means this host (the notes' "ping 0.0.0.0" answered by 127.0.0.1).
    /// </summary>
    public Route? RouteOutput(Ipv4Address destination, int oif = 0)
    {
        if (destination.IsUnspecified) return LocalTable.Lookup(Ipv4Address.Loopback);
        if (destination.IsLimitedBroadcast)
        {
            var dev = oif != 0 ? _host.DeviceByIndex(oif) : _host.Devices.FirstOrDefault(d => d.IsUp && !d.IsLoopback);
            return dev is null ? null : new Route(new Ipv4Prefix(destination, 32), RouteType.Broadcast, dev, Scope: RouteScope.Link);
        }
        var local = LocalTable.Lookup(destination);
        if (local is not null && local.Type is RouteType.Local or RouteType.Broadcast && local.Destination.Length == 32) return local;
        if (local is { Type: RouteType.Local }) return local;
        if (oif != 0)
        {
            var dev = _host.DeviceByIndex(oif);
            var r = MainTable.Lookup(destination);
            if (r is not null && r.Device == dev) return r;
            // SO_BINDTODEVICE with no matching route: Linux assumes the destination is on-link.
            return dev is null ? null : new Route(new Ipv4Prefix(destination, 32), RouteType.Unicast, dev, Scope: RouteScope.Link);
        }
        return MainTable.Lookup(destination);
    }

    /// <summary>ip_route_output_key_hash_rcu(): a packet to 0.0.0.0 is sent to 127.0.0.1 (the notes' "ping 0.0.0.0").</summary>
    public static Ipv4Address OutputDestination(Ipv4Address destination) =>
        destination.IsUnspecified ? Ipv4Address.Loopback : destination;

    /// <summary>The MTU toward <paramref name="destination"/>: a live PMTU exception, else the route's, else the device's.</summary>
    public int PathMtu(Route route, Ipv4Address destination)
    {
        int mtu = route.Mtu != 0 ? route.Mtu : route.Device?.Mtu ?? 1500;
        if (_pmtu.TryGetValue(destination.Value, out var e))
        {
            if (e.ExpiresNs > _host.Now.Nanoseconds) return Math.Min(mtu, e.Mtu);
            _pmtu.Remove(destination.Value);
        }
        return Math.Min(mtu, 65535);
    }

    /// <summary>__ip_rt_update_pmtu(): learn a smaller path MTU from ICMP fragmentation needed.</summary>
    public void UpdatePmtu(Ipv4Address destination, int mtu)
    {
        var route = RouteOutput(destination);
        if (route is null || route.Type != RouteType.Unicast) return;
        int current = PathMtu(route, destination);
        bool locked = false;
        if (_pmtu.TryGetValue(destination.Value, out var old) && old.Locked) return;
        if (mtu > current) return;
        int minPmtu = _host.Ipv4Sysctl.RouteMinPmtu;
        if (mtu < minPmtu)
        {
            // Below min_pmtu the MTU is clamped and locked: WANT sockets then stop setting DF.
            locked = true;
            mtu = Math.Min(current, minPmtu);
        }
        _pmtu[destination.Value] = new PmtuException(mtu,
            _host.Now.Nanoseconds + _host.Ipv4Sysctl.RouteMtuExpires * 1_000_000_000L, locked);
    }

    // ---------------------------------------------------------------- receive

    /// <summary>ip_rcv() + ip_rcv_core(): validate and route an incoming datagram. Takes ownership.</summary>
    internal void Rcv(NetDevice dev, Packet pkt)
    {
        if (pkt.PacketType == PacketType.OtherHost)
        {
            _host.Drop(pkt, SkbDropReason.OtherHost);
            return;
        }
        var stats = _host.IpStats;
        stats.Inc(IpMib.InReceives);
        _host.IpExtStats.Add(IpExtMib.InOctets, pkt.Length);
        var data = pkt.Data;
        if (data.Length < Ipv4HeaderView.MinLength || (data[0] >> 4) != 4 || (data[0] & 0xF) < 5 || data.Length < (data[0] & 0xF) * 4)
        {
            stats.Inc(IpMib.InHdrErrors);
            _host.Drop(pkt, SkbDropReason.IpInHdr);
            return;
        }
        var hdr = Ipv4HeaderView.ForEmit(data);
        if (!hdr.VerifyChecksum())
        {
            _host.IpExtStats.Inc(IpExtMib.InCsumErrors);
            stats.Inc(IpMib.InHdrErrors);
            _host.Drop(pkt, SkbDropReason.IpCsum);
            return;
        }
        int totalLength = hdr.TotalLength;
        if (data.Length < totalLength)
        {
            _host.IpExtStats.Inc(IpExtMib.InTruncatedPkts);
            _host.Drop(pkt, SkbDropReason.PktTooSmall);
            return;
        }
        if (totalLength < hdr.HeaderLength)
        {
            stats.Inc(IpMib.InHdrErrors);
            _host.Drop(pkt, SkbDropReason.IpInHdr);
            return;
        }
        pkt.Trim(totalLength); // strip Ethernet padding
        RcvFinish(dev, pkt);
    }

    /// <summary>ip_rcv_finish() + ip_route_input_slow(): local delivery, forwarding, or drop.</summary>
    private void RcvFinish(NetDevice dev, Packet pkt)
    {
        var hdr = Ipv4HeaderView.ForEmit(pkt.Data);
        var src = hdr.Source;
        var dst = hdr.Destination;
        if (dst.IsLimitedBroadcast || (src.IsUnspecified && dst.IsLimitedBroadcast))
        {
            _host.IpExtStats.Inc(IpExtMib.InBcastPkts);
            LocalDeliver(dev, pkt);
            return;
        }
        // Martian sources (ip_route_input_slow): multicast, broadcast, 0/8, or loopback from the wire.
        if (src.IsMulticast || src.IsLimitedBroadcast || src.IsZeroNet || (src.IsLoopback && !dev.IsLoopback))
        {
            _host.Drop(pkt, SkbDropReason.IpInvalidSource);
            return;
        }
        if (dst.IsMulticast)
        {
            // No IGMP yet: only all-hosts (224.0.0.1) is joined, as every Linux host is.
            if (dst.Value == 0xE000_0001) { _host.IpExtStats.Inc(IpExtMib.InMcastPkts); LocalDeliver(dev, pkt); }
            else _host.Drop(pkt, SkbDropReason.UnicastInL2Multicast);
            return;
        }
        if (dst.IsZeroNet || (dst.IsLoopback && !dev.IsLoopback))
        {
            _host.Drop(pkt, SkbDropReason.IpInvalidDest);
            return;
        }
        var local = LocalTable.Lookup(dst);
        if (local is { Type: RouteType.Local })
        {
            LocalDeliver(dev, pkt);
            return;
        }
        if (local is { Type: RouteType.Broadcast })
        {
            _host.IpExtStats.Inc(IpExtMib.InBcastPkts);
            LocalDeliver(dev, pkt);
            return;
        }
        if (pkt.PacketType != PacketType.Host && pkt.PacketType != PacketType.Loopback)
        {
            // Unicast IP in a link-layer broadcast frame is never forwarded.
            _host.Drop(pkt, SkbDropReason.UnicastInL2Multicast);
            return;
        }
        if (DevConf(dev).Forwarding == 0)
        {
            // ip_error(): EHOSTUNREACH without forwarding counts InAddrErrors and sends nothing.
            _host.IpStats.Inc(IpMib.InAddrErrors);
            _host.Drop(pkt, SkbDropReason.IpInAddrErrors);
            return;
        }
        var route = MainTable.Lookup(dst);
        if (route is null || route.Type != RouteType.Unicast)
        {
            _host.IpExtStats.Inc(IpExtMib.InNoRoutes);
            byte code = route?.Type switch
            {
                RouteType.Prohibit => IcmpCode.HostAdminProhibited,
                RouteType.Blackhole => 255,
                _ => route is null ? IcmpCode.NetUnreachable : IcmpCode.HostUnreachable,
            };
            if (code != 255) _host.Icmp.SendError(pkt, dev, IcmpType.DestinationUnreachable, code, 0);
            _host.Drop(pkt, SkbDropReason.IpInNoRoutes);
            return;
        }
        Forward(dev, pkt, route);
    }

    /// <summary>ip_forward(): TTL, MTU, redirects, then output. Takes ownership.</summary>
    private void Forward(NetDevice inDev, Packet pkt, Route route)
    {
        var hdr = Ipv4HeaderView.ForEmit(pkt.Data);
        if (hdr.Ttl <= 1)
        {
            _host.IpStats.Inc(IpMib.InHdrErrors);
            _host.Icmp.SendError(pkt, inDev, IcmpType.TimeExceeded, IcmpCode.TtlExceeded, 0);
            _host.Drop(pkt, SkbDropReason.TtlExpired);
            return;
        }
        _host.IpStats.Inc(IpMib.ForwDatagrams);
        // ip_dst_mtu_maybe_forward(): forwarding ignores learned PMTUs, uses the route or device MTU.
        int mtu = route.Mtu != 0 ? route.Mtu : route.Device!.Mtu;
        if (hdr.DontFragment && pkt.Length > mtu)
        {
            _host.IpStats.Inc(IpMib.FragFails);
            _host.Icmp.SendError(pkt, inDev, IcmpType.DestinationUnreachable, IcmpCode.FragmentationNeeded, (uint)mtu);
            _host.Drop(pkt, SkbDropReason.PktTooBig);
            return;
        }
        hdr.DecreaseTtl();
        var nextHop = route.NextHop(hdr.Destination);
        // __mkroute_input(): same device in and out, and the source on-link → ICMP redirect (host).
        if (route.Device == inDev && DevConf(inDev).SendRedirects != 0 && _host.AllConf.SendRedirects != 0
            && route.Gateway is not null && OnLink(inDev, hdr.Source))
        {
            _host.Icmp.SendRedirect(pkt, inDev, nextHop);
        }
        FinishOutput(pkt, route, nextHop, mtu);
    }

    private bool OnLink(NetDevice dev, Ipv4Address a)
    {
        foreach (var addr in _addresses)
            if (addr.Device == dev && addr.Prefix.Contains(a)) return true;
        return false;
    }

    /// <summary>ip_local_deliver(): reassemble, then hand to raw sockets and the protocol. Takes ownership.</summary>
    private void LocalDeliver(NetDevice dev, Packet pkt)
    {
        var hdr = Ipv4HeaderView.ForEmit(pkt.Data);
        if (hdr.IsFragment)
        {
            var whole = Defrag.Gather(pkt, dev);
            if (whole is null) return;
            pkt = whole;
            hdr = Ipv4HeaderView.ForEmit(pkt.Data);
        }
        byte protocol = hdr.Protocol;
        int ihl = hdr.HeaderLength;
        pkt.NetworkOffset = pkt.DataOffset;
        pkt.TransportOffset = pkt.DataOffset + ihl;
        bool raw = DeliverToRawSockets(pkt, protocol);
        _host.IpStats.Inc(IpMib.InDelivers);
        switch (protocol)
        {
            case IpProtocol.Icmp:
                pkt.Pull(ihl);
                _host.Icmp.Rcv(dev, pkt);
                break;
            case IpProtocol.Udp:
                pkt.Pull(ihl);
                _host.Udp.Rcv(dev, pkt);
                break;
            case IpProtocol.Tcp:
                pkt.Pull(ihl);
                _host.Tcp.Rcv(dev, pkt);
                break;
            default:
                if (!raw)
                {
                    _host.IpStats.Inc(IpMib.InUnknownProtos);
                    _host.Icmp.SendError(pkt, dev, IcmpType.DestinationUnreachable, IcmpCode.ProtocolUnreachable, 0);
                    _host.Drop(pkt, SkbDropReason.IpNoProto);
                }
                else pkt.Dispose();
                break;
        }
    }

    internal void AddRawSocket(RawSocket s) => _rawSockets.Add(s);
    internal void RemoveRawSocket(RawSocket s) => _rawSockets.Remove(s);

    /// <summary>
    /// raw_icmp_error(): an ICMP error quoting a datagram of <see cref="IcmpError.QuotedProtocol"/> goes to
    /// every raw socket of that protocol that could have sent it (raw_v4_match() with the quoted
    /// destination as the peer and the quoted source as the local address), before the protocol's handler.
    /// </summary>
    internal void RawIcmpError(in IcmpError error, ReadOnlySpan<byte> quotedTransport)
    {
        foreach (var s in _rawSockets)
            if (s.Protocol == error.QuotedProtocol && s.Matches(error.QuotedDestination, error.QuotedSource))
                s.OnIcmpError(error, quotedTransport);
    }

    /// <summary>raw_v4_input(): every matching raw socket of the protocol gets a copy (Data at the IP header).</summary>
    private bool DeliverToRawSockets(Packet pkt, byte protocol)
    {
        bool any = false;
        var ip = Ipv4HeaderView.ForEmit(pkt.Buffer[pkt.NetworkOffset..]);
        foreach (var s in _rawSockets)
        {
            if (s.Protocol != protocol || !s.Matches(ip.Source, ip.Destination)) continue;
            any = true;
            s.Deliver(pkt);
        }
        return any;
    }

    // ---------------------------------------------------------------- output

    /// <summary>
    /// ip_queue_xmit / ip_push_pending_frames: push the IPv4 header in front of a transport
    /// segment and send it. Takes ownership of <paramref name="pkt"/> (Data = transport header + payload).
    /// Returns an errno for the socket (EMSGSIZE, ENETUNREACH, EACCES).
    /// </summary>
    public Errno Output(Packet pkt, IpSendParams p)
    {
        p = p with { Destination = OutputDestination(p.Destination) };
        var route = RouteOutput(p.Destination, p.OutputIfIndex);
        if (route is null || route.Type is RouteType.Unreachable or RouteType.Prohibit or RouteType.Blackhole)
        {
            _host.IpStats.Inc(IpMib.OutNoRoutes);
            pkt.Dispose();
            return route?.Type == RouteType.Prohibit ? Errno.EACCES : route?.Type == RouteType.Blackhole ? Errno.EINVAL : Errno.ENETUNREACH;
        }
        if (route.Type == RouteType.Broadcast && !p.AllowBroadcast)
        {
            pkt.Dispose();
            return Errno.EACCES;
        }
        int mtu = p.PmtuDisc >= PmtuDisc.Probe ? route.Device!.Mtu : PathMtu(route, p.Destination);
        // A GSO packet is checked by the size of its segments (ip_finish_output_gso: skb_gso_validate_network_len).
        int total = Ipv4Repr.HeaderLength + (pkt.GsoSize > 0 ? TcpHeaderLength(pkt) + pkt.GsoSize : pkt.Length);
        bool df = p.PmtuDisc switch
        {
            PmtuDisc.Do or PmtuDisc.Probe => true,
            // ip_dont_fragment(): WANT sets DF only when it fits and the PMTU is not locked.
            PmtuDisc.Want => total <= mtu && _host.Ipv4Sysctl.IpNoPmtuDisc == 0 && !IsPmtuLocked(p.Destination),
            _ => false,
        };
        if (df && total > mtu)
        {
            pkt.Dispose();
            return Errno.EMSGSIZE;
        }
        if (Ipv4Repr.HeaderLength + pkt.Length > 65535)
        {
            pkt.Dispose();
            return Errno.EMSGSIZE;
        }
        var src = p.Source.IsUnspecified ? route.PreferredSource ?? SelectSourceAddress(route.Device, p.Destination) : p.Source;
        // ip_select_ident_segs(): a GSO packet reserves one ID per segment; the device numbers them up from this one.
        ushort id = df && !p.Connected ? (ushort)0 : SelectIdent(p.Destination, src, p.Protocol, pkt.GsoSegs);
        int ttl = p.Ttl >= 0 ? p.Ttl : p.Destination.IsMulticast ? 1 : _host.Ipv4Sysctl.IpDefaultTtl;
        var repr = new Ipv4Repr(src, p.Destination, p.Protocol, pkt.Length, (byte)ttl, p.Tos, id, df);
        repr.Emit(pkt.Push(Ipv4Repr.HeaderLength));
        pkt.NetworkOffset = pkt.DataOffset;
        _host.IpStats.Inc(IpMib.OutRequests);
        _host.IpExtStats.Add(IpExtMib.OutOctets, pkt.Length);
        // NET_XMIT_DROP from the qdisc comes back as ENOBUFS (net_xmit_errno); each transport decides what it means.
        return FinishOutput(pkt, route, route.Type == RouteType.Local ? p.Destination : route.NextHop(p.Destination), mtu)
            ? Errno.None : Errno.ENOBUFS;
    }

    /// <summary>
    /// raw_send_hdrinc(): a datagram whose IP header the sender built (IP_HDRINCL). Routed by
    /// <paramref name="destination"/> (sendto's address); the kernel fills in only the total length, the
    /// checksum, a zero source (the route's) and a zero ID, and never fragments (EMSGSIZE above the MTU).
    /// Any source address goes out as given. Takes ownership of <paramref name="pkt"/> (Data = the datagram).
    /// </summary>
    public Errno OutputRaw(Packet pkt, Ipv4Address destination, int outputIfIndex, bool allowBroadcast)
    {
        var route = RouteOutput(destination, outputIfIndex);
        if (route is null || route.Type is RouteType.Unreachable or RouteType.Prohibit or RouteType.Blackhole)
        {
            _host.IpStats.Inc(IpMib.OutNoRoutes);
            pkt.Dispose();
            return route?.Type == RouteType.Prohibit ? Errno.EACCES : route?.Type == RouteType.Blackhole ? Errno.EINVAL : Errno.ENETUNREACH;
        }
        if (route.Type == RouteType.Broadcast && !allowBroadcast)
        {
            pkt.Dispose();
            return Errno.EACCES;
        }
        int mtu = route.Type == RouteType.Local ? _host.Loopback.Mtu : route.Device!.Mtu;
        if (pkt.Length > mtu)
        {
            pkt.Dispose();
            return Errno.EMSGSIZE;
        }
        if (pkt.Length < Ipv4HeaderView.MinLength || (pkt.Data[0] & 0xF) * 4 > pkt.Length)
        {
            pkt.Dispose();
            return Errno.EINVAL;
        }
        var ip = Ipv4HeaderView.ForEmit(pkt.Data);
        if ((pkt.Data[0] & 0xF) * 4 >= Ipv4HeaderView.MinLength)
        {
            if (ip.Source.IsUnspecified) ip.Source = route.PreferredSource ?? SelectSourceAddress(route.Device, destination);
            ip.TotalLength = (ushort)pkt.Length;
            if (ip.Identification == 0) ip.Identification = SelectIdent(ip.Destination, ip.Source, ip.Protocol);
            ip.FillChecksum();
        }
        pkt.NetworkOffset = pkt.DataOffset;
        _host.IpStats.Inc(IpMib.OutRequests);
        _host.IpExtStats.Add(IpExtMib.OutOctets, pkt.Length);
        _host.IpStats.Inc(IpMib.OutTransmits);
        var dev = route.Type == RouteType.Local ? _host.Loopback : route.Device!;
        if (_host.Neighbours.Output(dev, route.Type == RouteType.Local ? destination : route.NextHop(destination), pkt,
                route.Type == RouteType.Broadcast))
            return Errno.None;
        // raw_send_hdrinc(): a qdisc drop is OutDiscards, and ENOBUFS only for IP_RECVERR sockets (NetLab has none).
        _host.IpStats.Inc(IpMib.OutDiscards);
        return Errno.None;
    }

    private bool IsPmtuLocked(Ipv4Address dst) => _pmtu.TryGetValue(dst.Value, out var e) && e.Locked;

    /// <summary>ip_options_fragment(): RFC 791 §3.1, only options with the copied bit (0x80) go in later fragments.</summary>
    private static void BlankUncopiedOptions(Span<byte> options)
    {
        for (int i = 0; i < options.Length;)
        {
            byte kind = options[i];
            if (kind == 0) break;          // end of option list
            if (kind == 1) { i++; continue; } // no-op
            int len = i + 1 < options.Length ? options[i + 1] : 0;
            if (len < 2 || i + len > options.Length) break;
            if ((kind & 0x80) == 0) options.Slice(i, len).Fill(1);
            i += len;
        }
    }

    /// <summary>ip_select_ident(): a per-destination-bucket counter (Linux's ip_idents, without its time-based jump).</summary>
    private ushort SelectIdent(Ipv4Address dst, Ipv4Address src, byte protocol, int segs = 1)
    {
        uint h = (dst.Value * 0x9E3779B1u) ^ (src.Value * 0x85EBCA77u) ^ protocol;
        ref ushort next = ref _idents[h & (uint)(_idents.Length - 1)];
        ushort id = next;
        next = (ushort)(next + segs);
        return id;
    }

    /// <summary>The TCP header length of a segment whose Data starts at its TCP header (data offset × 4).</summary>
    private static int TcpHeaderLength(Packet pkt) => (pkt.Data[12] >> 4) * 4;

    /// <summary>ip_finish_output(): fragment if needed, then the neighbour layer. Takes ownership.</summary>
    /// <summary>ip_finish_output(): false when the device's qdisc dropped the packet (NET_XMIT_DROP).</summary>
    internal bool FinishOutput(Packet pkt, Route route, Ipv4Address nextHop, int mtu)
    {
        var dev = route.Type == RouteType.Local ? _host.Loopback : route.Device!;
        if (route.Type == RouteType.Local) mtu = dev.Mtu;
        if (pkt.Length > mtu && pkt.GsoSize == 0)
        {
            Fragment(pkt, mtu, dev, nextHop, route.Type == RouteType.Broadcast);
            return true;
        }
        // ip_finish_output2() counts every packet handed to the neighbour layer, fragments included.
        _host.IpStats.Inc(IpMib.OutTransmits);
        return _host.Neighbours.Output(dev, nextHop, pkt, route.Type == RouteType.Broadcast);
    }

    /// <summary>
    /// ip_do_fragment(): split a datagram (Data at its IP header, DF clear) into fragments whose
    /// data is a multiple of 8 bytes, each with a copy of the header; after the first, options
    /// without the copied flag are blanked to NOPs (ip_options_fragment). Takes ownership.
    /// </summary>
    internal void Fragment(Packet pkt, int mtu, NetDevice dev, Ipv4Address nextHop, bool broadcast)
    {
        var hdr = Ipv4HeaderView.ForEmit(pkt.Data);
        if (hdr.DontFragment)
        {
            _host.IpStats.Inc(IpMib.FragFails);
            _host.Icmp.SendError(pkt, null, IcmpType.DestinationUnreachable, IcmpCode.FragmentationNeeded, (uint)mtu);
            _host.Drop(pkt, SkbDropReason.PktTooBig);
            return;
        }
        int hlen = hdr.HeaderLength;
        int payloadLength = hdr.TotalLength - hlen;
        int perFragment = (mtu - hlen) & ~7;
        if (perFragment <= 0)
        {
            _host.IpStats.Inc(IpMib.FragFails);
            _host.Drop(pkt, SkbDropReason.IpFragFails);
            return;
        }
        int baseOffset = hdr.FragmentOffset;
        bool originalMf = hdr.MoreFragments;
        for (int offset = 0; offset < payloadLength; offset += perFragment)
        {
            int len = Math.Min(perFragment, payloadLength - offset);
            bool last = offset + len >= payloadLength;
            var frag = _host.Pool.Rent(PacketPool.DefaultHeadroom, hlen + len);
            var fd = frag.Data;
            pkt.Data[..hlen].CopyTo(fd);
            pkt.Data.Slice(hlen + offset, len).CopyTo(fd[hlen..]);
            var fh = Ipv4HeaderView.ForEmit(fd);
            if (offset > 0 && hlen > Ipv4HeaderView.MinLength) BlankUncopiedOptions(fh.Options);
            fh.TotalLength = (ushort)(hlen + len);
            fh.FlagsAndOffset = (ushort)(((baseOffset + offset) / 8) | (last && !originalMf ? 0 : Ipv4HeaderView.FlagMf));
            fh.FillChecksum();
            frag.NetworkOffset = frag.DataOffset;
            frag.Priority = pkt.Priority;
            frag.Mark = pkt.Mark;
            _host.IpStats.Inc(IpMib.FragCreates);
            _host.IpStats.Inc(IpMib.OutTransmits);
            _host.Neighbours.Output(dev, nextHop, frag, broadcast);
        }
        _host.IpStats.Inc(IpMib.FragOKs);
        pkt.Dispose();
    }
}
