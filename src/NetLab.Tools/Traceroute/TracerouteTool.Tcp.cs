using NetLab.Core.Addressing;
using NetLab.Core.Randomness;
using NetLab.Stack;
using NetLab.Stack.IPv4;
using NetLab.Stack.Sockets;
using NetLab.Stack.Tcp;
using NetLab.Tools.Common;

namespace NetLab.Tools;

/// <summary>
/// traceroute's mod-tcp.c (-T, -M tcp): SYNs (or the flags of -O) from a raw TCP socket, each from a source
/// port held by a bound TCP socket; routers answer with ICMP errors, read from the raw socket's error queue,
/// and the target with a SYN-ACK or a RST, read from the raw socket itself, which ends the trace.
/// </summary>
internal sealed partial class TracerouteRun
{
    private const int DefaultTcpPort = 80; // DEF_TCP_PORT

    // mod-tcp: the raw TCP socket, the destination port, -O's flags and options, and the sample segment
    // (tcp_init() builds it once; each probe fills in its port, sequence number and checksum).
    private RawSocket? _tcpSocket;
    private ushort _dstPort;
    private int _tcpFlags;
    private bool _tcpSysctl, _tcpReuse, _tcpInfo;
    private uint _tcpMss;
    private Ipv4Address _src;
    private RandomStream? _random;

    private const int FlFlags = 0x0100, FlEcn = 0x0200, FlSack = 0x0400, FlTstamp = 0x0800, FlWscale = 0x1000;

    /// <summary>
    /// tcp_init(): a raw TCP socket connected to the target (so getsockname() gives the source address for
    /// the checksum and IP_MTU the path MTU), with IP_RECVERR; then the sample SYN. Without -O flags the
    /// options follow net.ipv4.tcp_{sack,timestamps,window_scaling,ecn} (each when it reads "1"): with
    /// Linux's defaults MSS, SACK permitted, timestamps and window scale, a 40-byte header ("60 byte packets").
    /// </summary>
    private string? TcpInit()
    {
        _dstPort = (ushort)(_portSeq != 0 ? _portSeq : DefaultTcpPort);
        var raw = _tcpSocket = RawSocket.Open(ctx.Host, IpProtocol.Tcp);
        if (TuneSocket(raw) is { } tuneErr) return tuneErr;
        if (raw.Connect(_dst) is var connectErr and not Errno.None) return $"connect: {ErrnoText.Describe(connectErr)}";
        _src = raw.LocalAddress;
        if (raw.GetMtu(out int mtu) != Errno.None || mtu < 576) mtu = 576;
        mtu -= Ipv4Repr.HeaderLength + TcpHeaderView.MinLength; // mss = mtu - headers
        raw.RecvErr = true; // use_recverr()
        _random = ctx.RandomStream("traceroute/tcp");

        if (_tcpFlags == 0) _tcpSysctl = true;
        if (_tcpSysctl)
        {
            // check_sysctl(): the first character of /proc/sys/net/ipv4/tcp_NAME must be '1'. NetLab has no
            // tcp_ecn (Linux's default, 2, does not count either).
            var t = ctx.Host.TcpSysctl;
            if (t.TcpSack == 1) _tcpFlags |= FlSack;
            if (t.TcpTimestamps == 1) _tcpFlags |= FlTstamp;
            if (t.TcpWindowScaling == 1) _tcpFlags |= FlWscale;
        }
        if ((_tcpFlags & (FlFlags | 0xff)) == 0) // no TCP flag given: a SYN (with ECE and CWR for -O ecn)
        {
            _tcpFlags |= (int)TcpFlags.Syn;
            if ((_tcpFlags & FlEcn) != 0) _tcpFlags |= (int)(TcpFlags.Ece | TcpFlags.Cwr);
        }

        var options = new List<byte>();
        if ((_tcpFlags & (int)TcpFlags.Syn) != 0)
        {
            ushort mss = (ushort)(_tcpMss != 0 ? _tcpMss : (uint)mtu);
            options.AddRange([TcpOptionKind.Mss, TcpOptionLength.Mss, (byte)(mss >> 8), (byte)mss]);
        }
        if ((_tcpFlags & FlTstamp) != 0)
        {
            if ((_tcpFlags & FlSack) != 0) options.AddRange([TcpOptionKind.SackPermitted, TcpOptionLength.SackPermitted]);
            else options.AddRange([TcpOptionKind.Nop, TcpOptionKind.Nop]);
            options.AddRange([TcpOptionKind.Timestamp, TcpOptionLength.Timestamp]);
            uint tsval = _random.NextUInt32(); // random_seq(), "really!"
            uint tsecr = (_tcpFlags & (int)TcpFlags.Ack) != 0 ? _random.NextUInt32() : 0;
            options.AddRange([(byte)(tsval >> 24), (byte)(tsval >> 16), (byte)(tsval >> 8), (byte)tsval]);
            options.AddRange([(byte)(tsecr >> 24), (byte)(tsecr >> 16), (byte)(tsecr >> 8), (byte)tsecr]);
        }
        else if ((_tcpFlags & FlSack) != 0)
            options.AddRange([TcpOptionKind.Nop, TcpOptionKind.Nop, TcpOptionKind.SackPermitted, TcpOptionLength.SackPermitted]);
        if ((_tcpFlags & FlWscale) != 0)
            options.AddRange([TcpOptionKind.Nop, TcpOptionKind.WindowScale, TcpOptionLength.WindowScale, 2]); // "assume some correct value"

        _data = new byte[TcpHeaderView.MinLength + options.Count];
        options.CopyTo(_data, TcpHeaderView.MinLength);
        var th = TcpHeaderView.ForEmit(_data);
        th.DestinationPort = _dstPort;
        th.DataOffset = _data.Length / 4;
        th.Flags = (TcpFlags)(_tcpFlags & 0xff);
        th.Window = (ushort)(4 * mtu);
        _dataLength = _data.Length; // *packet_len_p: the header line counts the IP header and this
        return null;
    }

    /// <summary>
    /// tcp_send_probe(): a TCP socket bound to port 0 holds a free source port for the probe (it neither
    /// connects nor listens, so the host answers a SYN-ACK with RST: the half-open technique); the sample
    /// segment leaves from that port with a random sequence number through the raw socket.
    /// </summary>
    private string? TcpSendProbe(Probe pb, int ttl)
    {
        var holder = ctx.Host.Tcp.Open();
        if (_tcpReuse) holder.ReuseAddress = true;
        holder.BoundDevice = BoundDevice() ?? 0;
        if (holder.Bind(Ipv4Address.Any, 0) is var bindErr and not Errno.None)
        {
            holder.Dispose();
            return $"bind: {ErrnoText.Describe(bindErr)}";
        }
        var th = TcpHeaderView.ForEmit(_data);
        th.SourcePort = holder.LocalPort;
        th.SequenceNumber = new SeqNum(_random!.NextUInt32());
        th.FillChecksum(_src, _dst);
        var raw = _tcpSocket!;
        if (ttl != _lastTtl)
        {
            raw.Ttl = ttl;
            _lastTtl = ttl;
        }
        pb.SendUs = NowUs;
        var err = raw.Send(_data);
        if (err is Errno.ENOBUFS or Errno.EAGAIN)
        {
            holder.Dispose();
            return null;
        }
        if (err is not (Errno.None or Errno.EMSGSIZE)) return $"send: {ErrnoText.Describe(err)}";
        pb.Sent = true;
        pb.Seq = holder.LocalPort;
        pb.Holder = holder;
        return null;
    }

    /// <summary>
    /// tcp_recv_probe() + recv_reply(): with POLLERR an ICMP error from the error queue, quoting our
    /// segment; else a segment from the target (the IP header stripped), which ends the trace.
    /// </summary>
    private void TcpRecvProbe(RawSocket raw)
    {
        if (raw.ErrorQueueLength > 0 || raw.PendingError != Errno.None)
        {
            if (!raw.TryReceiveError(out var e)) return;
            var probe = TcpCheckReply(true, e!.Destination, e.Payload);
            if (probe is null) return;
            probe.RecvUs = ToolContext.WallMicroseconds(e.TimestampNs);
            probe.RecvTtl = e.OffenderTtl < 0 ? 0 : e.OffenderTtl;
            probe.Res = e.Offender;
            ParseIcmpRes(probe, e.Type, e.Code, e.Info);
            ProbeDone(probe);
            return;
        }
        if (!raw.TryReceive(out var d)) return;
        var buf = d!.Datagram.AsSpan();
        if (buf.Length < Ipv4Repr.HeaderLength) return;
        int hlen = (buf[0] & 0x0F) * 4;
        if (buf.Length < hlen) return;
        var pb = TcpCheckReply(false, d.Source, buf[hlen..]);
        if (pb is null) return;
        pb.Res = d.Source;
        pb.RecvUs = ToolContext.WallMicroseconds(d.TimestampNs);
        pb.RecvTtl = Ipv4HeaderView.ForEmit(buf).Ttl;
        ProbeDone(pb);
    }

    /// <summary>
    /// tcp_check_reply(): the segment (or, for an error, the quoted one) must be between the target's
    /// port and a probe's source port. A segment from the target is final; with -O info its flags are kept.
    /// </summary>
    private Probe? TcpCheckReply(bool err, Ipv4Address from, ReadOnlySpan<byte> tcp)
    {
        if (tcp.Length < 8) return null;
        ushort source = (ushort)(tcp[0] << 8 | tcp[1]), dest = (ushort)(tcp[2] << 8 | tcp[3]);
        var (sport, dport) = err ? (source, dest) : (dest, source);
        if (dport != _dstPort || from != _dst) return null;
        var pb = ProbeBySeq(sport);
        if (pb is null) return null;
        if (!err)
        {
            pb.Final = true;
            if (_tcpInfo) pb.Ext = NamesByFlags(tcp.Length > 13 ? tcp[13] : (byte)0);
        }
        return pb;
    }

    /// <summary>names_by_flags(): "syn,ack", in tcp_flags[] order.</summary>
    private static string NamesByFlags(byte flags)
    {
        string[] names = ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"];
        return string.Join(',', names.Where((_, i) => (flags & (1 << i)) != 0));
    }

    private Keyword TcpFlag(string name, int flag) => new(name, null, _ =>
    {
        _tcpFlags |= flag; // set_tcp_flag(), set_flag()
        return true;
    });

    /// <summary>set_tcp_flags(): "flags=NUM" sets the eight flag bits exactly; only a number must start the value.</summary>
    private bool SetTcpFlags(string? arg)
    {
        ulong value = CFormat.Strtoul(arg!, out int used);
        if (used == 0) return false;
        _tcpFlags = (_tcpFlags & ~0xff) | (int)(value & 0xff) | FlFlags;
        return true;
    }

    /// <summary>CLIF_set_uint(): strtoul(, 0) of the whole value.</summary>
    private bool SetTcpMss(string? arg)
    {
        ulong value = CFormat.Strtoul(arg!, out int used);
        if (used == 0 || used != arg!.Length) return false;
        _tcpMss = (uint)value;
        return true;
    }

    /// <summary>"-O help" of mod-tcp: CLIF_print_options() of tcp_options[].</summary>
    private static readonly string[] TcpOptionsHelp =
    [
        "  syn                         Set tcp flag SYN (default if no other tcp flags",
        "                              specified)",
        "  ack                         Set tcp flag ACK,",
        "  fin                         FIN,",
        "  rst                         RST,",
        "  psh                         PSH,",
        "  urg                         URG,",
        "  ece                         ECE,",
        "  cwr                         CWR",
        "  flags=NUM                   Set tcp flags exactly to value NUM",
        "  ecn                         Send syn packet with tcp flags ECE and CWR (for",
        "                              Explicit Congestion Notification, rfc3168)",
        "  sack                        Use sack,",
        "  timestamps                  timestamps,",
        "  window_scaling              window_scaling option for tcp",
        "  sysctl                      Use current sysctl (/proc/sys/net/*) setting for",
        "                              the tcp options and ecn. Always set by default",
        "                              (with \"syn\") if nothing else specified",
        "  reuse                       Allow to reuse local port numbers for the huge",
        "                              workloads (SO_REUSEADDR)",
        "  mss=NUM                     Use value of NUM for maxseg tcp option (when syn)",
        "  info                        Print tcp flags of final tcp replies when target",
        "                              host is reached. Useful to determine whether an",
        "                              application listens the port etc.",
    ];
}
