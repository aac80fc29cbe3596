using NetLab.Core.Addressing;
using NetLab.Core.Packets;
using NetLab.Core.Time;
using NetLab.Stack.Icmp;
using NetLab.Stack.IPv4;
using NetLab.Stack.Link;

namespace NetLab.Stack.Tcp;

/// <summary>
/// net/ipv4/tcp_ipv4.c: the hash tables (established, request socks, TIME_WAIT, listeners, bound ports),
/// tcp_v4_rcv()'s demultiplexing, resets for segments without a socket, TIME_WAIT processing, port
/// selection for connect(), and ICMP errors to sockets.
/// </summary>
public sealed class TcpLayer
{
    private readonly Host _host;
    private readonly Dictionary<FourTuple, TcpSocket> _established = [];
    private readonly Dictionary<FourTuple, RequestSock> _requests = [];
    private readonly Dictionary<FourTuple, TimeWaitSock> _timeWait = [];
    private readonly Dictionary<ushort, List<TcpSocket>> _listeners = [];
    private readonly Dictionary<ushort, List<TcpSocket>> _bound = [];
    private readonly Core.Randomness.RandomStream _portRng;
    private readonly TcpSecrets _secrets;
    private long _challengeStampSec = -1;
    private int _challengeBudget;

    internal TcpLayer(Host host)
    {
        _host = host;
        _portRng = host.RandomStream("tcp/ports");
        _secrets = TcpSecrets.Create(host.RandomStream("tcp/secrets"));
    }

    /// <summary>socket(AF_INET, SOCK_STREAM, 0).</summary>
    public TcpSocket Open() => new(_host, this);

    /// <summary>tcp_orphan_count: closed by the application, still alive in the stack (ss -s "orphaned").</summary>
    public int OrphanCount { get; internal set; }

    /// <summary>tcp_sockets_allocated: full sockets not yet freed, whatever their state (ss -s "TCP:").</summary>
    public int AllocatedCount { get; internal set; }

    private long _lastSocketId;
    internal long NextSocketId() => ++_lastSocketId;

    /// <summary>Sockets in TIME_WAIT (tw_count, both substates).</summary>
    public int TimeWaitCount => _timeWait.Count;

    internal Host Host => _host;

    // ------------------------------------------------------------------ ISN and timestamps

    /// <summary>secure_tcp_seq(): a keyed hash of the 4-tuple plus a 64 ns clock.</summary>
    internal uint SecureSeq(Ipv4Address saddr, Ipv4Address daddr, ushort sport, ushort dport) =>
        SecureSequence.SecureTcpSeq(_secrets, saddr, daddr, sport, dport, _host.Now.Nanoseconds).Value;

    /// <summary>secure_tcp_ts_off(): per address pair.</summary>
    internal uint SecureTsOff(Ipv4Address saddr, Ipv4Address daddr) =>
        SecureSequence.SecureTcpTsOff(_secrets, saddr, daddr, _host.TcpSysctl.TcpTimestamps);

    internal TcpSecrets Secrets => _secrets;

    // ------------------------------------------------------------------ binding

    /// <summary>inet_csk_get_port(): bind to <paramref name="port"/>, or an ephemeral one when 0.</summary>
    internal Errno BindPort(TcpSocket s, Ipv4Address address, ushort port)
    {
        if (port != 0)
        {
            if (BindConflict(s, address, port)) return Errno.EADDRINUSE;
            AddBound(s, port);
            return Errno.None;
        }
        var range = _host.Ipv4Sysctl.IpLocalPortRange;
        int low = range[0], n = range[1] - range[0] + 1;
        int start = _portRng.Next(n) | 1;
        // bind(0) tries odd ports first, leaving even ones to connect(), and takes the first port whose users
        // do not conflict (inet_csk_find_open_port(): an existing bucket is fine without a conflict).
        for (int parity = 1; parity >= 0; parity--)
            for (int i = 0; i < n; i += 2)
            {
                int p = low + (start - 1 + parity + i) % n;
                if (!BindConflict(s, address, (ushort)p))
                {
                    AddBound(s, (ushort)p);
                    return Errno.None;
                }
            }
        return Errno.EADDRINUSE;
    }

    private bool BindConflict(TcpSocket s, Ipv4Address address, ushort port)
    {
        if (_bound.TryGetValue(port, out var list))
        {
            foreach (var o in list)
            {
                if (o == s) continue;
                bool overlap = o.LocalAddress.IsUnspecified || address.IsUnspecified || o.LocalAddress == address;
                if (!overlap) continue;
                // SO_REUSEADDR on both lets a port be shared unless the other one is listening.
                if (s.ReuseAddress && o.ReuseAddress && o.State != TcpState.Listen) continue;
                return true;
            }
        }
        // inet_bind_conflict(): a TIME_WAIT holds its port unless both it (tw_reuse) and the new socket have SO_REUSEADDR.
        foreach (var (key, tw) in _timeWait)
            if (key.LocalPort == port && (address.IsUnspecified || key.Local == address) && !(s.ReuseAddress && tw.Reuse)) return true;
        return false;
    }

    private void AddBound(TcpSocket s, ushort port)
    {
        if (!_bound.TryGetValue(port, out var list)) _bound[port] = list = [];
        list.Add(s);
        s.LocalPort = port;
    }

    internal Errno HashListener(TcpSocket s)
    {
        if (!_listeners.TryGetValue(s.LocalPort, out var list)) _listeners[s.LocalPort] = list = [];
        foreach (var o in list)
            if (o.LocalAddress == s.LocalAddress || o.LocalAddress.IsUnspecified || s.LocalAddress.IsUnspecified)
                return Errno.EADDRINUSE;
        list.Add(s);
        return Errno.None;
    }

    /// <summary>
    /// inet_hash_connect(): pick the local port (or keep a bound one) so that the 4-tuple is unique among
    /// established and TIME_WAIT sockets; a TIME_WAIT may be taken over (tcp_twsk_unique). Returns the
    /// ISN to use when a TIME_WAIT was recycled.
    /// </summary>
    internal Errno HashConnect(TcpSocket s, out uint? reusedIsn)
    {
        reusedIsn = null;
        if (s.LocalPort != 0)
        {
            var tuple = new FourTuple(s.LocalAddress, s.LocalPort, s.RemoteAddress, s.RemotePort);
            if (!CheckEstablished(tuple, twp: false, out reusedIsn)) return Errno.EADDRNOTAVAIL;
            _established[tuple] = s;
            return Errno.None;
        }
        var range = _host.Ipv4Sysctl.IpLocalPortRange;
        int low = range[0], n = range[1] - range[0] + 1;
        int offset = _portRng.Next(n) & ~1;
        // connect() tries even ports first, then odd (inet_hash_connect since Linux 6.1).
        for (int pass = 0; pass < 2; pass++)
            for (int i = pass; i < n; i += 2)
            {
                ushort p = (ushort)(low + (offset + i) % n);
                if (_bound.TryGetValue(p, out var users) && users.Exists(u => u.State == TcpState.Listen || u.IsExplicitlyBound)) continue;
                var tuple = new FourTuple(s.LocalAddress, p, s.RemoteAddress, s.RemotePort);
                if (!CheckEstablished(tuple, twp: true, out reusedIsn)) continue;
                AddBound(s, p);
                _established[tuple] = s;
                return Errno.None;
            }
        return Errno.EADDRNOTAVAIL;
    }

    /// <summary>__inet_check_established(): the tuple is free, or held by a TIME_WAIT that tcp_twsk_unique() lets us reuse.</summary>
    private bool CheckEstablished(FourTuple tuple, bool twp, out uint? reusedIsn)
    {
        reusedIsn = null;
        if (_established.ContainsKey(tuple) || _requests.ContainsKey(tuple)) return false;
        if (!_timeWait.TryGetValue(tuple, out var tw)) return true;
        if (tw.Substate != TcpState.TimeWait) return false;
        int reuse = _host.TcpSysctl.TcpTwReuse;
        if (reuse == 2)
            reuse = tuple.Local.IsLoopback || tuple.Remote.IsLoopback ? 1 : 0;
        long nowMs = _host.Now.Nanoseconds / 1_000_000;
        // tcp_twsk_unique(): only with timestamps (tw_ts_recent_stamp set); at once for an explicitly bound port
        // (twp == NULL), else with tcp_tw_reuse once tcp_tw_reuse_delay ms have passed since entry.
        bool ok = tw.TsOk
            && (!twp || (reuse != 0 && nowMs > tw.EntryUs / 1000 + _host.TcpSysctl.TcpTwReuseDelay));
        if (!ok) return false;
        uint isn = (tw.SndNxt + 65535 + 2).Value;
        reusedIsn = isn == 0 ? 1 : isn;
        RemoveTimeWait(tw);
        _host.TcpExtStats.Inc(TcpExtMib.TWRecycled);
        return true;
    }

    internal void UnhashEstablished(TcpSocket s)
    {
        var tuple = new FourTuple(s.LocalAddress, s.LocalPort, s.RemoteAddress, s.RemotePort);
        if (_established.TryGetValue(tuple, out var cur) && cur == s) _established.Remove(tuple);
    }

    /// <summary>Removes a socket from every table (inet_unhash + inet_put_port).</summary>
    internal void Unhash(TcpSocket s)
    {
        UnhashEstablished(s);
        if (_listeners.TryGetValue(s.LocalPort, out var ls))
        {
            ls.Remove(s);
            if (ls.Count == 0) _listeners.Remove(s.LocalPort);
        }
        if (s.LocalPort != 0 && _bound.TryGetValue(s.LocalPort, out var bs))
        {
            bs.Remove(s);
            if (bs.Count == 0) _bound.Remove(s.LocalPort);
        }
    }

    internal void HashChild(TcpSocket child, ushort port)
    {
        _established[new FourTuple(child.LocalAddress, child.LocalPort, child.RemoteAddress, child.RemotePort)] = child;
        if (!_bound.TryGetValue(port, out var list)) _bound[port] = list = [];
        list.Add(child);
    }

    // ------------------------------------------------------------------ request socks

    internal void AddRequest(RequestSock req) => _requests[req.Tuple] = req;

    internal void RemoveRequest(RequestSock req)
    {
        if (_requests.TryGetValue(req.Tuple, out var cur) && cur == req) _requests.Remove(req.Tuple);
        req.Timer?.Cancel();
    }

    internal IEnumerable<RequestSock> RequestsOf(TcpSocket listener) => _requests.Values.Where(r => r.Listener == listener).ToList();

    // ------------------------------------------------------------------ TIME_WAIT

    internal void AddTimeWait(TcpSocket s, TcpState substate, long timeoUs, SeqNum sndNxt, SeqNum rcvNxt, int rcvWnd, int rcvWscale,
        bool tsOk, uint tsRecent, long tsRecentStampUs, uint tsOffset)
    {
        if (_timeWait.Count >= _host.TcpSysctl.TcpMaxTwBuckets)
        {
            _host.TcpExtStats.Inc(TcpExtMib.TCPTimeWaitOverflow);
            return;
        }
        var tw = new TimeWaitSock
        {
            Tuple = new FourTuple(s.LocalAddress, s.LocalPort, s.RemoteAddress, s.RemotePort),
            Substate = substate, SndNxt = sndNxt, RcvNxt = rcvNxt, RcvWnd = rcvWnd, RcvWscale = rcvWscale,
            TsOk = tsOk, TsRecent = tsRecent, TsRecentStampUs = tsOk ? tsRecentStampUs : 0, TsOffset = tsOffset,
            EntryUs = NowUs, Reuse = s.ReuseAddress,
        };
        tw.Timer = new SimTimer(_host.Scheduler, () => OnTimeWaitTimer(tw));
        _timeWait[tw.Tuple] = tw;
        // __inet_twsk_schedule(): counted when first scheduled, as TWKilled for a timeout of at most 4 s (3.5 RTO
        // FIN_WAIT2 lifetimes), else TW; neither expiry nor an early kill counts again.
        _host.TcpExtStats.Inc(timeoUs <= 4_000_000 ? TcpExtMib.TWKilled : TcpExtMib.TW);
        RescheduleTimeWait(tw, timeoUs);
    }

    private long NowUs => _host.Now.Nanoseconds / 1000;

    private void RescheduleTimeWait(TimeWaitSock tw, long timeoUs)
    {
        tw.DeadlineUs = NowUs + timeoUs;
        var at = new SimTime(tw.DeadlineUs * 1000);
        if (!tw.Timer!.IsArmed || tw.Timer.Deadline > at) tw.Timer.Arm(at);
    }

    private void OnTimeWaitTimer(TimeWaitSock tw)
    {
        if (!_timeWait.TryGetValue(tw.Tuple, out var cur) || cur != tw) return;
        if (NowUs < tw.DeadlineUs) { tw.Timer!.Arm(new SimTime(tw.DeadlineUs * 1000)); return; }
        _timeWait.Remove(tw.Tuple);
    }

    private void RemoveTimeWait(TimeWaitSock tw)
    {
        _timeWait.Remove(tw.Tuple);
        tw.Timer?.Cancel();
    }

    /// <summary>tcp_timewait_state_process() (§4.4 of docs/reference/linux-tcp.md).</summary>
    private TimeWaitAction TimeWaitProcess(TimeWaitSock tw, in TcpRepr seg, bool sawTs, uint tsval, out uint isn)
    {
        isn = 0;
        bool rst = (seg.Flags & TcpFlags.Rst) != 0, syn = (seg.Flags & TcpFlags.Syn) != 0, ack = (seg.Flags & TcpFlags.Ack) != 0;
        bool pawsReject = false;
        if (sawTs && tw.TsOk && tw.TsRecent != 0 && (int)(tw.TsRecent - tsval) > 0)
            pawsReject = !(rst && NowUs - tw.TsRecentStampUs > 60_000_000);
        if (tw.Substate == TcpState.FinWait2)
        {
            if (pawsReject || !InWindow(seg.Seq, seg.EndSeq, tw.RcvNxt, tw.RcvNxt + tw.RcvWnd))
                return OowAck(tw, TcpExtMib.TCPACKSkippedFinWait2);
            if (rst) { KillTimeWait(tw); return TimeWaitAction.Success; }
            if (syn && !SeqNum.Before(seg.Seq, tw.RcvNxt)) return TimeWaitAction.Rst;
            bool fin = (seg.Flags & TcpFlags.Fin) != 0;
            if (!ack || !SeqNum.After(seg.EndSeq, tw.RcvNxt) || seg.EndSeq == seg.Seq) return TimeWaitAction.Success;
            if (!fin || seg.EndSeq != tw.RcvNxt + 1) return TimeWaitAction.Rst;
            tw.Substate = TcpState.TimeWait;
            tw.RcvNxt = seg.EndSeq;
            if (sawTs) { tw.TsRecent = tsval; tw.TsRecentStampUs = NowUs; tw.EntryUs = NowUs; } // "refreshed when we enter true TIME-WAIT"
            RescheduleTimeWait(tw, TcpSocket.TcpTimewaitLenUs);
            return TimeWaitAction.Ack;
        }
        if (!pawsReject && seg.Seq == tw.RcvNxt && (seg.PayloadLength == 0 && (seg.Flags & TcpFlags.Fin) == 0 || rst))
        {
            if (rst)
            {
                if (_host.TcpSysctl.TcpRfc1337 == 0) { KillTimeWait(tw); return TimeWaitAction.Success; }
            }
            else RescheduleTimeWait(tw, TcpSocket.TcpTimewaitLenUs);
            if (sawTs) { tw.TsRecent = tsval; tw.TsRecentStampUs = NowUs; }
            return TimeWaitAction.Success;
        }
        if (syn && !rst && !ack && !pawsReject
            && (SeqNum.After(seg.Seq, tw.RcvNxt) || (sawTs && tw.TsOk && (int)(tw.TsRecent - tsval) < 0)))
        {
            uint next = (tw.SndNxt + 65535 + 2).Value;
            isn = next == 0 ? 1 : next;
            return TimeWaitAction.Syn;
        }
        if (pawsReject) _host.TcpExtStats.Inc(TcpExtMib.PAWSTimewait);
        if (!rst)
        {
            if (pawsReject || ack) RescheduleTimeWait(tw, TcpSocket.TcpTimewaitLenUs);
            return OowAck(tw, TcpExtMib.TCPACKSkippedTimeWait);
        }
        return TimeWaitAction.Success;
    }

    private TimeWaitAction OowAck(TimeWaitSock tw, TcpExtMib mib)
    {
        long now = NowUs;
        if (tw.LastOowAckUs != 0 && now - tw.LastOowAckUs < _host.TcpSysctl.TcpInvalidRatelimit * 1000L)
        {
            _host.TcpExtStats.Inc(mib);
            return TimeWaitAction.Success;
        }
        tw.LastOowAckUs = now;
        return TimeWaitAction.Ack;
    }

    /// <summary>inet_twsk_deschedule_put(): an early end (RST, a new SYN), without a counter.</summary>
    private void KillTimeWait(TimeWaitSock tw) => RemoveTimeWait(tw);

    private static bool InWindow(SeqNum seq, SeqNum end, SeqNum s, SeqNum e) =>
        seq == s || (!SeqNum.Before(end, s) && SeqNum.Before(seq, e)) || (seq == end && seq == s);

    // ------------------------------------------------------------------ receive

    /// <summary>
    /// tcp_v4_rcv(): validate, find the socket (established, request, TIME_WAIT, listener, in Linux's
    /// order) and hand the segment over; a segment for nobody gets a RST. Data is the TCP segment,
    /// NetworkOffset its IP header. Takes ownership.
    /// </summary>
    internal void Rcv(NetDevice dev, Packet pkt)
    {
        var stats = _host.TcpStats;
        var ip = Ipv4HeaderView.ForEmit(pkt.Buffer[pkt.NetworkOffset..]);
        var src = ip.Source;
        var dst = ip.Destination;
        if (pkt.PacketType is not PacketType.Host and not PacketType.Loopback || dst.IsMulticast || _host.Ipv4.IsBroadcast(dst))
        {
            _host.Drop(pkt, SkbDropReason.OtherHost);
            return;
        }
        stats.Inc(TcpMib.InSegs);
        if (!TcpHeaderView.TryCreate(pkt.Data, out var view))
        {
            stats.Inc(TcpMib.InErrs);
            _host.Drop(pkt, SkbDropReason.PktTooSmall);
            return;
        }
        if (!TcpRepr.TryParse(view, src, dst, out var repr, verifyChecksum: !pkt.ChecksumUnnecessary))
        {
            stats.Inc(TcpMib.InCsumErrors);
            stats.Inc(TcpMib.InErrs);
            _host.Drop(pkt, SkbDropReason.TcpCsum);
            return;
        }
        pkt.Pull(view.HeaderLength);
        var tuple = new FourTuple(dst, repr.DestinationPort, src, repr.SourcePort);
        var seg = new TcpSegment { Repr = repr, Packet = pkt };

        if (_established.TryGetValue(tuple, out var sock))
        {
            sock.ParseTimestamps(ref seg);
            if (sock.Rcv(ref seg)) SendReset(dst, src, repr);
            seg.Packet?.Dispose();
            return;
        }
        if (_requests.TryGetValue(tuple, out var req))
        {
            var listener = req.Listener;
            listener.ParseTimestampsForRequest(ref seg, req);
            if (listener.CheckRequest(req, ref seg)) SendReset(dst, src, repr);
            seg.Packet?.Dispose();
            return;
        }
        if (_timeWait.TryGetValue(tuple, out var tw))
        {
            bool sawTs = repr.Options.Timestamp is not null && tw.TsOk;
            uint tsval = repr.Options.Timestamp?.TsVal ?? 0;
            switch (TimeWaitProcess(tw, repr, sawTs, tsval, out uint isn))
            {
                case TimeWaitAction.Rst:
                    SendReset(dst, src, repr);
                    break;
                case TimeWaitAction.Ack:
                    SendTimeWaitAck(tw);
                    break;
                case TimeWaitAction.Syn:
                    var l = LookupListener(dst, repr.DestinationPort, dev.IfIndex);
                    if (l is not null)
                    {
                        KillTimeWait(tw);
                        l.ParseTimestampsForListen(ref seg);
                        if (l.ListenRcv(ref seg, isn)) SendReset(dst, src, repr);
                    }
                    else SendTimeWaitAck(tw);
                    break;
            }
            seg.Packet?.Dispose();
            return;
        }
        var lsk = LookupListener(dst, repr.DestinationPort, dev.IfIndex);
        if (lsk is not null)
        {
            lsk.ParseTimestampsForListen(ref seg);
            if (lsk.ListenRcv(ref seg, 0)) SendReset(dst, src, repr);
            seg.Packet?.Dispose();
            return;
        }
        // No socket: RST unless the segment is one (tcp_v4_send_reset).
        SendReset(dst, src, repr);
        _host.Drop(pkt, SkbDropReason.NoSocket);
    }

    private TcpSocket? LookupListener(Ipv4Address daddr, ushort dport, int ifIndex)
    {
        if (!_listeners.TryGetValue(dport, out var list)) return null;
        TcpSocket? wildcard = null;
        foreach (var s in list)
        {
            if (s.BoundDevice != 0 && s.BoundDevice != ifIndex) continue;
            if (s.LocalAddress == daddr) return s;
            if (s.LocalAddress.IsUnspecified) wildcard = s;
        }
        return wildcard;
    }

    /// <summary>
    /// tcp_v4_send_reset(): never for a RST. With ACK: seq = its ack, no ACK flag; without: seq 0, RST|ACK,
    /// ack = seq + SYN + FIN + length. No options, window 0.
    /// </summary>
    internal void SendReset(Ipv4Address local, Ipv4Address remote, in TcpRepr seg)
    {
        if ((seg.Flags & TcpFlags.Rst) != 0) return;
        TcpRepr rst = (seg.Flags & TcpFlags.Ack) != 0
            ? new TcpRepr(seg.DestinationPort, seg.SourcePort, seg.Ack, default, TcpFlags.Rst, 0)
            : new TcpRepr(seg.DestinationPort, seg.SourcePort, default, seg.EndSeq, TcpFlags.Rst | TcpFlags.Ack, 0);
        SendControl(local, remote, rst);
        _host.TcpStats.Inc(TcpMib.OutRsts);
    }

    /// <summary>tcp_v4_timewait_ack(): seq = snd_nxt, ack = rcv_nxt, the last window, TS echoing ts_recent.</summary>
    private void SendTimeWaitAck(TimeWaitSock tw)
    {
        var opts = tw.TsOk
            ? new TcpOptionSet { Timestamp = new TcpTimestamp((uint)(_host.Now.Nanoseconds / 1_000_000) + tw.TsOffset, tw.TsRecent) }
            : default;
        var repr = new TcpRepr(tw.Tuple.LocalPort, tw.Tuple.RemotePort, tw.SndNxt, tw.RcvNxt, TcpFlags.Ack,
            (ushort)Math.Min(tw.RcvWnd >> tw.RcvWscale, 65535), opts);
        SendControl(tw.Tuple.Local, tw.Tuple.Remote, repr);
    }

    /// <summary>
    /// Sends a segment that belongs to no full socket (RSTs, SYN-ACKs, TIME_WAIT ACKs): ip_send_unicast_reply() on the
    /// per-netns control socket, ip_build_and_send_pkt() on the listener. Neither socket has a peer address, so
    /// ip_select_ident() gives these DF datagrams IP ID 0 ("enforce IP_DF and IPID==0 for RST and ACK sent in SYN-RECV
    /// and TIME-WAIT state", tcp_sk_init()).
    /// </summary>
    internal void SendControl(Ipv4Address local, Ipv4Address remote, in TcpRepr repr)
    {
        var pkt = _host.Pool.Rent(PacketPool.DefaultHeadroom, repr.HeaderLength);
        repr.Emit(pkt.Data, local, remote);
        pkt.TransportOffset = pkt.DataOffset;
        _host.TcpStats.Inc(TcpMib.OutSegs);
        _host.Ipv4.Output(pkt, new IpSendParams(local, remote, IpProtocol.Tcp, -1, 0, PmtuDisc.Want, 0, false, false));
    }

    /// <summary>The global challenge-ACK budget (tcp_send_challenge_ack): unlimited at INT_MAX, else random per second.</summary>
    internal bool TakeChallengeAckBudget()
    {
        int limit = _host.TcpSysctl.TcpChallengeAckLimit;
        if (limit == int.MaxValue) return true;
        long sec = _host.Now.Nanoseconds / 1_000_000_000;
        if (sec != _challengeStampSec)
        {
            _challengeStampSec = sec;
            int half = (limit + 1) / 2;
            _challengeBudget = half + _portRng.Next(Math.Max(limit, 1));
        }
        if (_challengeBudget <= 0) return false;
        _challengeBudget--;
        return true;
    }

    // ------------------------------------------------------------------ ICMP errors

    /// <summary>tcp_v4_err(): errors about a segment we sent (quotedTcp = its TCP header onward).</summary>
    internal void Err(in IcmpError error, ReadOnlySpan<byte> quotedTcp)
    {
        ushort sport = (ushort)(quotedTcp[0] << 8 | quotedTcp[1]);
        ushort dport = (ushort)(quotedTcp[2] << 8 | quotedTcp[3]);
        uint seq = (uint)(quotedTcp[4] << 24 | quotedTcp[5] << 16 | quotedTcp[6] << 8 | quotedTcp[7]);
        var tuple = new FourTuple(error.QuotedSource, sport, error.QuotedDestination, dport);
        if (_established.TryGetValue(tuple, out var sock))
        {
            sock.OnIcmpError(error, new SeqNum(seq));
            return;
        }
        if (_requests.TryGetValue(tuple, out var req) && error.Type != IcmpType.SourceQuench
            && !(error.Type == IcmpType.DestinationUnreachable && error.Code == IcmpCode.FragmentationNeeded))
        {
            // An unreachable peer for a SYN-ACK: drop the request.
            if (new SeqNum(seq) == req.SntIsn) req.Listener.DropRequest(req);
            return;
        }
        // tcp_v4_err(): no socket in the established hash (where request and TIME_WAIT socks live too), as
        // for the probes of traceroute -T, whose port is only held by a bound socket: counted and ignored.
        if (!_requests.ContainsKey(tuple) && !_timeWait.ContainsKey(tuple)) _host.IcmpStats.Inc(IcmpMib.InErrors);
    }

    // ------------------------------------------------------------------ observation

    /// <summary>Every TCP socket of the host as ss sees them: listeners, connections, request socks, TIME_WAIT.</summary>
    public IReadOnlyList<TcpSocketEntry> Entries()
    {
        var list = new List<TcpSocketEntry>();
        var seen = new HashSet<TcpSocket>();
        foreach (var l in _listeners.Values)
            foreach (var s in l)
                if (seen.Add(s)) list.Add(TcpSocketEntry.From(s, NowUs));
        foreach (var s in _established.Values)
            if (seen.Add(s)) list.Add(TcpSocketEntry.From(s, NowUs));
        foreach (var b in _bound.Values)
            foreach (var s in b)
                if (s.State is not TcpState.Listen && seen.Add(s) && s.State != TcpState.Close) list.Add(TcpSocketEntry.From(s, NowUs));
        foreach (var r in _requests.Values)
            list.Add(new TcpSocketEntry(TcpState.NewSynRecv, r.Tuple.Local, r.Tuple.LocalPort, r.Tuple.Remote, r.Tuple.RemotePort,
                0, 0, "on", Math.Max(0, (r.Timer?.Deadline.Nanoseconds ?? 0) / 1000 - NowUs), r.NumTimeout, null));
        foreach (var tw in _timeWait.Values)
            // inet_twsk_diag_fill() / get_timewait4_sock() report tw_substate: an orphan's FIN_WAIT2 shows as such.
            list.Add(new TcpSocketEntry(tw.Substate, tw.Tuple.Local, tw.Tuple.LocalPort, tw.Tuple.Remote, tw.Tuple.RemotePort,
                0, 0, "timewait", Math.Max(0, tw.DeadlineUs - NowUs), 0, null));
        return list;
    }
}

/// <summary>
/// One line of ss: state, queues, addresses, the -o timer and, for full sockets (listeners too, as
/// tcp_get_info() reports them), TCP_INFO; SocketId and ShutdownMask are what ss -e prints.
/// </summary>
public sealed record TcpSocketEntry(
    TcpState State, Ipv4Address LocalAddress, ushort LocalPort, Ipv4Address RemoteAddress, ushort RemotePort,
    int RecvQ, int SendQ, string Timer, long TimerRemainingUs, int TimerCount, TcpInfo? Info,
    long SocketId = 0, int ShutdownMask = 0)
{
    internal static TcpSocketEntry From(TcpSocket s, long nowUs)
    {
        bool listen = s.State == TcpState.Listen;
        var (timer, remaining, count) = s.TimerForSs(nowUs);
        return new TcpSocketEntry(s.State, s.LocalAddress, s.LocalPort, s.RemoteAddress, s.RemotePort,
            listen ? s.AcceptQueueLength : s.BytesReadableForSs,
            listen ? s.MaxAcceptBacklog : s.BytesUnacknowledged,
            timer, remaining, count, s.GetInfo(), s.Id, s.ShutdownMask);
    }
}
