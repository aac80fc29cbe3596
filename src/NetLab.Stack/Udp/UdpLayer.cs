using NetLab.Core.Addressing;
using NetLab.Core.Packets;
using NetLab.Stack.Icmp;
using NetLab.Stack.IPv4;
using NetLab.Stack.Link;

namespace NetLab.Stack.Udp;

/// <summary>net/ipv4/udp.c: the port table, demultiplexing, port unreachable, and ICMP errors to sockets.</summary>
public sealed class UdpLayer
{
    private readonly Host _host;
    private readonly Dictionary<ushort, List<UdpSocket>> _ports = [];
    private readonly Core.Randomness.RandomStream _rng;

    internal UdpLayer(Host host)
    {
        _host = host;
        _rng = host.RandomStream("udp/ports");
    }

    /// <summary>Opens a UDP socket (socket(AF_INET, SOCK_DGRAM, 0)).</summary>
    public UdpSocket Open() => new(_host);

    internal Host Host => _host;

    internal IEnumerable<UdpSocket> Sockets => _ports.Values.SelectMany(l => l);

    /// <summary>
    /// Every bound UDP socket as ss and netstat see them (udp_diag, /proc/net/udp), in port order:
    /// ESTAB when connected, else UNCONN (TCP_CLOSE); Recv-Q is sk_rmem_alloc (truesize of the queued
    /// datagrams), Send-Q sk_wmem_alloc (0: NetLab hands datagrams to the device at once).
    /// </summary>
    public IReadOnlyList<UdpSocketEntry> Entries() =>
        _ports.OrderBy(p => p.Key).SelectMany(p => p.Value)
            .Select(s => new UdpSocketEntry(s.RemotePort != 0, s.LocalAddress, s.LocalPort, s.RemoteAddress, s.RemotePort,
                (int)s.ReceiveQueueBytes, 0, s.ReceiveBufferSize))
            .ToList();

    /// <summary>udp_lib_get_port(): bind to <paramref name="port"/>, or pick an ephemeral one when 0.</summary>
    internal Errno BindPort(UdpSocket s, Ipv4Address address, ushort port)
    {
        if (port != 0)
        {
            if (Conflicts(s, address, port)) return Errno.EADDRINUSE;
            Add(s, port);
            return Errno.None;
        }
        var range = _host.Ipv4Sysctl.IpLocalPortRange;
        int low = range[0], high = range[1];
        int remaining = high - low + 1;
        // Random start, then scan (Linux steps through hash chains; any free port in range is as good).
        int start = low + _rng.Next(remaining);
        for (int i = 0; i < remaining; i++)
        {
            ushort candidate = (ushort)(low + (start - low + i) % remaining);
            if (!Conflicts(s, address, candidate))
            {
                Add(s, candidate);
                return Errno.None;
            }
        }
        return Errno.EADDRINUSE;
    }

    private bool Conflicts(UdpSocket s, Ipv4Address address, ushort port)
    {
        if (!_ports.TryGetValue(port, out var list)) return false;
        foreach (var other in list)
        {
            if (other == s) continue;
            bool overlap = other.LocalAddress.IsUnspecified || address.IsUnspecified || other.LocalAddress == address;
            if (overlap && !(other.ReuseAddress && s.ReuseAddress)) return true;
        }
        return false;
    }

    private void Add(UdpSocket s, ushort port)
    {
        if (!_ports.TryGetValue(port, out var list)) _ports[port] = list = [];
        list.Add(s);
        s.LocalPort = port;
    }

    internal void Unhash(UdpSocket s)
    {
        if (s.LocalPort != 0 && _ports.TryGetValue(s.LocalPort, out var list))
        {
            list.Remove(s);
            if (list.Count == 0) _ports.Remove(s.LocalPort);
        }
    }

    /// <summary>__udp4_lib_lookup(): the best-scoring socket (connected and address-bound beat wildcards).</summary>
    private UdpSocket? Lookup(Ipv4Address saddr, ushort sport, Ipv4Address daddr, ushort dport, int ifIndex)
    {
        if (!_ports.TryGetValue(dport, out var list)) return null;
        UdpSocket? best = null;
        int bestScore = -1;
        foreach (var s in list)
        {
            int score = 0;
            if (!s.LocalAddress.IsUnspecified) { if (s.LocalAddress != daddr) continue; score += 4; }
            if (!s.RemoteAddress.IsUnspecified) { if (s.RemoteAddress != saddr) continue; score += 4; }
            if (s.RemotePort != 0) { if (s.RemotePort != sport) continue; score += 4; }
            if (s.BoundDevice != 0) { if (s.BoundDevice != ifIndex) continue; score += 4; }
            if (score > bestScore) { best = s; bestScore = score; }
        }
        return best;
    }

    /// <summary>__udp4_lib_rcv(): Data is the UDP datagram, NetworkOffset its IP header. Takes ownership.</summary>
    internal void Rcv(NetDevice dev, Packet pkt)
    {
        var stats = _host.UdpStats;
        var ip = Ipv4HeaderView.ForEmit(pkt.Buffer[pkt.NetworkOffset..]);
        var data = pkt.Data;
        if (data.Length < UdpHeaderView.Length)
        {
            stats.Inc(UdpMib.InErrors);
            _host.Drop(pkt, SkbDropReason.PktTooSmall);
            return;
        }
        var udp = UdpHeaderView.ForEmit(data);
        int ulen = udp.DatagramLength;
        if (ulen < UdpHeaderView.Length || ulen > data.Length)
        {
            stats.Inc(UdpMib.InErrors);
            _host.Drop(pkt, SkbDropReason.PktTooSmall);
            return;
        }
        pkt.Trim(ulen);
        udp = UdpHeaderView.ForEmit(pkt.Data);
        if (!udp.VerifyChecksum(ip.Source, ip.Destination))
        {
            stats.Inc(UdpMib.InCsumErrors);
            stats.Inc(UdpMib.InErrors);
            _host.Drop(pkt, SkbDropReason.UdpCsum);
            return;
        }
        var sock = Lookup(ip.Source, udp.SourcePort, ip.Destination, udp.DestinationPort, dev.IfIndex);
        if (sock is null)
        {
            bool broadcast = pkt.PacketType is PacketType.Broadcast or PacketType.Multicast
                || ip.Destination.IsMulticast || _host.Ipv4.IsBroadcast(ip.Destination);
            if (broadcast)
            {
                stats.Inc(UdpMib.IgnoredMulti);
                pkt.Dispose();
                return;
            }
            stats.Inc(UdpMib.NoPorts);
            _host.Icmp.SendError(pkt, dev, IcmpType.DestinationUnreachable, IcmpCode.PortUnreachable, 0);
            _host.Drop(pkt, SkbDropReason.NoSocket);
            return;
        }
        sock.Enqueue(pkt, dev.IfIndex);
    }

    /// <summary>__udp4_lib_err(): an ICMP error about a datagram we sent; <paramref name="quotedUdp"/> is its UDP header onward.</summary>
    internal void Err(in IcmpError error, ReadOnlySpan<byte> quotedUdp)
    {
        ushort sport = (ushort)(quotedUdp[0] << 8 | quotedUdp[1]);
        ushort dport = (ushort)(quotedUdp[2] << 8 | quotedUdp[3]);
        // Reversed lookup: the quoted datagram went from us (sport) to them (dport).
        var sock = Lookup(error.QuotedDestination, dport, error.QuotedSource, sport, 0);
        sock?.OnIcmpError(error, dport, quotedUdp.Length > 8 ? quotedUdp[8..] : default);
    }

    /// <summary>Sends one datagram (udp_send_skb). Takes ownership of <paramref name="pkt"/> whose Data is the payload.</summary>
    internal Errno Send(Packet pkt, UdpSocket s, Ipv4Address dst, ushort dport)
    {
        dst = Ipv4Layer.OutputDestination(dst);
        var route = _host.Ipv4.RouteOutput(dst, s.BoundDevice);
        var src = s.LocalAddress;
        if (src.IsUnspecified && route is not null)
            src = route.PreferredSource ?? _host.Ipv4.SelectSourceAddress(route.Type == RouteType.Local ? route.Device : route.Device, dst);
        int payload = pkt.Length;
        pkt.Push(UdpHeaderView.Length);
        // The checksum covers the payload too: emit over the whole datagram, not just the pushed header.
        new UdpRepr(s.LocalPort, dport, payload).Emit(pkt.Data, src, dst);
        pkt.TransportOffset = pkt.DataOffset;
        var err = _host.Ipv4.Output(pkt, new IpSendParams(src, dst, IpProtocol.Udp, s.Ttl, s.Tos, s.PmtuDisc,
            s.BoundDevice, !s.RemoteAddress.IsUnspecified, s.Broadcast));
        if (err == Errno.None) _host.UdpStats.Inc(UdpMib.OutDatagrams);
        else if (err == Errno.ENOBUFS)
        {
            // ip_send_skb() + udp_send_skb(): a qdisc drop is OutDiscards and SndbufErrors, and an error only with IP_RECVERR.
            _host.IpStats.Inc(IpMib.OutDiscards);
            _host.UdpStats.Inc(UdpMib.SndbufErrors);
            if (!s.RecvErr) err = Errno.None;
        }
        return err;
    }
}

/// <summary>One UDP socket as ss lists it.</summary>
public sealed record UdpSocketEntry(bool Connected, Ipv4Address LocalAddress, ushort LocalPort,
    Ipv4Address RemoteAddress, ushort RemotePort, int RecvQ, int SendQ, int ReceiveBuffer);
