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
    private Errno TransmitSeg(ref TxSeg seg, bool retransmission)
    {
        long now = NowUs;
        int len = seg.DataLength;
        bool syn = (seg.Flags & TcpFlags.Syn) != 0;
        var flags = seg.Flags;
        if (!syn || State == TcpState.SynRecv) flags |= TcpFlags.Ack;
        // tcp_mark_push(): PSH on the segment that ends a send() call.
        if (len > 0 && SeqNum.After(_pushedSeq, seg.Seq) && !SeqNum.After(_pushedSeq, seg.Seq + len)) flags |= TcpFlags.Psh;
        seg.TxUs = now;
        // Tcp OutSegs counts new data and segments without payload, not retransmissions (__tcp_transmit_skb).
        bool outSeg = !retransmission || seg.Seq == seg.EndSeq;
        var err = Emit(seg.Seq, len, flags, syn, (int)(seg.Seq + (syn ? 1 : 0) - _sndRingSeq), outSeg);
        if (len > 0)
        {
            _dataSegsOut++;
            _bytesSent += len;
            if (retransmission) _bytesRetrans += len;
            _lsndtimeUs = now;
            EventDataSent(now);
        }
        if (err == Errno.None) RateSkbSent(ref seg);
        return err;
    }

    /// <summary>
    /// Builds and sends one segment: header, options for its kind (tcp_syn_options / tcp_established_options),
    /// the window (tcp_select_window), the payload from the send ring at <paramref name="ringOffset"/>.
    /// </summary>
    private Errno Emit(SeqNum seq, int len, TcpFlags flags, bool synOptions, int ringOffset, bool outSeg = true)
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
        var pkt = _host.Pool.RentUninitialized(PacketPool.DefaultHeadroom, hl + len); // header and payload overwrite it all
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
        if (PacketsInFlight == 0)
        {
            SyncCc();
            _ca.CwndEvent(Cc, TcpCaEvent.TxStart);
        }
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

    /// <summary>tcp_send_fin(): queue the FIN after the data (it rides on an unsent tail) and push with TCP_NAGLE_OFF.</summary>
    private void SendFin()
    {
        if (_finQueued) return;
        _finQueued = true;
        _writeSeq += 1;
        PushPendingFrames(NagleOff);
    }

    // tp->nonagle bits (include/net/tcp.h).
    private const int NagleOff = 1;   // TCP_NAGLE_OFF: TCP_NODELAY
    private const int NagleCork = 2;  // TCP_NAGLE_CORK: TCP_CORK (or MSG_MORE for one push)
    private const int NaglePush = 4;  // TCP_NAGLE_PUSH: send the partial tail once (cleared when new data is queued)

    /// <summary>tp->nonagle.</summary>
    private int Nonagle => (_noDelay ? NagleOff : 0) | (_cork ? NagleCork : 0) | (_naglePush ? NaglePush : 0);

    /// <summary>tcp_push_pending_frames(): with the socket's own nonagle bits.</summary>
    internal void PushPendingFrames() => PushPendingFrames(Nonagle);

    /// <summary>__tcp_push_pending_frames(): send what cwnd, the window and Nagle allow; arm the persist timer if stuck.</summary>
    private void PushPendingFrames(int nonagle)
    {
        if (State is TcpState.Close or TcpState.Listen or TcpState.SynSent or TcpState.SynRecv) return;
        if (_sndNxt == _writeSeq) return;
        if (WriteXmit(nonagle, pushOne: 0)) CheckProbeTimer();
    }

    /// <summary>tcp_check_probe_timer(): nothing in flight and nothing could be sent: arm the persist timer if no other.</summary>
    private void CheckProbeTimer()
    {
        if (_packetsOut == 0 && _pendingTimer == TimerKind.None)
            ResetRetransmitTimer(TimerKind.Probe0, Probe0Base);
    }

    /// <summary>
    /// tcp_write_xmit(): segment the unsent bytes at the current MSS while cwnd (or PRR) and the peer's window allow
    /// (tcp_cwnd_test, tcp_snd_wnd_test: the whole segment, FIN included, must fit); Nagle (Minshall's variant) and
    /// TCP_CORK hold a partial last segment. <paramref name="pushOne"/> 1 sends at most one segment, 2 (a tail loss
    /// probe) one segment even past cwnd. Returns true when nothing is in flight but unsent data remains (the
    /// caller arms the persist timer). NetLab sends one MSS per segment: no TSO, so no tcp_tso_should_defer().
    /// </summary>
    private bool WriteXmit(int nonagle, int pushOne)
    {
        int mss = CurrentMss();
        int sent = 0;
        bool isCwndLimited = false;
        var dataEnd = _finQueued ? _writeSeq - 1 : _writeSeq;
        while (SeqNum.Before(_sndNxt, _writeSeq))
        {
            if (PacketsInFlight >= Cc.SndCwnd && pushOne != 2) break; // tcp_cwnd_test()
            int len = Math.Min(mss, dataEnd - _sndNxt);
            bool fin = _finQueued && _sndNxt + len == dataEnd;
            var end = _sndNxt + len + (fin ? 1 : 0);
            if (SeqNum.After(end, _sndUna + _sndWnd)) break; // tcp_snd_wnd_test(): receive-window limited
            if (!NagleTest(len, mss, fin, nonagle)) break;
            if (SmallQueueCheck(len, factor: 0)) break;
            var seg = new TxSeg { Seq = _sndNxt, EndSeq = end, Flags = fin ? TcpFlags.Fin : TcpFlags.None };
            _rtx.Add(seg);
            if (TransmitSeg(ref _rtx.Tail, retransmission: false) != Errno.None)
            {
                // "if (unlikely(tcp_transmit_skb(sk, skb, 1, gfp))) break;": a segment the local stack refused
                // (a full qdisc, no route) stays unsent at the head of the write queue, for the next ACK or timer.
                _rtx.RemoveTail();
                break;
            }
            // tcp_event_new_data_sent(): snd_nxt, packets_out, the RTO armed when idle (or replacing a TLP timer).
            _sndNxt = end;
            bool idle = _packetsOut == 0;
            _packetsOut++;
            if (idle || _pendingTimer == TimerKind.LossProbe) RearmRto();
            _host.TcpExtStats.Inc(TcpExtMib.TCPOrigDataSent);
            if (len < mss) _sndSml = end; // tcp_minshall_update()
            sent++;
            if (pushOne != 0) break;
        }
        isCwndLimited |= PacketsInFlight >= Cc.SndCwnd;
        if (sent > 0 || isCwndLimited) CwndValidate(isCwndLimited);
        if (sent > 0)
        {
            if (_caState is TcpCaState.Cwr or TcpCaState.Recovery) _prrOut += sent;
            SyncCc();
            if (pushOne != 2) ScheduleLossProbe(advancingRto: false); // one probe per tail-loss episode
            return false;
        }
        return _packetsOut == 0 && _sndNxt != _writeSeq;
    }

    /// <summary>
    /// tcp_small_queue_check(): stop while more than max(2·truesize, ~1 ms at the pacing rate) — at most
    /// tcp_limit_output_bytes, doubled for retransmissions — waits below TCP, unless this is the only segment out.
    /// The socket resumes when the device completes a transmission (<see cref="TcpSmallQueues"/>).
    /// </summary>
    private bool SmallQueueCheck(int len, int factor)
    {
        _tsq ??= _host.Ipv4.RouteOutput(RemoteAddress, BoundDevice)?.Device is { } dev ? TcpSmallQueues.For(dev, _host.Scheduler) : null;
        if (_tsq is null) return false;
        long limit = Math.Max(2L * (len + SkbTruesizeOverhead), SkPacingRate >> 10); // sk_pacing_shift
        limit = Math.Min(limit, _host.TcpSysctl.TcpLimitOutputBytes) << factor;
        if (_tsq.Backlog <= limit) return false;
        if (_rtx.Count <= 1) return false; // tcp_rtx_queue_empty_or_single_skb(): no need to wait
        _tsq.Throttle(this);
        return true;
    }

    /// <summary>An skb's truesize beyond its payload (sk_buff, shared info, header room), approximately.</summary>
    private const int SkbTruesizeOverhead = 768;

    /// <summary>
    /// sk_pacing_rate as tcp_update_pacing_rate() computes it, in bytes per second: 200 % of cwnd·mss/srtt in early
    /// slow start (cwnd &lt; ssthresh/2), 120 % after; unlimited before the first RTT sample. NetLab does not pace;
    /// the rate sizes TSQ's limit as in Linux.
    /// </summary>
    private long SkPacingRate
    {
        get
        {
            if (_srttUs == 0) return long.MaxValue;
            var sys = _host.TcpSysctl;
            long rate = (long)_mssCache * (1_000_000 / 100 << 3);
            rate *= Cc.SndCwnd < Cc.SndSsthresh / 2 ? sys.TcpPacingSsRatio : sys.TcpPacingCaRatio;
            rate *= Math.Max(Cc.SndCwnd, _packetsOut);
            return rate / _srttUs;
        }
    }

    /// <summary>tcp_tsq_write(): after a transmit completion, retransmit what is lost and send what waits.</summary>
    internal void TsqWrite()
    {
        if (State is not (TcpState.Established or TcpState.FinWait1 or TcpState.Closing or TcpState.CloseWait or TcpState.LastAck)) return;
        if (_lostOut > _retransOut && Cc.SndCwnd > PacketsInFlight) XmitRetransmitQueue();
        if (_sndNxt != _writeSeq) WriteXmit(Nonagle, pushOne: 0);
    }

    /// <summary>
    /// tcp_nagle_test(): TCP_NAGLE_PUSH and a FIN always go; a partial segment is held while corked, or — Nagle
    /// with Minshall's check — while an earlier small segment is unacknowledged (tcp_nagle_check).
    /// </summary>
    private bool NagleTest(int len, int mss, bool fin, int nonagle)
    {
        if ((nonagle & NaglePush) != 0 || fin) return true;
        bool partial = len < mss;
        bool minshall = SeqNum.After(_sndSml, _sndUna) && !SeqNum.After(_sndSml, _sndNxt);
        bool hold = partial && ((nonagle & NagleCork) != 0 || (nonagle == 0 && _packetsOut > 0 && minshall));
        return !hold;
    }

    /// <summary>
    /// tcp_cwnd_validate() (RFC 7661): remember whether this window was cwnd-limited; when it was not for an RTO,
    /// tcp_cwnd_application_limited() decays cwnd toward what was used (tcp_slow_start_after_idle).
    /// </summary>
    private void CwndValidate(bool isCwndLimited)
    {
        if (!SeqNum.Before(_sndUna, _cwndUsageSeq) || isCwndLimited || (!Cc.IsCwndLimited && _packetsOut > Cc.MaxPacketsOut))
        {
            Cc.IsCwndLimited = isCwndLimited;
            Cc.MaxPacketsOut = _packetsOut;
            _cwndUsageSeq = _sndNxt;
        }
        if (Cc.CwndLimited)
        {
            _sndCwndUsed = 0;
            _sndCwndStampUs = NowUs;
            return;
        }
        if (_packetsOut > _sndCwndUsed) _sndCwndUsed = _packetsOut;
        if (_host.TcpSysctl.TcpSlowStartAfterIdle != 0 && Jiffies(NowUs) - Jiffies(_sndCwndStampUs) >= Jiffies(_rto)
            && !_ca.HasCongControl)
            CwndApplicationLimited();
    }

    /// <summary>tcp_cwnd_application_limited(): cwnd = (cwnd + max(used, IW)) / 2, ssthresh kept at 3/4 of cwnd.</summary>
    private void CwndApplicationLimited()
    {
        if (_caState == TcpCaState.Open && !_sndbufFull)
        {
            uint winUsed = Math.Max(_sndCwndUsed, TcpCongestionState.InitCwnd);
            if (winUsed < Cc.SndCwnd)
            {
                Cc.SndSsthresh = CurrentSsthresh();
                Cc.SndCwnd = (Cc.SndCwnd + winUsed) >> 1;
            }
            _sndCwndUsed = 0;
        }
        _sndCwndStampUs = NowUs;
    }

    /// <summary>
    /// __tcp_retransmit_skb(): resend one queued segment (its payload re-read from the send ring). A segment now
    /// outside a shrunken window is not resent, unless it is the head (then it probes a zero window). Counts
    /// RetransSegs (TCPSynRetrans), total_retrans and bytes_retrans, and marks the segment EVER_RETRANS.
    /// </summary>
    private Errno RetransmitSegRaw(int index)
    {
        ref var seg = ref _rtx[index];
        int availWnd = (_sndUna + _sndWnd) - seg.Seq;
        if (availWnd <= 0 && seg.Seq != _sndUna) return Errno.EAGAIN;
        _host.TcpStats.Inc(TcpMib.RetransSegs);
        if ((seg.Flags & TcpFlags.Syn) != 0) _host.TcpExtStats.Inc(TcpExtMib.TCPSynRetrans);
        _totalRetrans++;
        var err = TransmitSeg(ref seg, retransmission: true);
        if (err != Errno.None) _host.TcpExtStats.Inc(TcpExtMib.TCPRetransFail);
        seg.Sacked |= TcpCbSacked.EverRetrans;
        return err;
    }

    /// <summary>
    /// tcp_retransmit_skb(): resend and account the retransmission in flight (SACKED_RETRANS, retrans_out);
    /// retrans_stamp starts at the first (attempted) retransmission; undo_retrans counts it.
    /// </summary>
    private Errno RetransmitSeg(int index)
    {
        var err = RetransmitSegRaw(index);
        ref var seg = ref _rtx[index];
        if (err == Errno.None)
        {
            seg.Sacked |= TcpCbSacked.SackedRetrans | TcpCbSacked.EverRetrans;
            _retransOut++;
        }
        if (_retransStampUs < 0) _retransStampUs = seg.TxUs;
        if (_undoRetrans < 0) _undoRetrans = 0;
        _undoRetrans++;
        return err;
    }

    /// <summary>
    /// tcp_xmit_retransmit_queue(): resend segments marked lost, in order, while cwnd (PRR in Recovery) has room and
    /// fewer retransmissions than losses are in flight; TCPFastRetrans outside Loss, TCPSlowStartRetrans in it. A
    /// retransmitted head restarts the RTO from now.
    /// </summary>
    private void XmitRetransmitQueue()
    {
        if (_packetsOut == 0) return;
        bool rearmTimer = false;
        for (int i = 0; i < _rtx.Count; i++)
        {
            if ((int)Cc.SndCwnd - (int)PacketsInFlight <= 0) break;
            var sacked = _rtx[i].Sacked;
            if (_retransOut >= _lostOut) break;
            if ((sacked & TcpCbSacked.Lost) == 0) continue;
            var mib = _caState != TcpCaState.Loss ? TcpExtMib.TCPFastRetrans : TcpExtMib.TCPSlowStartRetrans;
            if ((sacked & (TcpCbSacked.SackedAcked | TcpCbSacked.SackedRetrans)) != 0) continue;
            if (SmallQueueCheck(_rtx[i].DataLength, factor: 1)) break;
            if (RetransmitSeg(i) != Errno.None) break;
            _host.TcpExtStats.Inc(mib);
            if (_caState is TcpCaState.Cwr or TcpCaState.Recovery) _prrOut++;
            if (i == 0 && _pendingTimer != TimerKind.ReoTimeout) rearmTimer = true;
        }
        if (rearmTimer) ResetRetransmitTimer(TimerKind.Retrans, _rto);
    }

    /// <summary>
    /// tcp_write_wakeup(): the persist/keepalive probe. Unsent data that starts inside the window is sent as far as
    /// the window (and the MSS) reaches, with PSH (sender SWS avoidance ends here); otherwise a bare ACK with
    /// seq = snd_una − 1 (Linux never sends a one-byte probe of new data; RFC 9293 §3.8.6.1 suggests one).
    /// </summary>
    /// <returns>False only when the local stack was congested (a positive return in Linux): retry soon, no backoff.</returns>
    private bool WriteWakeup(TcpExtMib mib) => WriteWakeupErr(mib) != Errno.ENOBUFS;

    private Errno WriteWakeupErr(TcpExtMib mib)
    {
        if (State == TcpState.Close) return Errno.ENOTCONN;
        var wndEnd = _sndUna + _sndWnd;
        if (_sndNxt != _writeSeq && SeqNum.Before(_sndNxt, wndEnd))
        {
            var dataEnd = _finQueued ? _writeSeq - 1 : _writeSeq;
            int mss = CurrentMss();
            int skbLen = Math.Min(mss, dataEnd - _sndNxt); // the send head as Linux would have queued it
            int segSize = wndEnd - _sndNxt;
            bool skbFin = _finQueued && _sndNxt + skbLen == dataEnd;
            int len = skbLen;
            bool fin = skbFin;
            if (segSize < skbLen + (skbFin ? 1 : 0))
            {
                len = Math.Min(segSize, mss); // tcp_fragment() at the window's edge
                fin = false;
            }
            // PSH always (TCP_SKB_CB(skb)->tcp_flags |= TCPHDR_PSH), kept for the segment's retransmissions.
            var seg = new TxSeg { Seq = _sndNxt, EndSeq = _sndNxt + len + (fin ? 1 : 0), Flags = (fin ? TcpFlags.Fin : TcpFlags.None) | TcpFlags.Psh };
            if (SeqNum.Before(_pushedSeq, _sndNxt + skbLen)) _pushedSeq = _sndNxt + skbLen;
            _rtx.Add(seg);
            var err = TransmitSeg(ref _rtx.Tail, retransmission: false);
            // tcp_event_new_data_sent()
            _sndNxt = seg.EndSeq;
            bool idle = _packetsOut == 0;
            _packetsOut++;
            if (idle || _pendingTimer == TimerKind.LossProbe) RearmRto();
            _host.TcpExtStats.Inc(TcpExtMib.TCPOrigDataSent);
            return err;
        }
        _host.TcpExtStats.Inc(mib);
        return Emit(_sndUna - 1, 0, TcpFlags.Ack, false, 0);
    }
}
