using NetLab.Core.Packets;
using NetLab.Stack.IPv4;
using NetLab.Stack.Tcp.CongestionControl;

namespace NetLab.Stack.Tcp;

// net/ipv4/tcp_output.c: building and sending segments, window selection, Nagle, ACKs, probes.
public sealed partial class TcpSocket
{
    // ------------------------------------------------------------------ connection start

    /// <summary>tcp_connect_init() + tcp_connect(): initial MSS and window, then the SYN.</summary>
    private void TcpConnect(Route route)
    {
        var sys = _host.TcpSysctl;
        _tcpHeaderLen = 20 + (sys.TcpTimestamps != 0 ? 12 : 0);
        int mtu = _host.Ipv4.PathMtu(route, RemoteAddress);
        _mssClamp = _userMss > 0 ? _userMss : TcpMssDefault; // the peer's MSS option overwrites it
        _advmss = AdvertisedMss(route);
        SyncMss(mtu);
        // tcp_connect_init(): mss argument = advmss (no ts_recent yet).
        SelectInitialWindow(FullSpace, _advmss, sys.TcpWindowScaling != 0, out _rcvWnd, out _windowClamp, out _rcvWscale);
        _rcvSsthresh = _rcvWnd;
        _iss = _writeSeq;
        _sndUna = _sndNxt = _sndSml = _writeSeq;
        _sndRingSeq = _iss + 1;
        _rcvNxt = _rcvWup = _copiedSeq = default;
        _sndWnd = 0;
        _rto = TcpTimeoutInitUs;
        _retransmits = 0;
        InitializeRcvMss();
        SetState(TcpState.SynSent);
        // The SYN consumes one sequence number; it sits in the retransmit queue like data.
        _writeSeq += 1;
        var syn = new TxSeg { Seq = _iss, EndSeq = _iss + 1, Flags = TcpFlags.Syn };
        _rtx.Add(syn);
        _packetsOut++;
        TransmitSeg(ref _rtx.Tail, retransmission: false);
        _sndNxt = _iss + 1; // after the transmit, "in order to make this packet get counted in tcpOutSegs"
        _retransStampUs = NowUs;
        ResetRetransmitTimer(TimerKind.Retrans, _rto);
    }

    /// <summary>dst_metric_advmss() clamped by TCP_MAXSEG: route MTU - 40 (1460 on Ethernet, 65483 on lo).</summary>
    private int AdvertisedMss(Route route)
    {
        int mtu = route.Type == RouteType.Local ? _host.Loopback.Mtu : route.Device!.Mtu;
        int mss = Math.Min(Math.Max(mtu - 40, 256), 65535 - 40);
        return _userMss > 0 ? Math.Min(mss, _userMss) : mss;
    }

    /// <summary>tcp_full_space(): the window the whole receive buffer stands for (scaling_ratio 1/2).</summary>
    private int FullSpace => _rcvBuf / 2;

    /// <summary>tcp_space(): free receive memory as window (the queued bytes cost twice their size, as at ratio 1/2).</summary>
    private int Space => Math.Max(0, (_rcvBuf - 2 * (_rcvQueue.Count + OfoBytes)) / 2);

    private int OfoBytes
    {
        get
        {
            int n = 0;
            foreach (var o in _ofo) n += o.EndSeq - o.Seq;
            return n;
        }
    }

    /// <summary>tcp_select_initial_window() (tcp_output.c), without a route initrwnd.</summary>
    internal static void SelectInitialWindow(int fullSpace, int mss, bool wscaleOk, TcpSysctls sys, int rmemMax,
        int clampIn, out int rcvWnd, out int windowClamp, out int rcvWscale)
    {
        windowClamp = clampIn == 0 ? 65535 << 14 : clampIn;
        int space = Math.Min(windowClamp, Math.Max(0, fullSpace));
        if (space > mss) space = space / mss * mss;
        rcvWnd = space;
        rcvWscale = 0;
        if (wscaleOk)
        {
            long s = Math.Max(space, Math.Max(sys.TcpRmem[2], rmemMax));
            s = Math.Min(s, windowClamp);
            rcvWscale = Math.Clamp(System.Numerics.BitOperations.Log2((ulong)s) - 15, 0, 14);
        }
        windowClamp = (int)Math.Min((long)ushort.MaxValue << rcvWscale, windowClamp);
    }

    private void SelectInitialWindow(int fullSpace, int mss, bool wscaleOk, out int rcvWnd, out int windowClamp, out int rcvWscale) =>
        SelectInitialWindow(fullSpace, mss, wscaleOk, _host.TcpSysctl, _host.Core.RmemMax,
            _rcvBufLocked ? FullSpace : 0, out rcvWnd, out windowClamp, out rcvWscale);

    /// <summary>tcp_initialize_rcv_mss(): the first estimate of the peer's segment size (536 at most).</summary>
    private void InitializeRcvMss()
    {
        int hint = Math.Min(_advmss, _mssCache);
        hint = Math.Min(hint, _rcvWnd / 2);
        hint = Math.Min(hint, TcpMssDefault);
        _rcvMss = Math.Max(hint, TcpMinMss);
    }

    /// <summary>tcp_sync_mss(): payload per segment for a path MTU, bounded by half the peer's max window.</summary>
    internal int SyncMss(int pmtu)
    {
        int mss = pmtu - 20 - 20;
        mss = Math.Min(mss, _mssClamp);
        mss = Math.Max(mss, _host.TcpSysctl.TcpMinSndMss);
        mss -= _tcpHeaderLen - 20;
        // tcp_bound_to_half_wnd()
        int cutoff = _maxWindow > TcpMssDefault ? _maxWindow / 2 : _maxWindow;
        if (cutoff > 0 && mss > cutoff) mss = Math.Max(cutoff, 68 - _tcpHeaderLen);
        _pmtuCookie = pmtu;
        _mssCache = mss;
        Cc.MssCache = mss;
        return mss;
    }

    /// <summary>tcp_current_mss(): mss_cache less the SACK blocks the next segment carries.</summary>
    private int CurrentMss()
    {
        int mss = _mssCache;
        int sackBlocks = SackBlocksToSend();
        if (sackBlocks > 0) mss -= 4 + 8 * sackBlocks;
        return mss;
    }

    // ------------------------------------------------------------------ sending

    /// <summary>
    /// __tcp_transmit_skb(): build one segment for a retransmit-queue entry and send it. Returns false when
    /// the local stack refused it (no route, EMSGSIZE): Linux retries such segments from its timers.
    /// </summary>
    private bool TransmitSeg(ref TxSeg seg, bool retransmission)
    {
        long now = NowUs;
        int len = seg.DataLength;
        bool syn = (seg.Flags & TcpFlags.Syn) != 0;
        var flags = seg.Flags;
        if (!syn || State == TcpState.SynRecv) flags |= TcpFlags.Ack;
        // tcp_mark_push(): PSH on the segment that ends a send() call.
        if (len > 0 && SeqNum.After(_pushedSeq, seg.Seq) && !SeqNum.After(_pushedSeq, seg.Seq + len)) flags |= TcpFlags.Psh;
        if (!retransmission)
        {
            // tcp_rate_skb_sent(): remember the delivery state at send time.
            if (_packetsOut == 1 || _firstTxUs == 0) { _firstTxUs = now; _deliveredUs = now; }
            seg.DeliveredAtSend = _delivered;
            seg.DeliveredUsAtSend = _deliveredUs;
            seg.FirstTxUsAtSend = _firstTxUs;
            seg.AppLimitedAtSend = _appLimitedUntil != 0;
        }
        seg.TxUs = now;
        var err = Emit(seg.Seq, len, flags, syn, (int)(seg.Seq + (syn ? 1 : 0) - _sndRingSeq));
        if (len > 0)
        {
            _dataSegsOut++;
            _bytesSent += len;
            if (retransmission) _bytesRetrans += len;
            _lsndtimeUs = now;
        }
        if (len > 0) EventDataSent(now);
        return err == Errno.None;
    }

    /// <summary>
    /// Builds and sends one segment: header, options for its kind (tcp_syn_options / tcp_established_options),
    /// the window (tcp_select_window), the payload from the send ring at <paramref name="ringOffset"/>.
    /// </summary>
    private Errno Emit(SeqNum seq, int len, TcpFlags flags, bool synOptions, int ringOffset)
    {
        var sys = _host.TcpSysctl;
        uint tsval = TsNow + _tsOffset;
        TcpOptionSet options;
        ushort window;
        if (synOptions)
        {
            bool synAck = (flags & TcpFlags.Ack) != 0;
            bool ts = synAck ? _tstampOk : sys.TcpTimestamps != 0;
            bool ws = synAck ? _wscaleOk : sys.TcpWindowScaling != 0;
            bool sack = synAck ? _sackOk : sys.TcpSack != 0;
            options = new TcpOptionSet
            {
                Mss = (ushort)_advmss,
                Timestamp = ts ? new TcpTimestamp(tsval, synAck ? _tsRecent : 0) : null,
                WindowScale = ws ? (byte)_rcvWscale : null,
                SackPermitted = sack,
            };
            window = (ushort)Math.Min(_rcvWnd, 65535); // RFC 7323 §2.2: never scaled on a SYN
        }
        else
        {
            int blocks = SackBlocksToSend();
            options = new TcpOptionSet
            {
                Timestamp = _tstampOk ? new TcpTimestamp(tsval, _tsRecent) : null,
                SackBlocks = blocks > 0 ? CollectSackBlocks(blocks) : default,
            };
            window = SelectWindow();
        }
        var repr = new TcpRepr(LocalPort, RemotePort, seq, (flags & TcpFlags.Ack) != 0 ? _rcvNxt : default, flags, window, options, len);
        int hl = repr.HeaderLength;
        var pkt = _host.Pool.Rent(PacketPool.DefaultHeadroom, hl + len);
        if (len > 0) _sndRing.CopyTo(ringOffset, pkt.Data.Slice(hl, len));
        repr.Emit(pkt.Data, LocalAddress, RemoteAddress);
        pkt.TransportOffset = pkt.DataOffset;
        if ((flags & TcpFlags.Ack) != 0) EventAckSent();
        // __tcp_transmit_skb(): OutSegs counts new sequence space and pure control segments, not retransmissions.
        var endSeq = seq + len + ((flags & TcpFlags.Syn) != 0 ? 1 : 0) + ((flags & TcpFlags.Fin) != 0 ? 1 : 0);
        if (SeqNum.After(endSeq, _sndNxt) || seq == endSeq) _host.TcpStats.Inc(TcpMib.OutSegs);
        if ((flags & TcpFlags.Rst) != 0) _host.TcpStats.Inc(TcpMib.OutRsts);
        _segsOut++;
        var err = _host.Ipv4.Output(pkt, new IpSendParams(LocalAddress, RemoteAddress, IpProtocol.Tcp, Ttl, Tos,
            PmtuDisc.Want, BoundDevice, true, false));
        // __tcp_transmit_skb(): NET_XMIT_DROP from the local qdisc is congestion at home: enter CWR.
        if (err == Errno.ENOBUFS && IsSynchronized) EnterCwr();
        return err;
    }

    /// <summary>The TSval clock: milliseconds of virtual time (TCP_TS_HZ = 1000).</summary>
    private uint TsNow => (uint)(_host.Now.Nanoseconds / 1_000_000);

    /// <summary>How many SACK blocks fit: 4 without timestamps, 3 with (tcp_established_options).</summary>
    private int SackBlocksToSend()
    {
        if (!_sackOk) return 0;
        int eff = _numSacks + (_dsackPending ? 1 : 0);
        if (eff == 0) return 0;
        int room = (40 - (_tstampOk ? 12 : 0) - 4) / 8;
        return Math.Min(eff, room);
    }

    private TcpSackBlocks CollectSackBlocks(int count)
    {
        Span<SackBlock> b = stackalloc SackBlock[4];
        int n = 0;
        if (_dsackPending) { b[n++] = _dsack; _dsackPending = false; }
        for (int i = 0; n < count && i < _numSacks; i++) b[n++] = _selectiveAcks[i];
        return new TcpSackBlocks(b[..n]);
    }

    /// <summary>tcp_event_data_sent(): a segment with data left; replying within ato of the last data received counts toward interactive mode.</summary>
    private void EventDataSent(long now)
    {
        if (_lrcvtimeUs != 0 && (Jiffies(now) - _lrcvtimeJiffies) * 1000 < _ato && _pingpong < 255) _pingpong++;
    }

    /// <summary>
    /// tcp_event_ack_sent(): compressed ACKs are accounted (TCPAckCompressed), one quick ACK is used when an ACK
    /// was owed (tcp_dec_quickack_mode), and the delayed-ACK timer is cleared.
    /// </summary>
    private void EventAckSent()
    {
        if (_compressedAck > 0)
        {
            _host.TcpExtStats.Add(TcpExtMib.TCPAckCompressed, _compressedAck);
            _compressedAck = 0;
            _compressedAckAt = 0;
            _compressedAckTimer?.Cancel();
        }
        if (_quick > 0 && (_ackPending & AckSched) != 0)
        {
            if (--_quick == 0) _ato = TcpDelackMinUs; // leaving quick-ACK mode deflates ato
        }
        _ackPending = 0;
        _delackAt = 0;
    }

    /// <summary>
    /// tcp_select_window(): the window to advertise, never moving the right edge left; counts the
    /// zero-window transitions (TCPToZeroWindowAdv / TCPFromZeroWindowAdv).
    /// </summary>
    private ushort SelectWindow()
    {
        int oldWin = _rcvWnd;
        int curWin = ReceiveWindow;
        int newWin = SelectWindowRaw();
        if (newWin < curWin)
        {
            if (newWin == 0) _host.TcpExtStats.Inc(TcpExtMib.TCPWantZeroWindowAdv);
            newWin = Align(curWin, 1 << _rcvWscale);
        }
        _rcvWnd = newWin;
        _rcvWup = _rcvNxt;
        int max = _wscaleOk ? 65535 << _rcvWscale : 65535;
        newWin = Math.Min(newWin, max) >> _rcvWscale;
        if (newWin == 0 && oldWin != 0) _host.TcpExtStats.Inc(TcpExtMib.TCPToZeroWindowAdv);
        else if (newWin != 0 && oldWin == 0) _host.TcpExtStats.Inc(TcpExtMib.TCPFromZeroWindowAdv);
        return (ushort)newWin;
    }

    /// <summary>tcp_receive_window(): what is left of the last advertised window.</summary>
    private int ReceiveWindow => Math.Max(0, (_rcvWup + _rcvWnd) - _rcvNxt);

    /// <summary>__tcp_select_window() with receiver SWS avoidance (§6.1 of docs/reference/linux-tcp.md).</summary>
    private int SelectWindowRaw()
    {
        int mss = _rcvMss;
        int freeSpace = Space;
        int allowed = FullSpace;
        int full = Math.Min(_windowClamp, allowed);
        if (mss > full) mss = full;
        if (mss <= 0) return 0;
        if (freeSpace < full / 2)
        {
            _quick = 0;
            freeSpace = freeSpace >> _rcvWscale << _rcvWscale;
            if (freeSpace < allowed / 16 || freeSpace < mss) return 0;
        }
        freeSpace = Math.Min(freeSpace, _rcvSsthresh);
        int window;
        if (_rcvWscale > 0)
        {
            window = Align(freeSpace, 1 << _rcvWscale);
        }
        else
        {
            window = _rcvWnd;
            if (window <= freeSpace - mss || window > freeSpace) window = freeSpace / mss * mss;
            else if (mss == full && freeSpace > window + full / 2) window = freeSpace;
        }
        return window;
    }

    private static int Align(int v, int a) => (v + a - 1) & ~(a - 1);

    /// <summary>tcp_send_ack(): a pure ACK now (seq = snd_nxt, ack = rcv_nxt).</summary>
    internal void SendAck()
    {
        if (State == TcpState.Close) return;
        Emit(_sndNxt, 0, TcpFlags.Ack, false, 0);
    }

    /// <summary>tcp_send_active_reset(): RST|ACK at an acceptable sequence number.</summary>
    private void SendActiveReset()
    {
        if (_rcvNxt == default && _irs == default && State != TcpState.Close) return;
        var seq = AcceptableSeq();
        Emit(seq, 0, TcpFlags.Rst | TcpFlags.Ack, false, 0);
    }

    /// <summary>tcp_acceptable_seq(): snd_nxt if inside the peer's window, else its right edge.</summary>
    private SeqNum AcceptableSeq()
    {
        var edge = _sndUna + _sndWnd;
        if (!SeqNum.After(_sndNxt, edge) || (_wscaleOk && (_sndNxt - edge) < (1 << _rcvWscale))) return _sndNxt;
        return edge;
    }

    /// <summary>tcp_send_fin(): queue the FIN after the data (it rides on an unsent tail) and push it past Nagle.</summary>
    private void SendFin()
    {
        if (_finQueued) return;
        _finQueued = true;
        _writeSeq += 1;
        PushPendingFrames(forcePush: true);
    }

    /// <summary>__tcp_push_pending_frames(): send what cwnd, the window and Nagle allow; arm the persist timer if stuck.</summary>
    internal void PushPendingFrames(bool forcePush)
    {
        if (State is TcpState.Close or TcpState.Listen or TcpState.SynSent or TcpState.SynRecv) return;
        if (_sndNxt == _writeSeq) return;
        if (WriteXmit(forcePush, pushOne: false)) return;
        // tcp_check_probe_timer(): nothing in flight and nothing could be sent → persist.
        if (_packetsOut == 0 && _pendingTimer == TimerKind.None)
            ResetRetransmitTimer(TimerKind.Probe0, Probe0Base);
    }

    /// <summary>
    /// tcp_write_xmit(): segment the unsent bytes at the current MSS while cwnd (or PRR) and the peer's
    /// window allow; Nagle (Minshall's variant) and TCP_CORK hold a partial last segment. Returns true when
    /// nothing remains that could not be sent (Linux's "!tcp_packets_in_flight() && tcp_send_head()" inverse).
    /// </summary>
    private bool WriteXmit(bool forcePush, bool pushOne)
    {
        int mss = CurrentMss();
        bool sentAny = false;
        var dataEnd = _finQueued ? _writeSeq - 1 : _writeSeq;
        while (SeqNum.Before(_sndNxt, _writeSeq))
        {
            uint inFlight = PacketsInFlight;
            if (!pushOne && inFlight >= Cc.SndCwnd)
            {
                Cc.IsCwndLimited = true;
                break;
            }
            int avail = dataEnd - _sndNxt;
            int len = Math.Min(mss, avail);
            bool fin = _finQueued && _sndNxt + len == dataEnd;
            // tcp_snd_wnd_test(): the whole segment must fit in the peer's window (FIN alone needs none past it).
            var wndEnd = _sndUna + _sndWnd;
            if (len > 0 && SeqNum.After(_sndNxt + len, wndEnd))
            {
                // A window smaller than the segment waits for the persist timer (tcp_write_wakeup splits).
                break;
            }
            if (len == 0 && fin && SeqNum.After(_sndNxt, wndEnd)) break;
            // tcp_nagle_test() on the last, partial segment.
            if (len < mss && !fin && !forcePush && !NagleAllows(len, mss)) break;
            var seg = new TxSeg { Seq = _sndNxt, EndSeq = _sndNxt + len + (fin ? 1 : 0), Flags = fin ? TcpFlags.Fin : TcpFlags.None };
            _rtx.Add(seg);
            bool wasEmpty = _packetsOut == 0;
            _packetsOut++;
            if (wasEmpty) _ca.CwndEvent(Cc, TcpCaEvent.TxStart);
            if (!TransmitSeg(ref _rtx.Tail, retransmission: false))
            {
                // "if (unlikely(tcp_transmit_skb(sk, skb, 1, gfp))) break;": a segment the local stack refused
                // (a full qdisc, no route) stays unsent at the head of the write queue, for the next ACK or timer.
                _rtx.RemoveTail();
                _packetsOut--;
                break;
            }
            _sndNxt = seg.EndSeq;
            if (len < mss) _sndSml = seg.EndSeq; // tcp_minshall_update()
            if (_caState is TcpCaState.Cwr or TcpCaState.Recovery) _prrOut++;
            _host.TcpExtStats.Inc(TcpExtMib.TCPOrigDataSent);
            sentAny = true;
            if (pushOne) break;
        }
        if (sentAny)
        {
            Cc.MaxPacketsOut = Math.Max(Cc.MaxPacketsOut, _packetsOut);
            SyncCc();
            // tcp_event_new_data_sent(): arm RTO if it was idle; schedule a tail loss probe.
            if (!pushOne && !ScheduleLossProbe()) RearmRtoIfIdle();
        }
        if (SeqNum.Before(_sndNxt, _writeSeq) && PacketsInFlight < Cc.SndCwnd) Cc.IsCwndLimited = false;
        // Application-limited: nothing left to send while cwnd had room (tcp_rate_check_app_limited).
        if (_sndNxt == _writeSeq && PacketsInFlight < Cc.SndCwnd) _appLimitedUntil = Math.Max(_delivered + PacketsInFlight, 1);
        return _sndNxt == _writeSeq || _packetsOut > 0;
    }

    /// <summary>tcp_nagle_check(): hold a partial segment while corked, or while a small segment is unacknowledged.</summary>
    private bool NagleAllows(int len, int mss)
    {
        if (_cork) return false;
        if (_noDelay) return true;
        bool minshall = SeqNum.After(_sndSml, _sndUna) && !SeqNum.After(_sndSml, _sndNxt);
        return !(_packetsOut > 0 && minshall);
    }

    /// <summary>tcp_retransmit_skb(): resend one queued segment (its payload re-read from the send ring).</summary>
    private bool RetransmitSeg(int index)
    {
        ref var seg = ref _rtx[index];
        // The peer may have shrunk its window; Linux still retransmits the head (tcp_retransmit_skb checks
        // only that the segment starts inside it).
        if (!TransmitSeg(ref seg, retransmission: true)) return false;
        if ((seg.Sacked & TcpCbSacked.SackedRetrans) == 0) _retransOut++;
        seg.Sacked |= TcpCbSacked.SackedRetrans | TcpCbSacked.EverRetrans;
        _totalRetrans++;
        _host.TcpStats.Inc(TcpMib.RetransSegs);
        if ((seg.Flags & TcpFlags.Syn) != 0) _host.TcpExtStats.Inc(TcpExtMib.TCPSynRetrans);
        if (_retransStampUs < 0) _retransStampUs = seg.TxUs;
        if (!_undoMarkerSet) { } else if (_undoRetrans >= 0) _undoRetrans++;
        return true;
    }

    /// <summary>tcp_xmit_retransmit_queue(): resend segments marked lost while cwnd (PRR) has room.</summary>
    private void XmitRetransmitQueue()
    {
        for (int i = 0; i < _rtx.Count; i++)
        {
            if (PacketsInFlight >= Cc.SndCwnd) break;
            ref var seg = ref _rtx[i];
            if ((seg.Sacked & (TcpCbSacked.Lost | TcpCbSacked.SackedAcked | TcpCbSacked.SackedRetrans)) != TcpCbSacked.Lost) continue;
            if (!RetransmitSeg(i)) break;
            if (_caState == TcpCaState.Recovery) { _host.TcpExtStats.Inc(TcpExtMib.TCPFastRetrans); _prrOut++; }
            else if (_caState == TcpCaState.Loss && Cc.InSlowStart) _host.TcpExtStats.Inc(TcpExtMib.TCPSlowStartRetrans);
            if (i == 0) RearmRto();
        }
    }

    /// <summary>
    /// tcp_write_wakeup(): the persist/keepalive probe. Data that starts inside a too-small window is sent
    /// as far as the window reaches; otherwise a bare ACK with seq = snd_una - 1 (Linux never sends a
    /// one-byte probe of new data; RFC 9293 §3.8.6.1 suggests one).
    /// </summary>
    private bool WriteWakeup(TcpExtMib mib)
    {
        if (State == TcpState.Close) return false;
        var wndEnd = _sndUna + _sndWnd;
        var dataEnd = _finQueued ? _writeSeq - 1 : _writeSeq;
        if (SeqNum.Before(_sndNxt, dataEnd) && SeqNum.Before(_sndNxt, wndEnd))
        {
            int len = Math.Min(Math.Min(wndEnd - _sndNxt, CurrentMss()), dataEnd - _sndNxt);
            bool fin = _finQueued && _sndNxt + len == dataEnd && SeqNum.After(wndEnd, dataEnd);
            var seg = new TxSeg { Seq = _sndNxt, EndSeq = _sndNxt + len + (fin ? 1 : 0), Flags = fin ? TcpFlags.Fin : TcpFlags.None };
            _rtx.Add(seg);
            _packetsOut++;
            _pushedSeq = seg.EndSeq;
            bool ok = TransmitSeg(ref _rtx.Tail, retransmission: false);
            _sndNxt = seg.EndSeq;
            _host.TcpExtStats.Inc(TcpExtMib.TCPOrigDataSent);
            RearmRtoIfIdle();
            return ok;
        }
        _host.TcpExtStats.Inc(mib);
        return Emit(_sndUna - 1, 0, TcpFlags.Ack, false, 0) == Errno.None;
    }
}
