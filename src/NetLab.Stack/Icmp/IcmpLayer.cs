using NetLab.Core.Addressing;
using NetLab.Core.Packets;
using NetLab.Core.Randomness;
using NetLab.Stack.IPv4;
using NetLab.Stack.Link;

namespace NetLab.Stack.Icmp;

/// <summary>net/ipv4/icmp.c: echo, errors (with Linux's rate limits), and error delivery to sockets.</summary>
public sealed class IcmpLayer
{
    /// <summary>Linux quotes at most 576 bytes of IP datagram in an error, less the new IP and ICMP headers.</summary>
    public const int MaxQuotedBytes = 576 - Ipv4Repr.HeaderLength - IcmpHeaderView.Length;
    /// <summary>XRLIM_BURST_FACTOR: a peer may burst six errors before the 1/s limit applies.</summary>
    private const int XrlimBurstFactor = 6;

    private readonly Host _host;
    private readonly RandomStream _rng;
    private readonly Dictionary<uint, PeerTokens> _peers = [];
    private long _globalCredit;
    private long _globalStamp;

    private sealed class PeerTokens
    {
        public bool Fresh = true;
        public long Tokens;
        public long Stamp;
        // Redirect rate (ip_rt_send_redirect)
        public int RedirectsSent;
        public long RedirectStamp;
    }

    internal IcmpLayer(Host host)
    {
        _host = host;
        _rng = host.RandomStream("icmp");
        _globalCredit = host.Ipv4Sysctl.IcmpMsgsBurst;
    }

    // ---------------------------------------------------------------- receive

    /// <summary>icmp_rcv(): Data is the ICMP message, NetworkOffset its IP header. Takes ownership.</summary>
    internal void Rcv(NetDevice dev, Packet pkt)
    {
        var stats = _host.IcmpStats;
        stats.Inc(IcmpMib.InMsgs);
        var msg = pkt.Data;
        if (!IcmpHeaderView.TryCreate(msg, out var icmp))
        {
            stats.Inc(IcmpMib.InErrors);
            _host.Drop(pkt, SkbDropReason.PktTooSmall);
            return;
        }
        if (!icmp.VerifyChecksum())
        {
            stats.Inc(IcmpMib.InCsumErrors);
            stats.Inc(IcmpMib.InErrors);
            _host.Drop(pkt, SkbDropReason.IcmpCsum);
            return;
        }
        _host.IcmpInTypes[icmp.Type]++;
        switch (icmp.Type)
        {
            case IcmpType.EchoRequest:
                stats.Inc(IcmpMib.InEchos);
                Echo(dev, pkt);
                return;
            case IcmpType.EchoReply:
                stats.Inc(IcmpMib.InEchoReps);
                break;
            case IcmpType.DestinationUnreachable:
                stats.Inc(IcmpMib.InDestUnreachs);
                Unreach(pkt);
                break;
            case IcmpType.TimeExceeded:
                stats.Inc(IcmpMib.InTimeExcds);
                Unreach(pkt);
                break;
            case IcmpType.ParameterProblem:
                stats.Inc(IcmpMib.InParmProbs);
                Unreach(pkt);
                break;
            case IcmpType.Redirect:
                stats.Inc(IcmpMib.InRedirects);
                break;
            case IcmpType.SourceQuench:
                stats.Inc(IcmpMib.InSrcQuenchs);
                break;
            case IcmpType.Timestamp:
                stats.Inc(IcmpMib.InTimestamps);
                break;
            case IcmpType.TimestampReply:
                stats.Inc(IcmpMib.InTimestampReps);
                break;
        }
        pkt.Dispose();
    }

    /// <summary>icmp_echo(): answer with the same identifier, sequence and data.</summary>
    private void Echo(NetDevice dev, Packet request)
    {
        var ip = Ipv4HeaderView.ForEmit(request.Buffer[request.NetworkOffset..]);
        var dst = ip.Destination;
        bool broadcast = dst.IsMulticast || _host.Ipv4.IsBroadcast(dst) || request.PacketType is PacketType.Broadcast or PacketType.Multicast;
        if (_host.Ipv4Sysctl.IcmpEchoIgnoreAll != 0)
        {
            request.Dispose();
            return;
        }
        if (broadcast && _host.Ipv4Sysctl.IcmpEchoIgnoreBroadcasts != 0)
        {
            _host.IcmpStats.Inc(IcmpMib.InErrors);
            _host.Drop(request, SkbDropReason.NotSpecified);
            return;
        }
        var reply = _host.Pool.Rent(PacketPool.DefaultHeadroom, request.Length);
        request.Data.CopyTo(reply.Data);
        var v = IcmpHeaderView.ForEmit(reply.Data);
        v.Type = IcmpType.EchoReply;
        v.FillChecksum();
        // fib_compute_spec_dst(): reply from the address asked, or for broadcasts the interface's.
        var src = broadcast ? _host.Ipv4.SelectSourceAddress(dev, ip.Source) : dst;
        var p = new IpSendParams(src, ip.Source, IpProtocol.Icmp, Tos: ip.Tos, PmtuDisc: PmtuDisc.Dont);
        request.Dispose();
        Send(reply, IcmpType.EchoReply, p);
    }

    /// <summary>icmp_unreach() et al.: learn the PMTU and report the error to the socket that caused it.</summary>
    private void Unreach(Packet pkt)
    {
        var msg = pkt.Data;
        var icmp = IcmpHeaderView.ForEmit(msg);
        var quoted = icmp.Payload;
        if (quoted.Length < Ipv4HeaderView.MinLength || (quoted[0] >> 4) != 4) return;
        int ihl = (quoted[0] & 0xF) * 4;
        if (ihl < Ipv4HeaderView.MinLength || quoted.Length < ihl + 8) return; // need the first 8 bytes of the transport header
        var inner = Ipv4HeaderView.ForEmit(quoted);
        var outer = Ipv4HeaderView.ForEmit(pkt.Buffer[pkt.NetworkOffset..]);
        uint info = icmp.RestOfHeader;
        if (icmp.Type == IcmpType.DestinationUnreachable && icmp.Code == IcmpCode.FragmentationNeeded)
        {
            info = icmp.NextHopMtu;
            if (_host.Ipv4Sysctl.IpNoPmtuDisc == 0) _host.Ipv4.UpdatePmtu(inner.Destination, (int)info);
        }
        else if (icmp.Type == IcmpType.ParameterProblem) info >>= 24;
        var error = new IcmpError(icmp.Type, icmp.Code, info, outer.Source, outer.Ttl,
            inner.Source, inner.Destination, inner.Protocol);
        var transport = quoted[ihl..];
        _host.Ipv4.RawIcmpError(error, transport); // icmp_socket_deliver(): raw sockets first, then the protocol
        if (inner.Protocol == IpProtocol.Udp) _host.Udp.Err(error, transport);
        else if (inner.Protocol == IpProtocol.Tcp) _host.Tcp.Err(error, transport);
    }

    // ---------------------------------------------------------------- send

    /// <summary>
    /// __icmp_send(): an error about <paramref name="offending"/> (its IP header at NetworkOffset, or at
    /// Data when NetworkOffset is unset). Never takes ownership. Applies Linux's never-answer rules and rate limits.
    /// </summary>
    public void SendError(Packet offending, NetDevice? inDev, byte type, byte code, uint info)
    {
        int at = offending.NetworkOffset >= 0 ? offending.NetworkOffset : offending.DataOffset;
        var buf = offending.Buffer[at..(offending.DataOffset + offending.Length)];
        if (!Ipv4HeaderView.TryCreate(buf, out var ip)) return;
        if (offending.PacketType is PacketType.Broadcast or PacketType.Multicast or PacketType.OtherHost) return;
        if (ip.Destination.IsMulticast || _host.Ipv4.IsBroadcast(ip.Destination)) return;
        if (ip.FragmentOffset != 0) return;
        if (ip.Source.IsUnspecified || ip.Source.IsMulticast || ip.Source.IsLimitedBroadcast) return;
        if (ip.Protocol == IpProtocol.Icmp)
        {
            var payload = buf[ip.HeaderLength..ip.TotalLength];
            // An error about an ICMP error (or an unknown type, which Linux treats as one) is never sent.
            if (payload.Length < 1 || IcmpType.IsError(payload[0]) || payload[0] > 18) return;
        }
        // Errors to ourselves leave through lo and are never rate limited.
        bool loopback = (inDev?.IsLoopback ?? false) || _host.Ipv4.IsLocalAddress(ip.Source);
        if (!RateAllow(type, code, ip.Source, loopback)) return;

        int quote = Math.Min((int)ip.TotalLength, MaxQuotedBytes);
        var pkt = _host.Pool.Rent(PacketPool.DefaultHeadroom, IcmpHeaderView.Length + quote);
        buf[..quote].CopyTo(pkt.Data[IcmpHeaderView.Length..]);
        uint rest = type switch
        {
            IcmpType.DestinationUnreachable when code == IcmpCode.FragmentationNeeded => info & 0xFFFF,
            IcmpType.Redirect => info,
            IcmpType.ParameterProblem => info << 24,
            _ => 0,
        };
        new IcmpRepr(type, code, rest, quote).Emit(pkt.Data);

        var src = Ipv4Address.Any;
        if (_host.Ipv4.IsLocalAddress(ip.Destination)) src = ip.Destination;
        else if (inDev is not null && _host.Ipv4Sysctl.IcmpErrorsUseInboundIfaddr != 0)
            src = _host.Ipv4.SelectSourceAddress(inDev, ip.Source, RouteScope.Link);
        var p = new IpSendParams(src, ip.Source, IpProtocol.Icmp, Tos: (byte)((ip.Tos & 0x1E) | 0xC0), PmtuDisc: PmtuDisc.Dont);
        Send(pkt, type, p);
    }

    /// <summary>ip_rt_send_redirect(): host redirect, first at once, then with exponential backoff (20 ms &lt;&lt; n), at most 9.</summary>
    internal void SendRedirect(Packet pkt, NetDevice inDev, Ipv4Address gateway)
    {
        var ip = Ipv4HeaderView.ForEmit(pkt.Data);
        var peer = Peer(ip.Source);
        long now = _host.Now.Nanoseconds;
        const long load = 20_000_000, silence = 20_480_000_000;
        if (now - peer.RedirectStamp > silence) peer.RedirectsSent = 0;
        if (peer.RedirectsSent >= 9) { peer.RedirectStamp = now; return; }
        if (peer.RedirectsSent == 0 || now > peer.RedirectStamp + (load << peer.RedirectsSent))
        {
            peer.RedirectsSent++;
            peer.RedirectStamp = now;
            SendError(pkt, inDev, IcmpType.Redirect, IcmpCode.RedirectHost, gateway.Value);
        }
    }

    private void Send(Packet pkt, byte type, in IpSendParams p)
    {
        _host.IcmpStats.Inc(IcmpMib.OutMsgs);
        _host.IcmpOutTypes[type]++;
        _host.IcmpStats.Inc(type switch
        {
            IcmpType.EchoReply => IcmpMib.OutEchoReps,
            IcmpType.DestinationUnreachable => IcmpMib.OutDestUnreachs,
            IcmpType.TimeExceeded => IcmpMib.OutTimeExcds,
            IcmpType.ParameterProblem => IcmpMib.OutParmProbs,
            IcmpType.Redirect => IcmpMib.OutRedirects,
            IcmpType.EchoRequest => IcmpMib.OutEchos,
            _ => IcmpMib.OutMsgs,
        });
        if (type == IcmpType.EchoRequest) return; // not used: requests come from sockets
        // icmp_push_reply() ignores what ip_push_pending_frames() returns: a qdisc drop is no OutErrors.
        if (_host.Ipv4.Output(pkt, p) is not (Errno.None or Errno.ENOBUFS)) _host.IcmpStats.Inc(IcmpMib.OutErrors);
    }

    /// <summary>Counts an ICMP message a raw socket sent (icmp_out_count).</summary>
    internal void CountOutgoing(byte type)
    {
        _host.IcmpStats.Inc(IcmpMib.OutMsgs);
        _host.IcmpOutTypes[type]++;
        if (type == IcmpType.EchoRequest) _host.IcmpStats.Inc(IcmpMib.OutEchos);
        else if (type == IcmpType.EchoReply) _host.IcmpStats.Inc(IcmpMib.OutEchoReps);
    }

    /// <summary>
    /// icmpv4_xrlim_allow() + icmp_global_allow(): types in icmp_ratemask (except frag-needed) pass a
    /// global credit (icmp_msgs_per_sec, icmp_msgs_burst) and a per-destination token bucket
    /// (icmp_ratelimit ms per message, burst of six).
    /// </summary>
    private bool RateAllow(byte type, byte code, Ipv4Address destination, bool loopback)
    {
        var s = _host.Ipv4Sysctl;
        if (type > 31 || (s.IcmpRatemask & (1 << type)) == 0) return true;
        if (type == IcmpType.DestinationUnreachable && code == IcmpCode.FragmentationNeeded) return true;
        if (loopback) return true;
        long now = _host.Now.Nanoseconds;

        // Global: refill msgs_per_sec * delta (delta capped at 1 s, skipped under 20 ms), capped at burst.
        if (_globalCredit <= 0)
        {
            long delta = Math.Min(now - _globalStamp, 1_000_000_000L);
            if (delta >= 20_000_000)
            {
                _globalCredit = Math.Min(_globalCredit + s.IcmpMsgsPerSec * delta / 1_000_000_000L, s.IcmpMsgsBurst);
                _globalStamp = now;
            }
        }
        if (_globalCredit <= 0)
        {
            _host.IcmpStats.Inc(IcmpMib.OutRateLimitGlobal);
            return false;
        }
        _globalCredit -= _rng.Next(3);

        // Per peer: tokens in ns, up to 6 * ratelimit; each message costs ratelimit.
        long timeout = s.IcmpRatelimit * 1_000_000L;
        if (timeout == 0) return true;
        var peer = Peer(destination);
        if (peer.Fresh) { peer.Fresh = false; peer.Tokens = XrlimBurstFactor * timeout; peer.Stamp = now; }
        peer.Tokens = Math.Min(peer.Tokens + (now - peer.Stamp), XrlimBurstFactor * timeout);
        peer.Stamp = now;
        if (peer.Tokens >= timeout)
        {
            peer.Tokens -= timeout;
            return true;
        }
        _host.IcmpStats.Inc(IcmpMib.OutRateLimitHost);
        return false;
    }

    private PeerTokens Peer(Ipv4Address a)
    {
        if (!_peers.TryGetValue(a.Value, out var p)) _peers[a.Value] = p = new PeerTokens();
        return p;
    }
}

/// <summary>An ICMP error as a socket sees it (the fields of struct sock_extended_err plus the quoted addresses).</summary>
public readonly record struct IcmpError(
    byte Type, byte Code, uint Info, Ipv4Address Offender, byte OffenderTtl,
    Ipv4Address QuotedSource, Ipv4Address QuotedDestination, byte QuotedProtocol)
{
    /// <summary>icmp_err_convert[] and icmp_err handling: the errno and whether it is hard (fatal).</summary>
    public (Errno Errno, bool Fatal) ToErrno() => Type switch
    {
        IcmpType.DestinationUnreachable => Code switch
        {
            0 or 11 => (Errno.ENETUNREACH, false),
            1 or 12 => (Errno.EHOSTUNREACH, false),
            2 => (Errno.ENOPROTOOPT, true),
            3 => (Errno.ECONNREFUSED, true),
            4 => (Errno.EMSGSIZE, false),
            5 => (Errno.EOPNOTSUPP, false),
            6 or 9 => (Errno.ENETUNREACH, true),
            7 => (Errno.EHOSTDOWN, true),
            _ => (Errno.EHOSTUNREACH, true),
        },
        IcmpType.TimeExceeded => (Errno.EHOSTUNREACH, false),
        IcmpType.ParameterProblem => (Errno.EPROTO, true),
        _ => (Errno.None, false),
    };
}
