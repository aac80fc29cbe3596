using NetLab.Core.Time;
using NetLab.Stack.Icmp;
using NetLab.Stack.IPv4;
using NetLab.Stack.Tcp.CongestionControl;

namespace NetLab.Stack.Tcp;

// The listening side: tcp_conn_request() (tcp_input.c), request socks and their SYN-ACK timer
// (inet_connection_sock.c), tcp_check_req() and child creation (tcp_minisocks.c), SYN cookies
// (syncookies.c). §3 of docs/reference/linux-tcp.md.
public sealed partial class TcpSocket
{
    /// <summary>Timestamp parsing for an established socket (tcp_fast_parse_options): only when negotiated; TSecr less our offset.</summary>
    internal void ParseTimestamps(ref TcpSegment seg)
    {
        bool synState = State is TcpState.SynSent;
        if (seg.Repr.Options.Timestamp is { } ts && (_tstampOk || synState && _host.TcpSysctl.TcpTimestamps != 0))
        {
            seg.SawTimestamp = true;
            seg.TsVal = ts.TsVal;
            seg.TsEcr = ts.TsEcr == 0 ? 0 : ts.TsEcr - _tsOffset;
        }
    }

    internal void ParseTimestampsForRequest(ref TcpSegment seg, RequestSock req)
    {
        if (seg.Repr.Options.Timestamp is { } ts && req.TstampOk)
        {
            seg.SawTimestamp = true;
            seg.TsVal = ts.TsVal;
            seg.TsEcr = ts.TsEcr == 0 ? 0 : ts.TsEcr - req.TsOff;
        }
    }

    internal void ParseTimestampsForListen(ref TcpSegment seg)
    {
        if (seg.Repr.Options.Timestamp is { } ts && _host.TcpSysctl.TcpTimestamps != 0)
        {
            seg.SawTimestamp = true;
            seg.TsVal = ts.TsVal;
            seg.TsEcr = ts.TsEcr; // the offset is the connection's, applied once known
        }
    }

    /// <summary>
    /// tcp_rcv_state_process() in LISTEN: an ACK may carry a SYN cookie; a SYN starts a connection;
    /// everything else is dropped. Returns true when the caller must answer with a RST.
    /// </summary>
    internal bool ListenRcv(ref TcpSegment seg, uint twIsn)
    {
        var f = seg.Repr.Flags;
        if ((f & TcpFlags.Rst) != 0) return false;
        if ((f & TcpFlags.Ack) != 0)
        {
            if ((f & TcpFlags.Syn) == 0 && TryCookieAck(ref seg)) return false;
            return true; // an ACK to a listener: RST
        }
        if ((f & TcpFlags.Syn) == 0 || (f & TcpFlags.Fin) != 0) return false;
        ConnRequest(ref seg, twIsn);
        return false;
    }

    /// <summary>tcp_conn_request() (§3.2): queue checks, cookies, the request sock and the SYN-ACK.</summary>
    private void ConnRequest(ref TcpSegment seg, uint twIsn)
    {
        var sys = _host.TcpSysctl;
        var ext = _host.TcpExtStats;
        var local = LocalAddress.IsUnspecified ? DestinationOf(ref seg) : LocalAddress;
        var remote = SourceOf(ref seg);
        bool wantCookie = false;
        if (twIsn == 0 && (sys.TcpSyncookies == 2 || _reqQueueLen > _maxAckBacklog))
        {
            wantCookie = SynFloodAction();
            if (!wantCookie)
            {
                ext.Inc(TcpExtMib.ListenDrops);
                return;
            }
        }
        if (_acceptQueue.Count > _maxAckBacklog)
        {
            ext.Inc(TcpExtMib.ListenOverflows);
            ext.Inc(TcpExtMib.ListenDrops);
            return;
        }
        var o = seg.Repr.Options;
        var req = new RequestSock
        {
            Listener = this,
            Tuple = new FourTuple(local, LocalPort, remote, seg.Repr.SourcePort),
            RcvIsn = seg.Seq,
        };
        int peerMss = o.Mss is { } m and > 0 ? m : TcpMssDefault;
        if (_userMss > 0) peerMss = Math.Min(peerMss, _userMss);
        req.Mss = peerMss;
        bool sawTs = seg.SawTimestamp;
        if (!(wantCookie && !sawTs))
        {
            req.WscaleOk = o.WindowScale is not null && sys.TcpWindowScaling != 0;
            req.SndWscale = req.WscaleOk ? Math.Min((int)o.WindowScale!.Value, 14) : 0;
            req.SackOk = o.SackPermitted && sys.TcpSack != 0;
        }
        req.TstampOk = sawTs;
        req.TsRecent = sawTs ? seg.TsVal : 0;
        var route = _host.Ipv4.RouteOutput(remote, BoundDevice);
        if (route is null)
        {
            ext.Inc(TcpExtMib.ListenDrops);
            return;
        }
        if (req.TstampOk) req.TsOff = _layer.SecureTsOff(local, remote);
        if (!wantCookie && twIsn == 0)
        {
            int max = sys.TcpMaxSynBacklog;
            if (sys.TcpSyncookies == 0 && max - _reqQueueLen < (max >> 2))
            {
                ext.Inc(TcpExtMib.ListenDrops);
                return;
            }
        }
        req.Advmss = AdvertisedMss(route);
        // tcp_openreq_init_rwin(): the listener's space, less 12 for timestamps, in whole segments.
        int mss = req.Advmss - (req.TstampOk ? 12 : 0);
        SelectInitialWindow(FullSpace, mss, req.WscaleOk, sys, _host.Core.RmemMax, _rcvBufLocked ? FullSpace : 0,
            out req.RcvWnd, out req.WindowClamp, out req.RcvWscale);
        if (wantCookie)
        {
            ushort cmss = (ushort)req.Mss;
            req.SntIsn = SynCookies.CookieV4InitSequence(_layer.Secrets, remote, local, seg.Repr.SourcePort, LocalPort, seg.Seq, ref cmss, _host.Now.Nanoseconds);
            req.Mss = cmss;
            ext.Inc(TcpExtMib.SyncookiesSent);
            _lastOverflowUs = NowUs;
            uint? cookieTs = req.TstampOk
                ? SynCookies.CookieInitTimestamp(new SynCookieTsOptions(req.WscaleOk, (byte)req.SndWscale, req.SackOk, false), _host.Now.Nanoseconds)
                : null;
            SendSynAck(req, cookieTs, cmss);
            return;
        }
        req.SntIsn = twIsn != 0 ? new SeqNum(twIsn) : new SeqNum(_layer.SecureSeq(local, remote, LocalPort, seg.Repr.SourcePort));
        _layer.AddRequest(req);
        _reqQueueLen++;
        _reqYoung++;
        req.Timer = new SimTimer(_host.Scheduler, () => RequestTimer(req));
        req.Timer.Arm(_host.Now + SimDuration.FromMicroseconds(req.TimeoutUs));
        SendSynAck(req, null, 0);
    }

    private static Core.Addressing.Ipv4Address DestinationOf(ref TcpSegment seg) =>
        IPv4.Ipv4HeaderView.ForEmit(seg.Packet.Buffer[seg.Packet.NetworkOffset..]).Destination;

    private static Core.Addressing.Ipv4Address SourceOf(ref TcpSegment seg) =>
        IPv4.Ipv4HeaderView.ForEmit(seg.Packet.Buffer[seg.Packet.NetworkOffset..]).Source;

    /// <summary>tcp_syn_flood_action(): cookies if enabled, with the one-time kernel log line.</summary>
    private bool SynFloodAction()
    {
        var sys = _host.TcpSysctl;
        bool cookies = sys.TcpSyncookies != 0;
        _host.TcpExtStats.Inc(cookies ? TcpExtMib.TCPReqQFullDoCookies : TcpExtMib.TCPReqQFullDrop);
        if (!_synfloodWarned && sys.TcpSyncookies != 2)
        {
            _synfloodWarned = true;
            _host.KernelLog($"TCP: request_sock_TCP: Possible SYN flooding on port {LocalAddress}:{LocalPort}. {(cookies ? "Sending cookies" : "Dropping request")}.");
        }
        return cookies;
    }

    /// <summary>tcp_make_synack(): MSS, SACK-permitted, timestamps, window scale as negotiated; window unscaled.</summary>
    private void SendSynAck(RequestSock req, uint? cookieTs, int cookieMss)
    {
        uint tsval = (cookieTs ?? (uint)(_host.Now.Nanoseconds / 1_000_000)) + req.TsOff;
        var opts = new TcpOptionSet
        {
            Mss = (ushort)req.Advmss,
            Timestamp = req.TstampOk ? new TcpTimestamp(tsval, req.TsRecent) : null,
            WindowScale = req.WscaleOk ? (byte)req.RcvWscale : null,
            SackPermitted = req.SackOk,
        };
        _ = cookieMss;
        var repr = new TcpRepr(req.Tuple.LocalPort, req.Tuple.RemotePort, req.SntIsn, req.RcvNxt, TcpFlags.Syn | TcpFlags.Ack,
            (ushort)Math.Min(req.RcvWnd, 65535), opts);
        if (req.SntSynackUs < 0) { req.SntSynackUs = NowUs; req.SntTsvalFirst = tsval; }
        req.SntTsvalLast = tsval;
        _layer.SendControl(req.Tuple.Local, req.Tuple.Remote, repr);
    }

    /// <summary>reqsk_timer_handler() (§3.3): SYN-ACK at 1, 3, 7, 15, 31 s; dropped silently at 63 s.</summary>
    private void RequestTimer(RequestSock req)
    {
        if (State != TcpState.Listen) return;
        int maxRetries = _synCnt > 0 ? _synCnt : _host.TcpSysctl.TcpSynackRetries;
        // Prune young requests harder when the queue is more than half full.
        if (_reqQueueLen << 1 > Math.Max(8, _maxAckBacklog))
        {
            int young = _reqYoung << 1;
            while (maxRetries > 2 && _reqQueueLen >= young)
            {
                maxRetries--;
                young <<= 1;
            }
        }
        _host.TcpExtStats.Inc(TcpExtMib.TCPTimeouts);
        if (req.NumTimeout >= maxRetries)
        {
            DropRequest(req);
            return;
        }
        RtxSynAck(req);
        if (req.NumTimeout++ == 0) _reqYoung--;
        long timeout = Math.Min(req.TimeoutUs << req.NumTimeout, RtoMaxUs);
        req.Timer!.Arm(_host.Now + SimDuration.FromMicroseconds(timeout));
    }

    /// <summary>tcp_rtx_synack(): the SYN-ACK again, counted as a retransmission (num_retrans).</summary>
    private void RtxSynAck(RequestSock req)
    {
        SendSynAck(req, null, 0);
        _host.TcpStats.Inc(TcpMib.RetransSegs);
        _host.TcpExtStats.Inc(TcpExtMib.TCPSynRetrans);
        req.NumRetrans++;
    }

    /// <summary>tcp_reqsk_timeout(): the request's RTO, 1 s doubled per timeout, at most tcp_rto_max.</summary>
    private long ReqskTimeoutUs(RequestSock req) => Math.Min(req.TimeoutUs << req.NumTimeout, RtoMaxUs);

    internal void DropRequest(RequestSock req)
    {
        _layer.RemoveRequest(req);
        _reqQueueLen--;
        if (req.NumTimeout == 0) _reqYoung--;
    }

    /// <summary>
    /// tcp_check_req() (§3.4): the segment that should complete a handshake. Returns true when the caller
    /// must send a RST.
    /// </summary>
    internal bool CheckRequest(RequestSock req, ref TcpSegment seg)
    {
        var f = seg.Repr.Flags & (TcpFlags.Rst | TcpFlags.Syn | TcpFlags.Ack);
        // tcp_paws_reject() with a window of 0 against the SYN's TSval; tsecr_reject: the TSecr must echo one of our
        // SYN-ACKs (between the first and the last TSval sent, compared before the offset is removed).
        bool pawsReject = seg.SawTimestamp && req.TsRecent != 0 && (int)(req.TsRecent - seg.TsVal) > 0;
        bool tsecrReject = false;
        if (seg.SawTimestamp && req.TstampOk && seg.Repr.Options.Timestamp is { TsEcr: not 0 } echoed)
            tsecrReject = req.SntTsvalLast - req.SntTsvalFirst < echoed.TsEcr - req.SntTsvalFirst;
        // A pure retransmitted SYN: the SYN-ACK again, unless rate limited, and only then the timer restarts
        // (mod_timer_pending(now + tcp_reqsk_timeout())).
        if (seg.Seq == req.RcvIsn && f == TcpFlags.Syn && !pawsReject)
        {
            if (!RequestOowLimited(req))
            {
                RtxSynAck(req);
                req.Timer!.Arm(_host.Now + SimDuration.FromMicroseconds(ReqskTimeoutUs(req)));
            }
            return false;
        }
        if ((f & TcpFlags.Ack) != 0 && seg.Repr.Ack != req.SntIsn + 1) return true;
        // tcp_in_window(seq, end_seq, rcv_nxt, rcv_nxt + tcp_synack_window(req)).
        var rcvNxt = req.RcvNxt;
        var eWin = rcvNxt + Math.Min(req.RcvWnd, 65535);
        bool inWindow = seg.Seq == rcvNxt || (SeqNum.After(seg.EndSeq, rcvNxt) && SeqNum.Before(seg.Seq, eWin))
            || (seg.Seq == eWin && seg.Seq == seg.EndSeq);
        if (pawsReject || tsecrReject || !inWindow)
        {
            if ((f & TcpFlags.Rst) == 0 && !RequestOowLimited(req))
                SendRequestAck(req);
            if (pawsReject) _host.TcpExtStats.Inc(TcpExtMib.PAWSEstab);
            else if (tsecrReject) _host.TcpExtStats.Inc(TcpExtMib.TSEcrRejected);
            return false;
        }
        if (seg.Seq == req.RcvIsn) f &= ~TcpFlags.Syn; // "Truncate SYN, it is out of window starting at rcv_isn + 1"
        if ((f & (TcpFlags.Rst | TcpFlags.Syn)) != 0)
        {
            _host.TcpStats.Inc(TcpMib.AttemptFails);
            DropRequest(req);
            _host.TcpExtStats.Inc(TcpExtMib.EmbryonicRsts);
            return (f & TcpFlags.Syn) != 0;
        }
        if ((f & TcpFlags.Ack) == 0) return false;
        if (_acceptQueue.Count > _maxAckBacklog)
        {
            _host.TcpExtStats.Inc(TcpExtMib.ListenOverflows);
            _host.TcpExtStats.Inc(TcpExtMib.ListenDrops);
            if (_host.TcpSysctl.TcpAbortOnOverflow == 0)
            {
                req.Acked = true;
                return false;
            }
            DropRequest(req);
            _host.TcpExtStats.Inc(TcpExtMib.EmbryonicRsts);
            return true;
        }
        DropRequest(req);
        // tcp_synack_rtt_meas(): the first SYN-ACK's RTT when it was the only one, else the timestamp echo.
        long rttUs = req.NumRetrans == 0 ? NowUs - req.SntSynackUs
            : seg.SawTimestamp && seg.TsEcr != 0 ? Math.Max(1, (long)(TsNow - seg.TsEcr)) * 1000 : -1;
        var child = CreateChild(req, rttUs);
        child.ParseTimestamps(ref seg);
        if (child.Rcv(ref seg)) return true;
        return false;
    }

    private bool RequestOowLimited(RequestSock req)
    {
        long now = NowUs;
        if (req.LastOowAckUs != 0 && now - req.LastOowAckUs < _host.TcpSysctl.TcpInvalidRatelimit * 1000L)
        {
            _host.TcpExtStats.Inc(TcpExtMib.TCPACKSkippedSynRecv);
            return true;
        }
        req.LastOowAckUs = now;
        return false;
    }

    /// <summary>tcp_v4_reqsk_send_ack(): seq = snt_isn + 1, ack = rcv_nxt, the request's window.</summary>
    private void SendRequestAck(RequestSock req)
    {
        var opts = req.TstampOk
            ? new TcpOptionSet { Timestamp = new TcpTimestamp((uint)(_host.Now.Nanoseconds / 1_000_000) + req.TsOff, req.TsRecent) }
            : default;
        var repr = new TcpRepr(req.Tuple.LocalPort, req.Tuple.RemotePort, req.SntIsn + 1, req.RcvNxt, TcpFlags.Ack,
            (ushort)Math.Min(req.RcvWnd >> req.RcvWscale, 65535), opts);
        _layer.SendControl(req.Tuple.Local, req.Tuple.Remote, repr);
    }

    /// <summary>
    /// cookie_v4_check() (§3.6): a bare ACK at a listener that overflowed in the last two minutes may be the
    /// last step of a cookie handshake. True when a child was created (or the ACK consumed).
    /// </summary>
    private bool TryCookieAck(ref TcpSegment seg)
    {
        var sys = _host.TcpSysctl;
        if (sys.TcpSyncookies == 0 || NowUs - _lastOverflowUs > 2 * 60_000_000L || _lastOverflowUs == long.MinValue) return false;
        var local = LocalAddress.IsUnspecified ? DestinationOf(ref seg) : LocalAddress;
        var remote = SourceOf(ref seg);
        if (!SynCookies.CookieV4Check(_layer.Secrets, remote, local, seg.Repr.SourcePort, LocalPort, seg.Seq, seg.Repr.Ack,
                _host.Now.Nanoseconds, out ushort mss))
        {
            _host.TcpExtStats.Inc(TcpExtMib.SyncookiesFailed);
            return false;
        }
        _host.TcpExtStats.Inc(TcpExtMib.SyncookiesRecv);
        uint tsOff = 0;
        TcpTimestamp? ts = seg.Repr.Options.Timestamp;
        if (ts is { } t && t.TsEcr != 0)
        {
            tsOff = _layer.SecureTsOff(local, remote);
            ts = new TcpTimestamp(t.TsVal, t.TsEcr - tsOff);
        }
        if (!SynCookies.CookieTimestampDecode(ts, sys.TcpTimestamps, sys.TcpSack, sys.TcpWindowScaling, out var opts)) return false;
        var route = _host.Ipv4.RouteOutput(remote, BoundDevice);
        if (route is null) return false;
        var req = new RequestSock
        {
            Listener = this,
            Tuple = new FourTuple(local, LocalPort, remote, seg.Repr.SourcePort),
            RcvIsn = seg.Seq - 1,
            SntIsn = seg.Repr.Ack - 1,
            Mss = mss,
            TstampOk = ts is not null,
            TsRecent = ts?.TsVal ?? 0,
            TsOff = tsOff,
            WscaleOk = opts.WscaleOk,
            SndWscale = opts.SndWscale,
            SackOk = opts.SackOk,
        };
        req.Advmss = AdvertisedMss(route);
        SelectInitialWindow(FullSpace, req.Advmss - (req.TstampOk ? 12 : 0), req.WscaleOk, sys, _host.Core.RmemMax,
            _rcvBufLocked ? FullSpace : 0, out req.RcvWnd, out req.WindowClamp, out req.RcvWscale);
        if (_acceptQueue.Count > _maxAckBacklog)
        {
            _host.TcpExtStats.Inc(TcpExtMib.ListenOverflows);
            _host.TcpExtStats.Inc(TcpExtMib.ListenDrops);
            return true;
        }
        var child = CreateChild(req, rttUs: -1);
        child.ParseTimestamps(ref seg);
        if (child.Rcv(ref seg)) _layer.SendReset(local, remote, seg.Repr);
        return true;
    }

    /// <summary>
    /// tcp_create_openreq_child() + tcp_v4_syn_recv_sock(): a full socket in SYN_RECV that inherits the
    /// listener's options, hashed and put on the accept queue (PassiveOpens).
    /// </summary>
    private TcpSocket CreateChild(RequestSock req, long rttUs)
    {
        var c = new TcpSocket(_host, _layer)
        {
            LocalAddress = req.Tuple.Local,
            LocalPort = req.Tuple.LocalPort,
            RemoteAddress = req.Tuple.Remote,
            RemotePort = req.Tuple.RemotePort,
        };
        c._noDelay = _noDelay;
        c._keepOpen = _keepOpen;
        c._keepIdle = _keepIdle;
        c._keepIntvl = _keepIntvl;
        c._keepCnt = _keepCnt;
        c.Linger = Linger;
        c.Linger2 = Linger2;
        c._userMss = _userMss;
        c._userTimeoutMs = _userTimeoutMs;
        c.BoundDevice = BoundDevice;
        c.Tos = Tos;
        c.Ttl = Ttl;
        if (_rcvBufLocked) { c._rcvBuf = _rcvBuf; c._rcvBufLocked = true; }
        if (_sndBufLocked) { c._sndBuf = _sndBuf; c._sndBufLocked = true; }
        c._ca = CongestionControlRegistry.Create(_ca.Name) ?? new RenoCongestionControl();
        c._iss = req.SntIsn;
        c._sndUna = c._sndNxt = c._writeSeq = c._sndSml = c._pushedSeq = req.SntIsn + 1;
        c._sndRingSeq = req.SntIsn + 1;
        c._irs = req.RcvIsn;
        c._rcvNxt = c._rcvWup = c._copiedSeq = c._rcvqSeq = req.RcvNxt;
        c._sndWl1 = req.RcvIsn;
        c._tstampOk = req.TstampOk;
        c._tsRecent = req.TsRecent;
        c._tsRecentStampUs = req.TstampOk ? NowUs : 0;
        c._tsOffset = req.TsOff;
        c._sackOk = req.SackOk;
        c._wscaleOk = req.WscaleOk;
        c._sndWscale = req.SndWscale;
        c._rcvWscale = req.WscaleOk ? req.RcvWscale : 0;
        c._rcvWnd = req.RcvWnd;
        c._rcvSsthresh = req.RcvWnd;
        c._windowClamp = req.WscaleOk ? req.WindowClamp : Math.Min(req.WindowClamp, 65535);
        c._mssClamp = req.Mss;
        c._advmss = req.Advmss;
        c._tcpHeaderLen = req.TstampOk ? 32 : 20;
        c._bindLocked = true;
        c._parent = this;
        if (rttUs >= 0)
        {
            c.RttEstimator(Math.Max(rttUs, 1));
            c.SetRto();
            c._minRttUs = Math.Max(rttUs, 1);
        }
        c._totalRetrans = req.NumRetrans;
        if (req.NumTimeout > 0)
        {
            // tcp_create_openreq_child(): SYN-ACK timeouts make the handshake a loss episode that undo may cancel.
            c._totalRto = req.NumTimeout;
            c._undoMarker = req.SntIsn;
            c._undoMarkerSet = true;
            c._retransStampUs = req.SntSynackUs;
        }
        c.State = TcpState.SynRecv;
        c.SyncMssForRoute();
        c.InitializeRcvMss();
        _layer.HashChild(c, c.LocalPort);
        _host.TcpStats.Inc(TcpMib.PassiveOpens);
        _acceptQueue.Enqueue(c);
        return c;
    }

    /// <summary>inet_csk_listen_stop(): drop request socks, abort queued children.</summary>
    private void StopListening()
    {
        foreach (var req in _layer.RequestsOf(this)) DropRequest(req);
        while (_acceptQueueStore is not null && _acceptQueueStore.TryDequeue(out var child))
        {
            child._parent = null;
            child.Disconnect();
            child.Destroy();
        }
        _layer.Unhash(this);
    }

    // ------------------------------------------------------------------ ICMP errors

    /// <summary>tcp_v4_err() for a full socket (§10.1): PMTU, then hard errors in SYN states, soft ones later.</summary>
    internal void OnIcmpError(in IcmpError error, SeqNum seq)
    {
        if (State == TcpState.Listen) return;
        if (SeqNum.Before(seq, _sndUna) || SeqNum.After(seq, _sndNxt))
        {
            _host.TcpExtStats.Inc(TcpExtMib.OutOfWindowIcmps);
            return;
        }
        if (error.Type == IcmpType.SourceQuench) return;
        if (error.Type == IcmpType.DestinationUnreachable && error.Code == IcmpCode.FragmentationNeeded)
        {
            MtuReduced((int)error.Info);
            return;
        }
        var (errno, _) = error.ToErrno();
        if (errno == Errno.None) return;
        if (State is TcpState.SynSent or TcpState.SynRecv)
        {
            DoneWithError(errno); // tcp_done_with_error(): no TCPAbortOnTimeout (that is tcp_write_err()'s)
            return;
        }
        _skErrSoft = errno;
    }

    /// <summary>tcp_v4_mtu_reduced(): a smaller path MTU shrinks the MSS and resends what no longer fits (tcp_simple_retransmit).</summary>
    private void MtuReduced(int mtu)
    {
        if (mtu <= 0 || mtu >= _pmtuCookie) return;
        _skErrSoft = Errno.EMSGSIZE;
        var route = _host.Ipv4.RouteOutput(RemoteAddress, BoundDevice);
        int pmtu = route is null ? mtu : _host.Ipv4.PathMtu(route, RemoteAddress);
        if (_pmtuCookie <= pmtu) return;
        int mss = SyncMss(pmtu);
        bool any = false;
        for (int i = 0; i < _rtx.Count; i++)
        {
            ref var s = ref _rtx[i];
            if (s.DataLength > mss && (s.Sacked & TcpCbSacked.SackedAcked) == 0)
            {
                if ((s.Sacked & TcpCbSacked.Lost) == 0) { s.Sacked |= TcpCbSacked.Lost; _lostOut++; }
                if ((s.Sacked & TcpCbSacked.SackedRetrans) != 0) { s.Sacked &= ~TcpCbSacked.SackedRetrans; _retransOut--; }
                any = true;
            }
        }
        if (!any) return;
        // Resend the too-big segments, re-cut at the new MSS: the old entries give way to smaller ones.
        ResegmentLost(mss);
        XmitRetransmitQueue();
    }

    /// <summary>Splits lost segments larger than <paramref name="mss"/> (tcp_fragment), keeping sequence order.</summary>
    private void ResegmentLost(int mss)
    {
        var copy = new List<TxSeg>(_rtx.Count);
        for (int i = 0; i < _rtx.Count; i++) copy.Add(_rtx[i]);
        _rtx.Clear();
        uint packets = 0;
        foreach (var s in copy)
        {
            if ((s.Sacked & TcpCbSacked.Lost) == 0 || s.DataLength <= mss || (s.Flags & TcpFlags.Syn) != 0)
            {
                _rtx.Add(s);
                packets++;
                continue;
            }
            var seq = s.Seq;
            int left = s.DataLength;
            _lostOut--;
            while (left > 0)
            {
                int n = Math.Min(mss, left);
                bool last = n == left;
                var part = s;
                part.Seq = seq;
                part.EndSeq = seq + n + (last && (s.Flags & TcpFlags.Fin) != 0 ? 1 : 0);
                part.Flags = last ? s.Flags : TcpFlags.None;
                part.Sacked = TcpCbSacked.Lost | (s.Sacked & TcpCbSacked.EverRetrans);
                _rtx.Add(part);
                _lostOut++;
                packets++;
                seq += n;
                left -= n;
            }
        }
        _packetsOut = packets;
    }

    // ------------------------------------------------------------------ observation

    internal bool IsExplicitlyBound => _bindLocked && _parent is null && State != TcpState.SynSent && !_everConnected;

    /// <summary>ss Recv-Q for a connection: rcv_nxt - copied_seq (a received FIN counts one).</summary>
    internal int BytesReadableForSs => _rcvNxt - _copiedSeq;

    /// <summary>The -o timer column: which timer, how long until it fires, its counter.</summary>
    internal (string Name, long RemainingUs, int Count) TimerForSs(long nowUs)
    {
        if (_pendingTimer is TimerKind.Retrans or TimerKind.LossProbe or TimerKind.ReoTimeout)
            return ("on", Math.Max(0, _retransmitAt - nowUs), _retransmits);
        if (_pendingTimer == TimerKind.Probe0) return ("persist", Math.Max(0, _retransmitAt - nowUs), _probesOut);
        if (_keepaliveAt != 0) return ("keepalive", Math.Max(0, _keepaliveAt - nowUs), _probesOut);
        return ("off", 0, 0);
    }

    private TcpInfo BuildInfo()
    {
        long now = NowUs;
        byte options = 0;
        if (_tstampOk) options |= 1;  // TCPI_OPT_TIMESTAMPS
        if (_sackOk) options |= 2;    // TCPI_OPT_SACK
        if (_wscaleOk) options |= 4;  // TCPI_OPT_WSCALE
        return new TcpInfo
        {
            State = State,
            CaState = _caState,
            Retransmits = _retransmits,
            Probes = _probesOut,
            Backoff = _backoff,
            Options = options,
            SndWscale = _wscaleOk ? _sndWscale : 0,
            RcvWscale = _wscaleOk ? _rcvWscale : 0,
            RtoUs = _rto,
            AtoUs = _ato,
            SndMss = _mssCache,
            RcvMss = _rcvMss,
            Unacked = _packetsOut,
            Sacked = _sackedOut,
            Lost = _lostOut,
            Retrans = _retransOut,
            LastDataSentMs = _lsndtimeUs == 0 ? 0 : (now - _lsndtimeUs) / 1000,
            LastDataRecvMs = _lrcvtimeUs == 0 ? 0 : (now - _lrcvtimeUs) / 1000,
            LastAckRecvMs = _rcvTstampUs == 0 ? 0 : (now - _rcvTstampUs) / 1000,
            Pmtu = _pmtuCookie,
            RcvSsthresh = _rcvSsthresh,
            RttUs = _srttUs >> 3,
            RttVarUs = _mdevUs >> 2,
            SndSsthresh = Cc.SndSsthresh,
            SndCwnd = Cc.SndCwnd,
            Advmss = _advmss,
            Reordering = _reordering,
            RcvRttUs = _rcvRttUs >> 3,
            RcvSpace = _rcvqSpace,
            TotalRetrans = _totalRetrans,
            BytesAcked = _bytesAcked,
            BytesReceived = _bytesReceived,
            BytesSent = _bytesSent,
            BytesRetrans = _bytesRetrans,
            SegsOut = _segsOut,
            SegsIn = _segsIn,
            DataSegsOut = _dataSegsOut,
            DataSegsIn = _dataSegsIn,
            NotsentBytes = BytesNotSent,
            MinRttUs = _minRttUs == long.MaxValue ? 0 : _minRttUs,
            DeliveryRateBps = _deliveryRateBps,
            DeliveryRateAppLimited = _deliveryRateAppLimited,
            Delivered = _delivered,
            DsackDups = _dsackDups,
            SndWnd = _sndWnd,
            RcvWnd = _rcvWnd,
            SndBuf = _sndBuf,
            RcvBuf = _rcvBuf,
            Congestion = _ca.Name,
            InFlight = PacketsInFlight,
            PacingRate = _pacingRate == long.MaxValue ? 0 : _pacingRate, // ~0 (never computed): ss prints none
        };
    }

}

/// <summary>struct tcp_info (TCP_INFO), the fields ss -ti and probes read; times in µs unless named otherwise.</summary>
public sealed record TcpInfo
{
    public TcpState State { get; init; }
    public TcpCaState CaState { get; init; }
    public int Retransmits { get; init; }
    public int Probes { get; init; }
    public int Backoff { get; init; }
    public byte Options { get; init; }
    public int SndWscale { get; init; }
    public int RcvWscale { get; init; }
    public long RtoUs { get; init; }
    public long AtoUs { get; init; }
    public int SndMss { get; init; }
    public int RcvMss { get; init; }
    public uint Unacked { get; init; }
    public uint Sacked { get; init; }
    public uint Lost { get; init; }
    public uint Retrans { get; init; }
    public long LastDataSentMs { get; init; }
    public long LastDataRecvMs { get; init; }
    public long LastAckRecvMs { get; init; }
    public int Pmtu { get; init; }
    public int RcvSsthresh { get; init; }
    public long RttUs { get; init; }
    public long RttVarUs { get; init; }
    public uint SndSsthresh { get; init; }
    public uint SndCwnd { get; init; }
    public int Advmss { get; init; }
    public int Reordering { get; init; }
    public long RcvRttUs { get; init; }
    public int RcvSpace { get; init; }
    public int TotalRetrans { get; init; }
    public long BytesAcked { get; init; }
    public long BytesReceived { get; init; }
    public long BytesSent { get; init; }
    public long BytesRetrans { get; init; }
    public int SegsOut { get; init; }
    public int SegsIn { get; init; }
    public int DataSegsOut { get; init; }
    public int DataSegsIn { get; init; }
    public int NotsentBytes { get; init; }
    public long MinRttUs { get; init; }
    /// <summary>Bits per second.</summary>
    public long DeliveryRateBps { get; init; }
    public bool DeliveryRateAppLimited { get; init; }
    public long Delivered { get; init; }
    public int DsackDups { get; init; }
    public int SndWnd { get; init; }
    public int RcvWnd { get; init; }
    public int SndBuf { get; init; }
    public int RcvBuf { get; init; }
    public string Congestion { get; init; } = "";
    public uint InFlight { get; init; }
    /// <summary>tcpi_pacing_rate in bytes per second (0: none).</summary>
    public long PacingRate { get; init; }
}
