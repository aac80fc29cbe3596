using NetLab.Core.Addressing;
using NetLab.Core.Packets;
using NetLab.Stack.Icmp;
using NetLab.Stack.IPv4;

namespace NetLab.Stack.Sockets;

/// <summary>A datagram received on a raw socket: the whole IP datagram, header included (as Linux's raw IPv4 sockets return it).</summary>
public sealed record RawDatagram(byte[] Datagram, Ipv4Address Source, int IfIndex, long TimestampNs);

/// <summary>
/// socket(AF_INET, SOCK_RAW, protocol): sees a copy of every datagram of its protocol delivered to
/// this host (raw_v4_input) and sends transport messages that the stack wraps in IPv4. ping and
/// traceroute -I use it with IPPROTO_ICMP, traceroute -T with IPPROTO_TCP (connected, with
/// IP_RECVERR, so that ICMP errors about its segments reach its error queue: raw_icmp_error()).
/// </summary>
public sealed class RawSocket : IDisposable
{
    private readonly Host _host;
    private readonly Queue<RawDatagram> _queue = new();
    private readonly Queue<SockExtendedErr> _errorQueue = new();
    private readonly WaitQueue _readable;
    private long _rmemAlloc;
    private bool _closed;

    internal RawSocket(Host host, byte protocol)
    {
        _host = host;
        _readable = new(host.Scheduler);
        Protocol = protocol;
        ReceiveBufferSize = host.Core.RmemDefault;
        PmtuDisc = Udp.UdpSocket.InitialPmtuDisc(host); // inet_create() sets it for every inet socket type
        HeaderIncluded = protocol == IpProtocol.Raw;     // inet_create(): IPPROTO_RAW implies IP_HDRINCL
        host.Ipv4.AddRawSocket(this);
    }

    public static RawSocket Open(Host host, byte protocol) => new(host, protocol);

    public byte Protocol { get; }
    public int Ttl { get; set; } = -1;
    public byte Tos { get; set; }
    public PmtuDisc PmtuDisc { get; set; }
    public bool Broadcast { get; set; }
    public int BoundDevice { get; set; }
    public int ReceiveBufferSize { get; set; }
    /// <summary>IP_HDRINCL: <see cref="SendTo"/> takes whole datagrams, IP header first (raw_send_hdrinc).</summary>
    public bool HeaderIncluded { get; set; }
    /// <summary>ICMP_FILTER: bit n set drops ICMP type n before queueing.</summary>
    public uint IcmpFilter { get; set; }
    /// <summary>IP_RECVERR: ICMP errors about what this socket sent are queued for MSG_ERRQUEUE.</summary>
    public bool RecvErr { get; set; }

    /// <summary>inet_rcv_saddr / inet_saddr: set by connect() from the route (getsockname()).</summary>
    public Ipv4Address LocalAddress { get; private set; }
    /// <summary>inet_daddr: the peer of a connected socket (TCP_ESTABLISHED), which alone it then hears from.</summary>
    public Ipv4Address RemoteAddress { get; private set; }
    public bool IsConnected => !RemoteAddress.IsUnspecified;

    /// <summary>Pending socket error (sk_err), set by ICMP errors when reported (raw_err()).</summary>
    public Errno PendingError { get; private set; }

    public int Queued => _queue.Count;
    public int ErrorQueueLength => _errorQueue.Count;

    /// <summary>
    /// connect() (ip4_datagram_connect): looks up the route, takes its source address as the local one
    /// unless already set, and remembers the peer. Raw sockets have no ports.
    /// </summary>
    public Errno Connect(Ipv4Address address)
    {
        if (_closed) return Errno.EINVAL;
        var route = _host.Ipv4.RouteOutput(Ipv4Layer.OutputDestination(address), BoundDevice);
        if (route is null || route.Type is RouteType.Unreachable or RouteType.Prohibit or RouteType.Blackhole)
            return route?.Type == RouteType.Prohibit ? Errno.EACCES : route?.Type == RouteType.Blackhole ? Errno.EINVAL : Errno.ENETUNREACH;
        if (route.Type == RouteType.Broadcast && !Broadcast) return Errno.EACCES;
        if (LocalAddress.IsUnspecified)
            LocalAddress = route.PreferredSource ?? _host.Ipv4.SelectSourceAddress(route.Device, address);
        RemoteAddress = address;
        return Errno.None;
    }

    /// <summary>getsockopt(IP_MTU): the path MTU of the connected route (dst_mtu()); ENOTCONN when not connected.</summary>
    public Errno GetMtu(out int mtu)
    {
        mtu = 0;
        if (!IsConnected) return Errno.ENOTCONN;
        var dst = Ipv4Layer.OutputDestination(RemoteAddress);
        var route = _host.Ipv4.RouteOutput(dst, BoundDevice);
        if (route is null) return Errno.ENOTCONN;
        mtu = _host.Ipv4.PathMtu(route, dst);
        return Errno.None;
    }

    /// <summary>send() on a connected socket.</summary>
    public Errno Send(ReadOnlySpan<byte> message) =>
        IsConnected ? SendTo(message, RemoteAddress) : Errno.EDESTADDRREQ;

    /// <summary>
    /// Sends <paramref name="message"/> (e.g. an ICMP header and data, checksum filled by the caller); with
    /// <see cref="HeaderIncluded"/>, a whole datagram whose header (source address included) goes out as built,
    /// routed towards <paramref name="destination"/>.
    /// </summary>
    public Errno SendTo(ReadOnlySpan<byte> message, Ipv4Address destination, Ipv4Address source = default)
    {
        if (_closed) return Errno.EINVAL;
        if (message.Length > 0xFFFF) return Errno.EMSGSIZE; // raw_sendmsg(): before routing, nothing queued
        if (source.IsUnspecified) source = LocalAddress; // the fl4 saddr of raw_sendmsg(): inet_saddr
        var pkt = _host.Pool.Rent(PacketPool.DefaultHeadroom, message.Length);
        message.CopyTo(pkt.Data);
        if (HeaderIncluded) return _host.Ipv4.OutputRaw(pkt, destination, BoundDevice, Broadcast);
        if (Protocol == IpProtocol.Icmp && message.Length > 0) _host.Icmp.CountOutgoing(message[0]);
        var err = _host.Ipv4.Output(pkt, new IpSendParams(source, destination, Protocol, Ttl, Tos, PmtuDisc,
            BoundDevice, IsConnected, Broadcast));
        if (err != Errno.ENOBUFS || RecvErr) return err;
        // raw_sendmsg() → ip_send_skb(): a qdisc drop is OutDiscards, and ENOBUFS only with IP_RECVERR.
        _host.IpStats.Inc(IpMib.OutDiscards);
        return Errno.None;
    }

    /// <summary>
    /// raw_v4_match(): a connected socket hears only its peer, and one with a local address only
    /// datagrams to that address (the peer and the local address are those of the datagram's IP
    /// header: source and destination, or for an ICMP error the quoted destination and source).
    /// </summary>
    internal bool Matches(Ipv4Address remote, Ipv4Address local) =>
        (RemoteAddress.IsUnspecified || RemoteAddress == remote) && (LocalAddress.IsUnspecified || LocalAddress == local);

    /// <summary>raw_rcv(): a copy of the datagram (Data or NetworkOffset at the IP header), which <see cref="Matches"/>. Does not take ownership.</summary>
    internal void Deliver(Packet pkt)
    {
        if (_closed) return;
        var ip = Ipv4HeaderView.ForEmit(pkt.Buffer[pkt.NetworkOffset..]);
        int total = ip.TotalLength;
        if (Protocol == IpProtocol.Icmp && total > ip.HeaderLength)
        {
            byte type = pkt.Buffer[pkt.NetworkOffset + ip.HeaderLength];
            if (type < 32 && (IcmpFilter & (1u << type)) != 0) return;
        }
        if (_rmemAlloc > ReceiveBufferSize) return; // sk_rcvbuf full: raw sockets drop silently
        var copy = pkt.Buffer.Slice(pkt.NetworkOffset, total).ToArray();
        _rmemAlloc += copy.Length + 576;
        _queue.Enqueue(new RawDatagram(copy, ip.Source, pkt.IngressIfIndex, _host.Now.Nanoseconds));
        _readable.WakeAll();
    }

    /// <summary>
    /// raw_err(): an ICMP error quoting a datagram of this socket's protocol. Fragmentation needed is
    /// hard unless PMTU discovery is off; the error is queued (with the quoted transport header as its
    /// payload, port 0) only with IP_RECVERR, and sets sk_err with IP_RECVERR or when hard on a connected socket.
    /// </summary>
    internal void OnIcmpError(in IcmpError error, ReadOnlySpan<byte> quotedTransport)
    {
        if (_closed) return;
        if (error.Type is IcmpType.Redirect or IcmpType.SourceQuench) return;
        if (!RecvErr && !IsConnected) return;
        Errno errno;
        bool hard = false;
        if (error.Type == IcmpType.ParameterProblem) (errno, hard) = (Errno.EPROTO, true);
        else if (error.Type == IcmpType.DestinationUnreachable && error.Code <= 15)
        {
            if (error.Code == IcmpCode.FragmentationNeeded) (errno, hard) = (Errno.EMSGSIZE, PmtuDisc != PmtuDisc.Dont);
            else (errno, hard) = error.ToErrno();
        }
        else errno = Errno.EHOSTUNREACH; // time exceeded, and anything else
        if (RecvErr)
            _errorQueue.Enqueue(new SockExtendedErr(errno, ErrOrigin.Icmp, error.Type, error.Code, error.Info, error.Offender,
                error.OffenderTtl, error.QuotedDestination, 0, quotedTransport.ToArray(), _host.Now.Nanoseconds));
        if (RecvErr || hard)
        {
            PendingError = errno;
            _readable.WakeAll();
        }
    }

    public bool TryReceive(out RawDatagram? datagram)
    {
        if (!_queue.TryDequeue(out datagram)) return false;
        _rmemAlloc -= datagram.Datagram.Length + 576;
        return true;
    }

    /// <summary>recvmsg(MSG_ERRQUEUE): the oldest queued error; resets sk_err to the next one (ip_recv_error).</summary>
    public bool TryReceiveError(out SockExtendedErr? error)
    {
        if (!_errorQueue.TryDequeue(out error)) return false;
        PendingError = _errorQueue.TryPeek(out var next) ? next.Errno : Errno.None;
        return true;
    }

    /// <summary>recvmsg() that sleeps (in virtual time) until a datagram arrives; must be awaited on the world's scheduler.</summary>
    public async ValueTask<RawDatagram> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (TryReceive(out var d)) return d!;
            await _readable.WaitAsync(cancellationToken);
        }
    }

    /// <summary>poll() for POLLIN | POLLERR: a datagram, a queued error or sk_err; must be awaited on the world's scheduler.</summary>
    public Task WaitReadableAsync(CancellationToken cancellationToken = default)
    {
        if (_queue.Count > 0 || _errorQueue.Count > 0 || PendingError != Errno.None) return Task.CompletedTask;
        return _readable.WaitAsync(cancellationToken);
    }

    public void Dispose()
    {
        if (_closed) return;
        _closed = true;
        _host.Ipv4.RemoveRawSocket(this);
        _queue.Clear();
        _errorQueue.Clear();
    }
}
