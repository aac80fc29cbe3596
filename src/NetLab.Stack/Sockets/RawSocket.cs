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
/// traceroute -I use it with IPPROTO_ICMP.
/// </summary>
public sealed class RawSocket : IDisposable
{
    private readonly Host _host;
    private readonly Queue<RawDatagram> _queue = new();
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

    public int Queued => _queue.Count;

    /// <summary>
    /// Sends <paramref name="message"/> (e.g. an ICMP header and data, checksum filled by the caller); with
    /// <see cref="HeaderIncluded"/>, a whole datagram whose header (source address included) goes out as built,
    /// routed towards <paramref name="destination"/>.
    /// </summary>
    public Errno SendTo(ReadOnlySpan<byte> message, Ipv4Address destination, Ipv4Address source = default)
    {
        if (_closed) return Errno.EINVAL;
        if (message.Length > 0xFFFF) return Errno.EMSGSIZE; // raw_sendmsg(): before routing, nothing queued
        var pkt = _host.Pool.Rent(PacketPool.DefaultHeadroom, message.Length);
        message.CopyTo(pkt.Data);
        if (HeaderIncluded) return _host.Ipv4.OutputRaw(pkt, destination, BoundDevice, Broadcast);
        if (Protocol == IpProtocol.Icmp && message.Length > 0) _host.Icmp.CountOutgoing(message[0]);
        var err = _host.Ipv4.Output(pkt, new IpSendParams(source, destination, Protocol, Ttl, Tos, PmtuDisc,
            BoundDevice, false, Broadcast));
        if (err != Errno.ENOBUFS) return err;
        // raw_sendmsg() → ip_send_skb(): a qdisc drop is OutDiscards, and ENOBUFS only with IP_RECVERR (NetLab has none).
        _host.IpStats.Inc(IpMib.OutDiscards);
        return Errno.None;
    }

    /// <summary>raw_rcv(): a copy of the datagram (Data or NetworkOffset at the IP header). Does not take ownership.</summary>
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

    public bool TryReceive(out RawDatagram? datagram)
    {
        if (!_queue.TryDequeue(out datagram)) return false;
        _rmemAlloc -= datagram.Datagram.Length + 576;
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

    public void Dispose()
    {
        if (_closed) return;
        _closed = true;
        _host.Ipv4.RemoveRawSocket(this);
        _queue.Clear();
    }
}
