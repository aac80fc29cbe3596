using NetLab.Core.Addressing;
using NetLab.Core.Packets;
using NetLab.Stack.Icmp;
using NetLab.Stack.IPv4;
using NetLab.Stack.Sockets;

namespace NetLab.Stack.Udp;

/// <summary>One received datagram, as recvfrom() returns it.</summary>
public readonly record struct UdpReceiveResult(int Length, Ipv4Address Address, ushort Port, byte Ttl, int IfIndex);

/// <summary>
/// A UDP socket: non-blocking core (errno results, EAGAIN when empty) with async adapters that
/// run on the scheduler (CONVENTIONS rule 15). Datagram boundaries are kept.
/// </summary>
public sealed class UdpSocket : IDisposable
{
    private readonly Host _host;
    private readonly Queue<(Packet Packet, int IfIndex)> _receiveQueue = new();
    private readonly Queue<SockExtendedErr> _errorQueue = new();
    private readonly WaitQueue _readable;
    private int _rcvBuf;
    private long _rmemAlloc;
    private bool _closed;

    internal UdpSocket(Host host)
    {
        _host = host;
        _readable = new(host.Scheduler);
        _rcvBuf = host.Core.RmemDefault;
        PmtuDisc = InitialPmtuDisc(host);
    }

    /// <summary>inet_create(): WANT, or DONT when net.ipv4.ip_no_pmtu_disc is set.</summary>
    internal static PmtuDisc InitialPmtuDisc(Host host) =>
        host.Ipv4Sysctl.IpNoPmtuDisc != 0 ? PmtuDisc.Dont : PmtuDisc.Want;

    public Ipv4Address LocalAddress { get; private set; }
    public ushort LocalPort { get; internal set; }
    public Ipv4Address RemoteAddress { get; private set; }
    public ushort RemotePort { get; private set; }

    // Socket options.
    /// <summary>IP_TTL; -1 uses net.ipv4.ip_default_ttl.</summary>
    public int Ttl { get; set; } = -1;
    public byte Tos { get; set; }
    /// <summary>IP_MTU_DISCOVER; sockets start at WANT unless ip_no_pmtu_disc is set.</summary>
    public PmtuDisc PmtuDisc { get; set; }
    /// <summary>IP_RECVERR: queue ICMP errors for MSG_ERRQUEUE.</summary>
    public bool RecvErr { get; set; }
    /// <summary>SO_BROADCAST: required to send to a broadcast address (else EACCES).</summary>
    public bool Broadcast { get; set; }
    public bool ReuseAddress { get; set; }
    /// <summary>SO_BINDTODEVICE as an ifindex (0: none).</summary>
    public int BoundDevice { get; set; }

    /// <summary>SO_RCVBUF: the kernel doubles the value asked for, clamped to rmem_max (sock_setsockopt).</summary>
    public int ReceiveBufferSize
    {
        get => _rcvBuf;
        set => _rcvBuf = Math.Max(Math.Min(value, _host.Core.RmemMax) * 2, 2304);
    }

    /// <summary>Pending socket error (sk_err), reported once by the next call.</summary>
    public Errno PendingError { get; private set; }

    public int QueuedDatagrams => _receiveQueue.Count;
    public long ReceiveQueueBytes => _rmemAlloc;
    public int ErrorQueueLength => _errorQueue.Count;

    /// <summary>Fires when a datagram or an error arrives.</summary>
    public event Action? Readable;

    public Errno Bind(Ipv4Address address, ushort port)
    {
        if (LocalPort != 0) return Errno.EINVAL;
        if (!address.IsUnspecified && !_host.Ipv4.IsLocalAddress(address) && !_host.Ipv4.IsBroadcast(address)
            && _host.Ipv4Sysctl.IpNonlocalBind == 0)
            return Errno.EADDRNOTAVAIL;
        var err = _host.Udp.BindPort(this, address, port);
        if (err == Errno.None) LocalAddress = address;
        return err;
    }

    /// <summary>connect(): fixes the peer, auto-binds, and picks the source address from the route (ip4_datagram_connect).</summary>
    public Errno Connect(Ipv4Address address, ushort port)
    {
        var route = _host.Ipv4.RouteOutput(address, BoundDevice);
        if (route is null) return Errno.ENETUNREACH;
        if (route.Type == RouteType.Broadcast && !Broadcast) return Errno.EACCES;
        if (LocalPort == 0)
        {
            var err = _host.Udp.BindPort(this, Ipv4Address.Any, 0);
            if (err != Errno.None) return err;
        }
        if (LocalAddress.IsUnspecified)
            LocalAddress = route.PreferredSource ?? _host.Ipv4.SelectSourceAddress(route.Device, address);
        RemoteAddress = address;
        RemotePort = port;
        return Errno.None;
    }

    public Errno Send(ReadOnlySpan<byte> data) =>
        RemoteAddress.IsUnspecified ? Errno.EDESTADDRREQ : SendTo(data, RemoteAddress, RemotePort);

    /// <summary>sendto(): one datagram. A pending error is returned (and cleared) first, as sock_alloc_send_pskb does.</summary>
    public Errno SendTo(ReadOnlySpan<byte> data, Ipv4Address address, ushort port)
    {
        if (_closed) return Errno.EINVAL;
        if (TakePendingError() is var pending and not Errno.None) return pending;
        if (data.Length > 65507) return Errno.EMSGSIZE;
        if (LocalPort == 0)
        {
            var err = _host.Udp.BindPort(this, Ipv4Address.Any, 0);
            if (err != Errno.None) return err;
        }
        var pkt = _host.Pool.Rent(PacketPool.DefaultHeadroom, data.Length);
        data.CopyTo(pkt.Data);
        var result = _host.Udp.Send(pkt, this, address, port);
        if (result == Errno.EMSGSIZE && RecvErr)
        {
            // ip_local_error(): the error queue learns the MTU that refused the datagram. Its msg_name
            // carries inet_dport (0 on an unconnected socket), not the port sent to, and no payload.
            // Unlike an ICMP error it leaves sk_err alone: sendto() already returned the errno.
            var route = _host.Ipv4.RouteOutput(address, BoundDevice);
            int mtu = route is null ? 0 : PmtuDisc >= PmtuDisc.Probe ? route.Device!.Mtu : _host.Ipv4.PathMtu(route, address);
            _errorQueue.Enqueue(new SockExtendedErr(Errno.EMSGSIZE, ErrOrigin.Local, 0, 0, (uint)mtu, Ipv4Address.Any, -1,
                address, RemotePort, [], _host.Now.Nanoseconds));
            WakeUp();
        }
        return result;
    }

    /// <summary>recvfrom() without blocking: EAGAIN when empty; a pending error first.</summary>
    public Errno TryReceive(Span<byte> buffer, out UdpReceiveResult result)
    {
        result = default;
        if (TakePendingError() is var pending and not Errno.None) return pending;
        if (!_receiveQueue.TryDequeue(out var item)) return Errno.EAGAIN;
        var pkt = item.Packet;
        _rmemAlloc -= Truesize(pkt);
        var ip = Ipv4HeaderView.ForEmit(pkt.Buffer[pkt.NetworkOffset..]);
        var udp = UdpHeaderView.ForEmit(pkt.Data);
        var payload = udp.Payload;
        int n = Math.Min(payload.Length, buffer.Length); // MSG_TRUNC semantics: the rest is lost
        payload[..n].CopyTo(buffer);
        result = new UdpReceiveResult(n, ip.Source, udp.SourcePort, ip.Ttl, item.IfIndex);
        _host.UdpStats.Inc(UdpMib.InDatagrams);
        pkt.Dispose();
        return Errno.None;
    }

    /// <summary>recvfrom() that waits (in virtual time) for a datagram; throws <see cref="NetLabSocketException"/> on errors.</summary>
    public async ValueTask<UdpReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var err = TryReceive(buffer.Span, out var result);
            if (err == Errno.None) return result;
            if (err != Errno.EAGAIN) throw new NetLabSocketException(err);
            await WaitReadableAsync(cancellationToken);
        }
    }

    /// <summary>recvmsg(MSG_ERRQUEUE): the oldest queued error; resets sk_err to the next one (ip_recv_error).</summary>
    public bool TryReceiveError(out SockExtendedErr? error)
    {
        if (!_errorQueue.TryDequeue(out error)) return false;
        PendingError = _errorQueue.TryPeek(out var next) ? next.Errno : Errno.None;
        return true;
    }

    /// <summary>Waits until a datagram or an error is ready (poll for POLLIN | POLLERR); must be awaited on the world's scheduler.</summary>
    public Task WaitReadableAsync(CancellationToken cancellationToken = default)
    {
        if (_receiveQueue.Count > 0 || _errorQueue.Count > 0 || PendingError != Errno.None) return Task.CompletedTask;
        return _readable.WaitAsync(cancellationToken);
    }

    private Errno TakePendingError()
    {
        var e = PendingError;
        PendingError = Errno.None;
        return e;
    }

    /// <summary>SKB_TRUESIZE: the buffer a driver allocates for the frame plus sk_buff overhead (about 576 bytes on x86_64).</summary>
    private static long Truesize(Packet p) => ((p.Length + 28 + 14 + 63) & ~63) + 576;

    /// <summary>__udp_enqueue_schedule_skb(): queue unless the receive buffer is already over its limit.</summary>
    internal void Enqueue(Packet pkt, int ifIndex)
    {
        long size = Truesize(pkt);
        if (_closed || _rmemAlloc > _rcvBuf) // the queue may overshoot rcvbuf by one datagram, as Linux's does
        {
            _host.UdpStats.Inc(UdpMib.RcvbufErrors);
            _host.UdpStats.Inc(UdpMib.InErrors);
            _host.Drop(pkt, SkbDropReason.SocketRcvBuff);
            return;
        }
        _rmemAlloc += size;
        _receiveQueue.Enqueue((pkt, ifIndex));
        WakeUp();
    }

    /// <summary>udp_err(): hard errors on connected sockets, or every error with IP_RECVERR.</summary>
    internal void OnIcmpError(in IcmpError error, ushort dport, ReadOnlySpan<byte> quotedPayload)
    {
        var (errno, fatal) = error.ToErrno();
        if (error.Type == IcmpType.DestinationUnreachable && error.Code == IcmpCode.FragmentationNeeded)
        {
            if (PmtuDisc == PmtuDisc.Dont) return;
            fatal = true;
        }
        if (errno == Errno.None) return;
        if (!RecvErr)
        {
            if (!fatal || RemoteAddress.IsUnspecified) return;
        }
        else
        {
            _errorQueue.Enqueue(new SockExtendedErr(errno, ErrOrigin.Icmp, error.Type, error.Code, error.Info, error.Offender,
                error.OffenderTtl, error.QuotedDestination, dport, quotedPayload.ToArray(), _host.Now.Nanoseconds));
        }
        PendingError = errno;
        WakeUp();
    }

    private void WakeUp()
    {
        _readable.WakeAll();
        Readable?.Invoke();
    }

    public void Dispose()
    {
        if (_closed) return;
        _closed = true;
        _host.Udp.Unhash(this);
        while (_receiveQueue.TryDequeue(out var item)) item.Packet.Dispose();
        _rmemAlloc = 0;
        WakeUp();
    }
}
