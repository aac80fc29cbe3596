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
        var syn = new TxSeg { Seq = _iss, EndSeq = _iss + 1, Flags = TcpFlags.Syn, SkbStart = true };
        _rtx.Add(syn);
        _packetsOut++;
        TransmitSkb(_rtx.Count - 1, 1, retransmission: false);
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
            if (_ofoStore is not null) foreach (var o in _ofoStore) n += o.EndSeq - o.Seq;
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
    /// __tcp_transmit_skb(): send <paramref name="count"/> retransmit-queue entries from <paramref name="index"/> as
    /// one skb — a GSO packet of MSS-sized segments when there are several (gso_size = the first entry's length).
    /// Returns the local stack's errno (ENOBUFS from a full qdisc, EMSGSIZE, no route): Linux retries such segments
    /// from its timers.
    /// </summary>
    private Errno TransmitSkb(int index, int count, bool retransmission)
    {
        long now = NowUs;
        ref var first = ref _rtx[index];
        ref var last = ref _rtx[index + count - 1];
        bool syn = (first.Flags & TcpFlags.Syn) != 0;
        int len = 0;
        var flags = first.Flags & TcpFlags.Syn | last.Flags & TcpFlags.Fin;
        for (int i = index; i < index + count; i++)
        {
            ref var e = ref _rtx[i];
            len += e.DataLength;
            flags |= e.Flags & TcpFlags.Psh; // PSH forced by tcp_write_wakeup() stays with the skb
            e.TxUs = now;
        }
        if (!syn || State == TcpState.SynRecv) flags |= TcpFlags.Ack;
        // tcp_mark_push(): PSH on the skb that ends a send() call (tso_fragment() leaves it on the last piece).
        if (len > 0 && SeqNum.After(_pushedSeq, first.Seq) && !SeqNum.After(_pushedSeq, first.Seq + len)) flags |= TcpFlags.Psh;
        // __tcp_transmit_skb(): PSH on every GSO skb "to expedite GRO flush at receiver"; segmentation keeps it on
        // the last segment only.
        if (count > 1) flags |= TcpFlags.Psh;
        int gsoSize = count > 1 ? first.DataLength : 0;
        if (len > 0)
        {
            // Before the skb goes down, as in __tcp_transmit_skb(): pacing reads data_segs_out.
            _dataSegsOut += count;
            _bytesSent += len;
            if (retransmission) _bytesRetrans += len;
            _lsndtimeUs = now;
            EventDataSent(now);
        }
        var err = Emit(first.Seq, len, flags, syn, (int)(first.Seq + (syn ? 1 : 0) - _sndRingSeq), gsoSize);
        if (err == Errno.None)
            for (int i = index; i < index + count; i++) RateSkbSent(ref _rtx[i]);
        return err;
    }

    /// <summary>
    /// Builds and sends one segment, or with <paramref name="gsoSize"/> one GSO packet of segments of that payload
    /// size: header, options for its kind (tcp_syn_options / tcp_established_options), the window
    /// (tcp_select_window), the payload from the send ring at <paramref name="ringOffset"/>. A GSO packet leaves
    /// its checksum to the device (CHECKSUM_PARTIAL), which segments it or hands it whole to a TSO driver.
    /// </summary>
    private Errno Emit(SeqNum seq, int len, TcpFlags flags, bool synOptions, int ringOffset, int gsoSize = 0)
    {
        int segs = gsoSize > 0 ? (len + gsoSize - 1) / gsoSize : 1;
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
        repr.Emit(pkt.Data, LocalAddress, RemoteAddress, fillChecksum: gsoSize == 0);
        pkt.TransportOffset = pkt.DataOffset;
        pkt.GsoSize = gsoSize;
        pkt.GsoSegs = segs;
        pkt.ChecksumUnnecessary = true;
        if ((flags & TcpFlags.Ack) != 0) EventAckSent();
        // __tcp_transmit_skb(): OutSegs counts new sequence space and pure control segments, not retransmissions.
        var endSeq = seq + len + ((flags & TcpFlags.Syn) != 0 ? 1 : 0) + ((flags & TcpFlags.Fin) != 0 ? 1 : 0);
        if (SeqNum.After(endSeq, _sndNxt) || seq == endSeq) _host.TcpStats.Add(TcpMib.OutSegs, segs);
        if ((flags & TcpFlags.Rst) != 0) _host.TcpStats.Inc(TcpMib.OutRsts);
        _segsOut += segs;
        var err = _host.Ipv4.Output(pkt, new IpSendParams(LocalAddress, RemoteAddress, IpProtocol.Tcp, Ttl, Tos,
            PmtuDiscover, BoundDevice, true, false));
        // __tcp_transmit_skb(): NET_XMIT_DROP from the local qdisc is congestion at home: enter CWR.
        if (err == Errno.ENOBUFS && IsSynchronized) EnterCwr();
        if (err == Errno.None) UpdateSkbAfterSend(len > 0 ? len : hl);
        return err;
    }

    /// <summary>
    /// tcp_update_skb_after_send(): the departure time moves to now, and while TCP paces itself (after the first 10
    /// data segments, as sch_fq) on by the skb's length at sk_pacing_rate, less up to half of it as credit for idle
    /// time since the previous departure.
    /// </summary>
    private void UpdateSkbAfterSend(int len)
    {
        long prior = _wstampNs;
        _wstampNs = Math.Max(_wstampNs, _host.Now.Nanoseconds);
        if (!_pacingNeeded || _pacingRate == long.MaxValue || _pacingRate == 0 || _dataSegsOut < 10) return;
        long lenNs = (long)((UInt128)(ulong)len * 1_000_000_000 / (ulong)_pacingRate);
        long credit = _wstampNs - prior;
        lenNs -= Math.Min(lenNs / 2, credit);
        _wstampNs += lenNs;
    }

    /// <summary>
    /// tcp_pacing_check(): while TCP paces itself and the next departure time is ahead, stop sending and arm the
    /// pacing timer for it (tcp_pace_kick → tcp_tsq_handler sends again).
    /// </summary>
    private bool PacingCheck()
    {
        if (!_pacingNeeded || _wstampNs <= _host.Now.Nanoseconds) return false;
        _pacingTimer ??= new Core.Time.SimTimer(_host.Scheduler, TsqWrite);
        if (!_pacingTimer.IsArmed) _pacingTimer.Arm(new Core.Time.SimTime(_wstampNs));
        return true;
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
    /// tcp_write_xmit(): send the unsent bytes as skbs of up to the TSO size goal while cwnd (or PRR) and the peer's
    /// window allow. Each round takes the send head as Linux sees it after tcp_grow_skb() — at least
    /// cwnd_quota·MSS, at most the size goal — and, as Linux does: tcp_snd_wnd_test() on its first MSS; Nagle
    /// (Minshall's variant, TCP_CORK) for a one-segment skb or tcp_tso_should_defer() for a bigger one; then
    /// tcp_mss_split_point() and TSQ. <paramref name="pushOne"/> 1 sends at most one skb, 2 (a tail loss probe)
    /// one skb even past cwnd. Returns true when nothing is in flight but unsent data remains (the caller arms the
    /// persist timer).
    /// </summary>
    private bool WriteXmit(int nonagle, int pushOne)
    {
        int mss = CurrentMss();
        int maxSegs = TsoSegs(mss);
        int sentPkts = 0;
        bool isCwndLimited = false;
        var dataEnd = _finQueued ? _writeSeq - 1 : _writeSeq;
        while (SeqNum.Before(_sndNxt, _writeSeq))
        {
            if (PacingCheck()) break;
            int cwndQuota = CwndTest();
            if (cwndQuota == 0)
            {
                if (pushOne != 2) break;
                cwndQuota = 1; // force out a loss probe
            }
            cwndQuota = Math.Min(cwndQuota, maxSegs);
            int unsent = dataEnd - _sndNxt;
            int skbLen = (int)Math.Min(unsent, Math.Max((long)cwndQuota * mss, SizeGoal(mss)));
            bool isTail = skbLen == unsent; // the FIN, when queued, rides on the tail skb
            bool skbFin = isTail && _finQueued;
            int tsoSegs = Math.Max(1, (skbLen + mss - 1) / mss);
            // tcp_snd_wnd_test(): at least the skb's first segment fits in the peer's window.
            int firstLen = Math.Min(skbLen, mss);
            if (SeqNum.After(_sndNxt + firstLen + (skbFin && firstLen == skbLen ? 1 : 0), _sndUna + _sndWnd)) break;
            if (tsoSegs == 1)
            {
                if (!NagleTest(skbLen, mss, skbFin, isTail ? nonagle : NaglePush)) break;
            }
            else if (pushOne == 0 && TsoShouldDefer(skbLen, isTail, skbFin, maxSegs, ref isCwndLimited)) break;
            int len = tsoSegs > 1 ? Math.Min(skbLen, MssSplitPoint(skbLen, isTail, mss, cwndQuota, nonagle)) : skbLen;
            bool fin = skbFin && len == skbLen; // tso_fragment() leaves the FIN on the second piece
            if (SmallQueueCheck(len, factor: 0)) break;
            int count = QueueNewSkb(len, fin, mss);
            if (TransmitSkb(_rtx.Count - count, count, retransmission: false) != Errno.None)
            {
                // "if (unlikely(tcp_transmit_skb(sk, skb, 1, gfp))) break;": an skb the local stack refused
                // (a full qdisc, no route) stays unsent at the head of the write queue, for the next ACK or timer.
                for (int i = 0; i < count; i++) _rtx.RemoveTail();
                break;
            }
            EventNewDataSent(count);
            if (len < count * mss) _sndSml = _sndNxt; // tcp_minshall_update(): the skb ends in a partial segment
            sentPkts += count;
            if (pushOne != 0) break;
        }
        isCwndLimited |= PacketsInFlight >= Cc.SndCwnd;
        if (sentPkts > 0 || isCwndLimited) CwndValidate(isCwndLimited);
        if (sentPkts > 0)
        {
            if (_caState is TcpCaState.Cwr or TcpCaState.Recovery) _prrOut += sentPkts;
            SyncCc();
            if (pushOne != 2) ScheduleLossProbe(advancingRto: false); // one probe per tail-loss episode
            return false;
        }
        return _packetsOut == 0 && _sndNxt != _writeSeq;
    }

    /// <summary>Appends the entries of a new skb of <paramref name="len"/> bytes at snd_nxt (the FIN on its last) and returns how many.</summary>
    private int QueueNewSkb(int len, bool fin, int mss)
    {
        int count = Math.Max(1, (len + mss - 1) / mss);
        var seq = _sndNxt;
        for (int k = 0; k < count; k++)
        {
            int n = Math.Min(mss, len - k * mss);
            bool last = k == count - 1;
            _rtx.Add(new TxSeg
            {
                Seq = seq,
                EndSeq = seq + n + (last && fin ? 1 : 0),
                Flags = last && fin ? TcpFlags.Fin : TcpFlags.None,
                SkbStart = k == 0,
            });
            seq += n;
        }
        return count;
    }

    /// <summary>tcp_event_new_data_sent(): snd_nxt, packets_out, the RTO armed when idle (or replacing a TLP timer).</summary>
    private void EventNewDataSent(int count)
    {
        _sndNxt = _rtx.Tail.EndSeq;
        bool idle = _packetsOut == 0;
        _packetsOut += (uint)count;
        if (idle || _pendingTimer == TimerKind.LossProbe) RearmRto();
        _host.TcpExtStats.Add(TcpExtMib.TCPOrigDataSent, count);
    }

    /// <summary>tcp_cwnd_test(): segments cwnd allows now, at most half of cwnd so that two GSO packets are in flight.</summary>
    private int CwndTest()
    {
        uint inFlight = PacketsInFlight, cwnd = Cc.SndCwnd;
        if (inFlight >= cwnd) return 0;
        return (int)Math.Min(Math.Max(cwnd >> 1, 1u), cwnd - inFlight);
    }

    /// <summary>
    /// tcp_xmit_size_goal(): the largest skb a send() builds, a multiple of the MSS up to the device's gso_max_size
    /// bounded by half the peer's largest window (tcp_bound_to_half_wnd).
    /// </summary>
    private int SizeGoal(int mss)
    {
        var dev = EgressDevice;
        int goal = dev?.GsoMaxSize ?? 65536;
        int cutoff = _maxWindow > TcpMssDefault ? _maxWindow >> 1 : _maxWindow;
        if (cutoff > 0 && goal > cutoff) goal = Math.Max(cutoff, 68 - _tcpHeaderLen);
        int segs = Math.Min(goal / mss, dev?.GsoMaxSegs ?? 65535);
        return Math.Max(segs * mss, mss);
    }

    /// <summary>
    /// tcp_tso_segs() → tcp_tso_autosize(): segments per GSO packet — about a millisecond at the pacing rate
    /// (sk_pacing_shift 10), plus gso_max_size halved for every 2^tcp_tso_rtt_log µs of min RTT, at most
    /// gso_max_size, at least tcp_min_tso_segs.
    /// </summary>
    private int TsoSegs(int mss)
    {
        var sys = _host.TcpSysctl;
        var dev = EgressDevice;
        long gsoMax = dev?.GsoMaxSize ?? 65536;
        long bytes = _pacingRate >> 10;
        long r = MinRtt >> sys.TcpTsoRttLog;
        if (r < 32) bytes += gsoMax >> (int)r;
        bytes = Math.Min(bytes, gsoMax);
        long segs = Math.Max(bytes / mss, sys.TcpMinTsoSegs);
        return (int)Math.Min(segs, dev?.GsoMaxSegs ?? 65535);
    }

    /// <summary>
    /// tcp_tso_should_defer() (John Heffner's TSO Nagle): hold a GSO skb that cannot go out full-sized when the last
    /// transmission was within 1 ms, less than 1/tcp_tso_win_divisor of the window is open, and an ACK is due
    /// (the queue's head was sent at least half an RTT ago). Never in Recovery or Loss, never for a FIN.
    /// </summary>
    private bool TsoShouldDefer(int skbLen, bool isTail, bool fin, int maxSegs, ref bool isCwndLimited)
    {
        if (_caState >= TcpCaState.Recovery) return false;
        // Defer only if the last departure was recent (1 ms); tcp_wstamp_ns is ahead of now while pacing.
        if (_host.Now.Nanoseconds - _wstampNs - 1_000_000 > 0) return false;
        long now = NowUs;
        uint inFlight = PacketsInFlight;
        long sendWin = (_sndUna + _sndWnd) - _sndNxt;
        long congWin = (long)(Cc.SndCwnd - inFlight) * _mssCache;
        long limit = Math.Min(sendWin, congWin);
        if (limit >= (long)maxSegs * _mssCache) return false;
        if (!isTail && limit >= skbLen) return false;
        int divisor = _host.TcpSysctl.TcpTsoWinDivisor;
        if (divisor != 0)
        {
            long chunk = Math.Min(_sndWnd, (long)Cc.SndCwnd * _mssCache) / divisor;
            if (limit >= chunk) return false;
        }
        else if (limit > TcpMaxTsoDeferredMss * _mssCache) return false;
        if (_rtx.Count == 0) return false;
        if (now - _rtx.Head.TxUs < _srttUs >> 4) return false; // the next ACK is likely to come too late
        if (congWin < sendWin)
        {
            if (congWin <= skbLen) { isCwndLimited = true; return true; }
        }
        else if (sendWin <= skbLen) return true; // rwnd-limited
        return !fin;
    }

    /// <summary>tcp_max_tso_deferred_mss(): with tcp_tso_win_divisor 0, defer while at most 3 MSS are sendable.</summary>
    private const int TcpMaxTsoDeferredMss = 3;

    /// <summary>
    /// tcp_mss_split_point(): how much of the send-head skb to send — max_segs·MSS when the window holds it and more
    /// data follows, else what the window allows, less a partial last segment that Nagle would hold.
    /// </summary>
    private int MssSplitPoint(int skbLen, bool isTail, int mss, int maxSegs, int nonagle)
    {
        int window = (_sndUna + _sndWnd) - _sndNxt;
        int maxLen = mss * maxSegs;
        if (maxLen <= window && !isTail) return maxLen;
        int needed = Math.Min(skbLen, window);
        if (maxLen <= needed) return maxLen;
        int partial = needed % mss;
        return NagleCheck(partial != 0, nonagle) ? needed - partial : needed;
    }

    /// <summary>The device this connection's route leaves by (sk_dst_get()->dev), looked up once; null for no route.</summary>
    private NetLab.Stack.Link.NetDevice? EgressDevice =>
        _egressDevice ??= _host.Ipv4.RouteOutput(RemoteAddress, BoundDevice) is { } r
            ? r.Type == RouteType.Local ? _host.Loopback : r.Device
            : null;

    /// <summary>
    /// tcp_small_queue_check(): stop while more than max(2·truesize, ~1 ms at the pacing rate) — at most
    /// tcp_limit_output_bytes, doubled for retransmissions — waits below TCP, unless this is the only skb out.
    /// The socket resumes when the device completes a transmission (<see cref="TcpSmallQueues"/>).
    /// </summary>
    private bool SmallQueueCheck(int len, int factor)
    {
        _tsq ??= EgressDevice is { } dev ? TcpSmallQueues.For(dev, _host.Scheduler) : null;
        if (_tsq is null) return false;
        long limit = Math.Max(2L * (len + SkbTruesizeOverhead), _pacingRate >> 10); // sk_pacing_shift
        limit = Math.Min(limit, _host.TcpSysctl.TcpLimitOutputBytes) << factor;
        if (_tsq.Backlog <= limit) return false;
        if (RtxQueueEmptyOrSingleSkb()) return false; // no need to wait for a TX completion
        _tsq.Throttle(this, limit);
        return true;
    }

    /// <summary>tcp_rtx_queue_empty_or_single_skb().</summary>
    private bool RtxQueueEmptyOrSingleSkb()
    {
        for (int i = _rtx.Count - 1; i > 0; i--)
            if (_rtx[i].SkbStart) return false;
        return true;
    }

    /// <summary>An skb's truesize beyond its payload (sk_buff, shared info, header room), approximately.</summary>
    private const int SkbTruesizeOverhead = 768;

    /// <summary>
    /// tcp_update_pacing_rate(): sk_pacing_rate in bytes per second, 200 % of cwnd·mss/srtt in early slow start
    /// (cwnd &lt; ssthresh/2), 120 % after. Linux computes it when the handshake completes and after each ACK's
    /// congestion control; until then it is ~0 (unlimited). It sizes TSQ's limit and TSO autosizing, and paces the
    /// socket itself when SO_MAX_PACING_RATE (or, later, a pacing congestion control) asked for it.
    /// </summary>
    private void UpdatePacingRate()
    {
        var sys = _host.TcpSysctl;
        long rate = (long)_mssCache * (1_000_000 / 100 << 3);
        rate *= Cc.SndCwnd < Cc.SndSsthresh / 2 ? sys.TcpPacingSsRatio : sys.TcpPacingCaRatio;
        rate *= Math.Max(Cc.SndCwnd, _packetsOut);
        if (_srttUs != 0) rate /= _srttUs;
        _pacingRate = Math.Min(rate, _maxPacingRate);
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
        return !NagleCheck(len < mss, nonagle);
    }

    /// <summary>tcp_nagle_check(): hold a partial segment while corked, or while a small segment is unacknowledged (Minshall).</summary>
    private bool NagleCheck(bool partial, int nonagle)
    {
        bool minshall = SeqNum.After(_sndSml, _sndUna) && !SeqNum.After(_sndSml, _sndNxt);
        return partial && ((nonagle & NagleCork) != 0 || (nonagle == 0 && _packetsOut > 0 && minshall));
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
    /// __tcp_retransmit_skb(): resend the skb that starts at entry <paramref name="index"/> (its payload re-read from
    /// the send ring), at most <paramref name="segs"/> MSS of it and no more than the window allows: a longer skb is
    /// split there (tcp_fragment), its rest becoming an skb of its own. An skb now outside a shrunken window is not
    /// resent, unless it is the head (then it probes a zero window). Counts RetransSegs (TCPSynRetrans),
    /// total_retrans and bytes_retrans, and marks the entries EVER_RETRANS. <paramref name="count"/> is how many
    /// entries went out.
    /// </summary>
    private Errno RetransmitSkbRaw(int index, int segs, out int count)
    {
        count = 0;
        ref var seg = ref _rtx[index];
        int curMss = CurrentMss();
        int availWnd = (_sndUna + _sndWnd) - seg.Seq;
        if (availWnd <= 0)
        {
            if (seg.Seq != _sndUna) return Errno.EAGAIN;
            availWnd = curMss; // the window shrank to zero: this retransmission probes it
        }
        long maxLen = (long)curMss * segs;
        if (maxLen > availWnd)
        {
            maxLen = availWnd / curMss * curMss;
            if (maxLen == 0) maxLen = availWnd;
        }
        // The entries of this skb with the same scoreboard state, up to maxLen (at least one).
        var sacked = seg.Sacked;
        int bytes = seg.DataLength;
        count = 1;
        while (index + count < _rtx.Count && !_rtx[index + count].SkbStart && _rtx[index + count].Sacked == sacked
               && bytes + _rtx[index + count].DataLength <= maxLen)
        {
            bytes += _rtx[index + count].DataLength;
            count++;
        }
        _rtx[index].SkbStart = true;
        if (index + count < _rtx.Count) _rtx[index + count].SkbStart = true; // tcp_fragment(): the rest is a new skb
        _host.TcpStats.Add(TcpMib.RetransSegs, count);
        if ((seg.Flags & TcpFlags.Syn) != 0) _host.TcpExtStats.Inc(TcpExtMib.TCPSynRetrans);
        _totalRetrans += count;
        var err = TransmitSkb(index, count, retransmission: true);
        if (err != Errno.None) _host.TcpExtStats.Inc(TcpExtMib.TCPRetransFail);
        for (int i = index; i < index + count; i++) _rtx[i].Sacked |= TcpCbSacked.EverRetrans;
        return err;
    }

    /// <summary>
    /// tcp_retransmit_skb(): resend and account the retransmission in flight (SACKED_RETRANS, retrans_out);
    /// retrans_stamp starts at the first (attempted) retransmission; undo_retrans counts it.
    /// </summary>
    private Errno RetransmitSkb(int index, int segs, out int count)
    {
        var err = RetransmitSkbRaw(index, segs, out count);
        if (count == 0) return err;
        if (err == Errno.None)
        {
            for (int i = index; i < index + count; i++) _rtx[i].Sacked |= TcpCbSacked.SackedRetrans | TcpCbSacked.EverRetrans;
            _retransOut += (uint)count;
        }
        if (_retransStampUs < 0) _retransStampUs = _rtx[index].TxUs;
        if (_undoRetrans < 0) _undoRetrans = 0;
        _undoRetrans += count;
        return err;
    }

    /// <summary>
    /// tcp_xmit_retransmit_queue(): resend skbs marked lost, in order, while cwnd (PRR in Recovery) has room and
    /// fewer retransmissions than losses are in flight, each at most min(cwnd room, tcp_tso_segs) segments;
    /// TCPFastRetrans outside Loss, TCPSlowStartRetrans in it. A retransmitted head restarts the RTO from now.
    /// </summary>
    private void XmitRetransmitQueue()
    {
        if (_packetsOut == 0) return;
        bool rearmTimer = false;
        int maxSegs = TsoSegs(CurrentMss());
        for (int i = 0; i < _rtx.Count;)
        {
            if (PacingCheck()) break;
            int segs = Math.Min((int)Cc.SndCwnd - (int)PacketsInFlight, maxSegs);
            if (segs <= 0) break;
            var sacked = _rtx[i].Sacked;
            if (_retransOut >= _lostOut) break;
            if ((sacked & TcpCbSacked.Lost) == 0 || (sacked & (TcpCbSacked.SackedAcked | TcpCbSacked.SackedRetrans)) != 0)
            {
                i++;
                continue;
            }
            var mib = _caState != TcpCaState.Loss ? TcpExtMib.TCPFastRetrans : TcpExtMib.TCPSlowStartRetrans;
            if (SmallQueueCheck(_rtx[i].DataLength, factor: 1)) break;
            if (RetransmitSkb(i, segs, out int count) != Errno.None) break;
            _host.TcpExtStats.Add(mib, count);
            if (_caState is TcpCaState.Cwr or TcpCaState.Recovery) _prrOut += count;
            if (i == 0 && _pendingTimer != TimerKind.ReoTimeout) rearmTimer = true;
            i += count;
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
            var seg = new TxSeg { Seq = _sndNxt, EndSeq = _sndNxt + len + (fin ? 1 : 0), Flags = (fin ? TcpFlags.Fin : TcpFlags.None) | TcpFlags.Psh, SkbStart = true };
            if (SeqNum.Before(_pushedSeq, _sndNxt + skbLen)) _pushedSeq = _sndNxt + skbLen;
            _rtx.Add(seg);
            var err = TransmitSkb(_rtx.Count - 1, 1, retransmission: false);
            EventNewDataSent(1);
            return err;
        }
        _host.TcpExtStats.Inc(mib);
        return Emit(_sndUna - 1, 0, TcpFlags.Ack, false, 0);
    }
}
