using NetLab.Stack.Tcp.CongestionControl;

namespace NetLab.Stack.Tcp;

/// <summary>struct rate_sample (tcp_rate.c): what one ACK tells about the delivery rate.</summary>
internal struct RateSample
{
    public long PriorDelivered;  // tp->delivered when the newest (s)acked segment was sent
    public long PriorMstampUs;   // delivered_mstamp then
    public bool HasPrior;        // prior_mstamp != 0 (NetLab's clock starts at 0, so a flag)
    public long IntervalUs;
    public long RttUs;           // ca_rtt_us of the ACK (-1: none)
    public long Delivered;
    public int Losses;
    public uint AckedSacked;
    public uint PriorInFlight;
    public bool IsAppLimited;
    public bool IsRetrans;
    public SeqNum LastEndSeq;
}

/// <summary>struct tcp_sacktag_state.</summary>
internal struct SacktagState
{
    public long FirstSacktUs, LastSacktUs; // send times of the earliest and latest never-retransmitted SACKed segments
    public bool HasSackt;
    public SeqNum Reord;                   // lowest never-retransmitted sequence newly (S)ACKed below the highest SACK
    public uint SackDelivered;
}

// Loss detection and recovery: the SACK scoreboard (tcp_sacktag_write_queue), RACK (tcp_recovery.c),
// NewReno for peers without SACK, tcp_fastretrans_alert's state machine, PRR (RFC 6937), RTO recovery
// with F-RTO (RFC 5682), undo, the tail loss probe and delivery-rate sampling (tcp_rate.c). §5 of
// docs/reference/linux-tcp.md; the code follows net/ipv4/tcp_input.c function by function.
public sealed partial class TcpSocket
{
    private const int RexmitNone = 0, RexmitLost = 1, RexmitNew = 2; // REXMIT_*
    private const int TcpRackRecoveryThresh = 16;                     // TCP_RACK_RECOVERY_THRESH

    // ------------------------------------------------------------------ SACK scoreboard

    /// <summary>tcp_highest_sack_seq(): the end of the highest SACKed segment, snd_una when nothing is SACKed.</summary>
    private SeqNum HighestSackSeq => _sackedOut == 0 ? _sndUna : _highestSackEnd;

    /// <summary>
    /// tcp_sacktag_write_queue(): validate the SACK blocks (a first block below the cumulative ACK or inside the
    /// second is a D-SACK), then tag every segment a block covers (tcp_sacktag_one). Entries are one MSS each, so a
    /// block splits an skb only at entry boundaries; NetLab does not merge SACKed skbs (tcp_shift_skb_data), which
    /// changes nothing on the wire.
    /// </summary>
    private AckFlag SackTag(ref TcpSegment seg, SeqNum priorSndUna, ref SacktagState state, ref RateSample rs)
    {
        var blocks = seg.Repr.Options.SackBlocks;
        var ack = seg.Repr.Ack;
        var flag = AckFlag.None;
        state.Reord = _sndNxt;
        if (_sackedOut == 0) _highestSackEnd = _sndUna; // tcp_highest_sack_reset()
        bool foundDup = CheckDsack(blocks, ack, priorSndUna, ref state, ref flag);
        if (SeqNum.Before(ack, priorSndUna - _maxWindow)) return flag; // too old to believe
        if (_packetsOut == 0) return flag;
        for (int i = 0; i < blocks.Count; i++)
        {
            var b = blocks[i];
            bool dup = i == 0 && foundDup;
            if (!SackBlockValid(dup, b.Start, b.End))
            {
                if (dup) _host.TcpExtStats.Inc(_undoMarkerSet ? TcpExtMib.TCPDSACKIgnoredOld : TcpExtMib.TCPDSACKIgnoredNoUndo);
                else if (ack == _sndUna || SeqNum.After(b.End, _sndUna)) _host.TcpExtStats.Inc(TcpExtMib.TCPSACKDiscard);
                continue;
            }
            if (!SeqNum.After(b.End, priorSndUna)) continue; // very old
            SacktagWalk(b.Start, b.End, dup, ref state, ref flag, ref rs);
        }
        if (_caState != TcpCaState.Loss || _undoMarkerSet) CheckSackReordering(state.Reord, ts: false);
        return flag;
    }

    /// <summary>tcp_sacktag_walk(): tag the segments a block covers entirely.</summary>
    private void SacktagWalk(SeqNum start, SeqNum end, bool dupSack, ref SacktagState state, ref AckFlag flag, ref RateSample rs)
    {
        for (int i = _rtx.FirstEndingAfter(start); i < _rtx.Count; i++)
        {
            ref var s = ref _rtx[i];
            if (!SeqNum.Before(s.Seq, end)) break;
            if (SeqNum.Before(s.Seq, start) || SeqNum.After(s.EndSeq, end)) continue; // not entirely inside
            if ((s.Sacked & TcpCbSacked.SackedAcked) == 0)
            {
                // tcp_match_skb_to_sack(): the block's edges split the skb (tcp_fragment).
                s.SkbStart = true;
                if (i + 1 < _rtx.Count) _rtx[i + 1].SkbStart = true;
            }
            s.Sacked = SacktagOne(ref state, ref flag, s.Sacked, s.Seq, s.EndSeq, dupSack, s.TxUs);
            RateSkbDelivered(ref s, ref rs);
            if ((s.Sacked & TcpCbSacked.SackedAcked) != 0 && !SeqNum.Before(s.Seq, _highestSackEnd))
                _highestSackEnd = s.EndSeq; // tcp_advance_highest_sack()
        }
    }

    /// <summary>tcp_sacktag_one(): mark a newly SACKed segment, adjusting sacked_out, lost_out, retrans_out and RACK.</summary>
    private TcpCbSacked SacktagOne(ref SacktagState state, ref AckFlag flag, TcpCbSacked sacked, SeqNum start, SeqNum end,
        bool dupSack, long xmitUs)
    {
        const TcpCbSacked retrans = TcpCbSacked.SackedRetrans | TcpCbSacked.EverRetrans; // TCPCB_RETRANS
        // A D-SACK of a retransmitted segment: one retransmission proven unnecessary.
        if (dupSack && (sacked & retrans) != 0)
        {
            if (_undoMarkerSet && _undoRetrans > 0 && SeqNum.After(end, _undoMarker)) _undoRetrans = Math.Max(0, _undoRetrans - 1);
            if ((sacked & TcpCbSacked.SackedAcked) != 0 && SeqNum.Before(start, state.Reord)) state.Reord = start;
        }
        if (!SeqNum.After(end, _sndUna)) return sacked; // about to be dropped by the cumulative ACK
        if ((sacked & TcpCbSacked.SackedAcked) == 0)
        {
            RackAdvance(sacked, end, xmitUs);
            if ((sacked & TcpCbSacked.SackedRetrans) != 0)
            {
                // A retransmission still in flight stays counted unless the segment was marked lost.
                if ((sacked & TcpCbSacked.Lost) != 0)
                {
                    sacked &= ~(TcpCbSacked.Lost | TcpCbSacked.SackedRetrans);
                    _lostOut--;
                    _retransOut--;
                }
            }
            else
            {
                if ((sacked & retrans) == 0)
                {
                    // Never retransmitted and in a hole: reordering.
                    if (SeqNum.Before(start, HighestSackSeq) && SeqNum.Before(start, state.Reord)) state.Reord = start;
                    if (!SeqNum.After(end, _highSeq)) flag |= AckFlag.OrigSackAcked;
                    if (!state.HasSackt) { state.FirstSacktUs = xmitUs; state.HasSackt = true; }
                    state.LastSacktUs = xmitUs;
                }
                if ((sacked & TcpCbSacked.Lost) != 0)
                {
                    sacked &= ~TcpCbSacked.Lost;
                    _lostOut--;
                }
            }
            sacked |= TcpCbSacked.SackedAcked;
            flag |= AckFlag.DataSacked;
            _sackedOut++;
            state.SackDelivered++;
        }
        // D-SACK: a retransmission in flight (S|R or plain R) is known delivered.
        if (dupSack && (sacked & TcpCbSacked.SackedRetrans) != 0)
        {
            sacked &= ~TcpCbSacked.SackedRetrans;
            _retransOut--;
        }
        return sacked;
    }

    /// <summary>tcp_is_sackblock_valid(): inside snd_una..snd_nxt, or a D-SACK down to undo_marker.</summary>
    private bool SackBlockValid(bool isDsack, SeqNum start, SeqNum end)
    {
        if (SeqNum.After(end, _sndNxt) || !SeqNum.Before(start, end)) return false;
        if (!SeqNum.Before(start, _sndNxt)) return false;
        if (SeqNum.After(start, _sndUna)) return true;
        if (!isDsack || !_undoMarkerSet) return false;
        if (SeqNum.After(end, _sndUna)) return false;
        if (!SeqNum.Before(start, _undoMarker)) return true;
        if (!SeqNum.After(end, _undoMarker)) return false;
        return !SeqNum.Before(start, end - _maxWindow);
    }

    /// <summary>
    /// tcp_check_dsack() + tcp_dsack_seen(): the first block is a D-SACK below the cumulative ACK (TCPDSACKRecv) or
    /// inside the second block (TCPDSACKOfoRecv). Dubious ones (wider than max_window, or more than was ever
    /// retransmitted) are ignored; a D-SACK of forgotten data decrements undo_retrans.
    /// </summary>
    private bool CheckDsack(in TcpSackBlocks blocks, SeqNum ack, SeqNum priorSndUna, ref SacktagState state, ref AckFlag flag)
    {
        var b0 = blocks[0];
        if (SeqNum.Before(b0.Start, ack)) _host.TcpExtStats.Inc(TcpExtMib.TCPDSACKRecv);
        else if (blocks.Count > 1)
        {
            var b1 = blocks[1];
            if (SeqNum.After(b0.End, b1.End) || SeqNum.Before(b0.Start, b1.Start)) return false;
            _host.TcpExtStats.Inc(TcpExtMib.TCPDSACKOfoRecv);
        }
        else return false;
        int dupSegs = DsackSeen(b0.Start, b0.End, ref state, ref flag);
        if (dupSegs == 0)
        {
            _host.TcpExtStats.Inc(TcpExtMib.TCPDSACKIgnoredDubious);
            return false;
        }
        _host.TcpExtStats.Add(TcpExtMib.TCPDSACKRecvSegs, dupSegs);
        if (_undoMarkerSet && _undoRetrans > 0 && !SeqNum.After(b0.End, priorSndUna) && SeqNum.After(b0.End, _undoMarker))
            _undoRetrans = Math.Max(0, _undoRetrans - dupSegs);
        return true;
    }

    /// <summary>tcp_dsack_seen(): count the duplicate segments; a spurious retransmission counts as delivered.</summary>
    private int DsackSeen(SeqNum start, SeqNum end, ref SacktagState state, ref AckFlag flag)
    {
        if (!SeqNum.Before(start, end)) return 0;
        int len = end - start;
        if (len > _maxWindow) return 0;
        int dupSegs = 1;
        int mss = Math.Max(_mssCache, 1);
        if (len > mss) dupSegs = (len + mss - 1) / mss;
        else if (_tlpActive && _tlpHighSeq == end) flag |= AckFlag.DsackTlp;
        _dsackDups += dupSegs;
        if (_dsackDups > _totalRetrans) return 0;
        if (_reordSeen && (flag & AckFlag.DsackTlp) == 0) _rackDsackSeen = true;
        flag |= AckFlag.DsackingAck;
        state.SackDelivered += (uint)dupSegs;
        return dupSegs;
    }

    /// <summary>tcp_check_sack_reordering(): original data delivered below the highest SACK means reordering.</summary>
    private void CheckSackReordering(SeqNum lowSeq, bool ts)
    {
        var fack = HighestSackSeq;
        if (!SeqNum.Before(lowSeq, fack)) return;
        int mss = _mssCache;
        int metric = fack - lowSeq;
        if (metric > _reordering * mss && mss > 0)
            _reordering = Math.Min((metric + mss - 1) / mss, _host.TcpSysctl.TcpMaxReordering);
        _reordSeen = true;
        _host.TcpExtStats.Inc(ts ? TcpExtMib.TCPTSReorder : TcpExtMib.TCPSACKReorder);
    }

    // ------------------------------------------------------------------ NewReno's emulated SACKs

    /// <summary>tcp_limit_reno_sacked(): sacked_out + one hole never exceeds packets_out.</summary>
    private bool LimitRenoSacked()
    {
        uint holes = Math.Min(Math.Max(_lostOut, 1u), _packetsOut);
        if (_sackedOut + holes > _packetsOut)
        {
            _sackedOut = _packetsOut - holes;
            return true;
        }
        return false;
    }

    /// <summary>tcp_check_reno_reordering(): more dup ACKs than segments out means reordering (TCPRenoReorder).</summary>
    private void CheckRenoReordering(int addend)
    {
        if (!LimitRenoSacked()) return;
        _reordering = (int)Math.Min(_packetsOut + (uint)addend, (uint)_host.TcpSysctl.TcpMaxReordering);
        _reordSeen = true;
        _host.TcpExtStats.Inc(TcpExtMib.TCPRenoReorder);
    }

    /// <summary>tcp_add_reno_sack(): each dup ACK stands for one segment delivered out of order.</summary>
    private void AddRenoSack(int numDupack)
    {
        if (numDupack == 0) return;
        uint prior = _sackedOut;
        _sackedOut += (uint)numDupack;
        CheckRenoReordering(0);
        if (_sackedOut > prior) _delivered += _sackedOut - prior;
    }

    /// <summary>tcp_remove_reno_sacks(): a cumulative ACK consumes the emulated SACKs (one ACK acked the hole).</summary>
    private void RemoveRenoSacks(int acked)
    {
        if (acked > 0)
        {
            _delivered += Math.Max(acked - (int)_sackedOut, 1);
            if (acked - 1 >= _sackedOut) _sackedOut = 0;
            else _sackedOut -= (uint)(acked - 1);
        }
        CheckRenoReordering(acked);
    }

    // ------------------------------------------------------------------ RACK (tcp_recovery.c)

    /// <summary>tcp_rack_advance(): remember the most recently sent segment that was delivered, and its RTT.</summary>
    private void RackAdvance(TcpCbSacked sacked, SeqNum endSeq, long xmitUs)
    {
        long rtt = NowUs - xmitUs;
        // An ambiguous sample: a retransmitted segment delivered sooner than min_rtt after its last transmission.
        if (rtt < MinRtt && (sacked & (TcpCbSacked.SackedRetrans | TcpCbSacked.EverRetrans)) != 0) return;
        _rackAdvanced = true;
        _rackRttUs = rtt;
        if (SentAfter(xmitUs, _rackMstampUs, endSeq, _rackEndSeq))
        {
            _rackMstampUs = xmitUs;
            _rackEndSeq = endSeq;
        }
    }

    /// <summary>tcp_skb_sent_after(): t1 later than t2, or the same instant and a later sequence.</summary>
    private static bool SentAfter(long t1, long t2, SeqNum seq1, SeqNum seq2) =>
        t1 > t2 || (t1 == t2 && SeqNum.After(seq1, seq2));

    /// <summary>tcp_rack_reo_wnd(): 0 without reordering seen in recovery or at dupthresh, else min_rtt/4 × steps (≤ srtt).</summary>
    private long RackReoWnd()
    {
        if (!_reordSeen)
        {
            if (_caState >= TcpCaState.Recovery) return 0;
            if (_sackedOut >= _reordering && (_host.TcpSysctl.TcpRecovery & 4) == 0) return 0; // TCP_RACK_NO_DUPTHRESH
        }
        return Math.Min((MinRtt >> 2) * _rackReoWndSteps, _srttUs >> 3);
    }

    /// <summary>
    /// tcp_rack_detect_loss(): a segment sent before the most recently delivered one is lost once it is overdue by
    /// rack.rtt + reo_wnd; returns the longest remaining wait (0: none).
    /// </summary>
    private long RackDetectLoss()
    {
        long reoWnd = RackReoWnd();
        long now = NowUs;
        long reoTimeout = 0;
        for (int i = 0; i < _rtx.Count; i++)
        {
            ref var s = ref _rtx[i];
            if ((s.Sacked & TcpCbSacked.SackedAcked) != 0) continue; // not in the send-time list any more
            if ((s.Sacked & TcpCbSacked.Lost) != 0 && (s.Sacked & TcpCbSacked.SackedRetrans) == 0) continue;
            if (!SentAfter(_rackMstampUs, s.TxUs, _rackEndSeq, s.EndSeq)) continue;
            long remaining = _rackRttUs + reoWnd - (now - s.TxUs);
            if (remaining <= 0) MarkSkbLost(ref s);
            else reoTimeout = Math.Max(reoTimeout, remaining);
        }
        return reoTimeout;
    }

    /// <summary>tcp_rack_mark_lost(): run RACK when a delivery advanced it; arm the REO timer for what may still arrive.</summary>
    private bool RackMarkLost()
    {
        if (!_rackAdvanced) return false;
        _rackAdvanced = false;
        long timeout = RackDetectLoss();
        if (timeout > 0)
        {
            long when = UsecsToJiffiesUs(timeout + TcpTimeoutMinUs);
            ResetRetransmitTimer(TimerKind.ReoTimeout, Math.Min(when, _rto)); // bounded by icsk_rto
        }
        return timeout > 0;
    }

    /// <summary>usecs_to_jiffies() at HZ = 1000, back in µs: rounds up to the millisecond.</summary>
    private static long UsecsToJiffiesUs(long us) => (us + 999) / 1000 * 1000;

    /// <summary>tcp_rack_reo_timeout(): the reordering window passed; losses start recovery and are retransmitted.</summary>
    private void RackReoTimeout()
    {
        uint priorInflight = PacketsInFlight;
        long lost = _lost;
        RackDetectLoss();
        if (priorInflight != PacketsInFlight)
        {
            if (_caState != TcpCaState.Recovery)
            {
                EnterRecovery(ece: false);
                if (!_ca.HasCongControl) CwndReduction(1, (int)(_lost - lost), AckFlag.None);
            }
            XmitRetransmitQueue();
        }
        if (_pendingTimer != TimerKind.Retrans) RearmRto();
    }

    /// <summary>tcp_rack_update_reo_wnd(): widen the reordering window after D-SACKs that suggest it was too small.</summary>
    private void RackUpdateReoWnd(in RateSample rs)
    {
        if ((_host.TcpSysctl.TcpRecovery & 2) != 0 || rs.PriorDelivered == 0) return; // TCP_RACK_STATIC_REO_WND
        if (rs.PriorDelivered < _rackLastDelivered) _rackDsackSeen = false;
        if (_rackDsackSeen)
        {
            _rackReoWndSteps = Math.Min(255, _rackReoWndSteps + 1);
            _rackDsackSeen = false;
            _rackLastDelivered = _delivered;
            _rackReoWndPersist = TcpRackRecoveryThresh;
        }
        else if (_rackReoWndPersist == 0) _rackReoWndSteps = 1;
    }

    /// <summary>tcp_newreno_mark_lost(): without SACK, the head is lost after dupthresh dup ACKs or on a partial ACK.</summary>
    private void NewRenoMarkLost(bool sndUnaAdvanced)
    {
        if ((_caState < TcpCaState.Recovery && _sackedOut >= _reordering) || (_caState == TcpCaState.Recovery && sndUnaAdvanced))
        {
            ref var head = ref _rtx.Head;
            if ((head.Sacked & TcpCbSacked.Lost) != 0) return;
            MarkSkbLost(ref head);
        }
    }

    /// <summary>tcp_mark_skb_lost(): a lost retransmission may be retransmitted again (TCPLostRetransmit).</summary>
    private void MarkSkbLost(ref TxSeg s)
    {
        if ((s.Sacked & TcpCbSacked.SackedAcked) != 0) return;
        if ((s.Sacked & TcpCbSacked.Lost) != 0)
        {
            if ((s.Sacked & TcpCbSacked.SackedRetrans) != 0)
            {
                s.Sacked &= ~TcpCbSacked.SackedRetrans;
                _retransOut--;
                _host.TcpExtStats.Inc(TcpExtMib.TCPLostRetransmit);
                _lost++;
            }
        }
        else
        {
            _lostOut++;
            s.Sacked |= TcpCbSacked.Lost;
            _lost++;
        }
    }

    /// <summary>tcp_identify_packet_loss(): NewReno or RACK; FLAG_LOST_RETRANS when a retransmission was lost again.</summary>
    private void IdentifyPacketLoss(ref AckFlag flag)
    {
        if (_rtx.Count == 0) return;
        if (!_sackOk)
        {
            NewRenoMarkLost((flag & AckFlag.SndUnaAdvanced) != 0);
            return;
        }
        uint priorRetrans = _retransOut;
        if (RackMarkLost()) flag &= ~AckFlag.SetXmitTimer;
        if (priorRetrans > _retransOut) flag |= AckFlag.LostRetrans;
    }

    // ------------------------------------------------------------------ the recovery state machine

    /// <summary>
    /// tcp_fastretrans_alert(): called for "dubious" ACKs (dup ACKs, SACKs, D-SACKs, or any ACK outside Open). Leaves
    /// CWR/Recovery once high_seq is acknowledged, runs Recovery and Loss processing, and enters Recovery when loss
    /// detection marked something lost. Sets <paramref name="rexmit"/> when lost segments should be retransmitted.
    /// </summary>
    private void FastRetransAlert(SeqNum priorSndUna, int numDupack, ref AckFlag flag, ref int rexmit)
    {
        if (_packetsOut == 0 && _sackedOut > 0) _sackedOut = 0;
        // B. SACK reneging: the ACK points into SACKed data; give the receiver a moment, then time out.
        if ((flag & AckFlag.SackReneging) != 0 && (flag & AckFlag.SndUnaAdvanced) != 0)
        {
            long delay = Math.Max(UsecsToJiffiesUs(_srttUs >> 4), 10_000);
            ResetRetransmitTimer(TimerKind.Retrans, delay);
            flag &= ~AckFlag.SetXmitTimer;
            return;
        }
        // D. Exit conditions once high_seq is acknowledged.
        if (_caState == TcpCaState.Open) _retransStampUs = -1;
        else if (!SeqNum.Before(_sndUna, _highSeq))
        {
            switch (_caState)
            {
                case TcpCaState.Cwr:
                    // Held until something above high_seq is ACKed, so the CWR bit reached the receiver.
                    if (_sndUna != _highSeq)
                    {
                        EndCwndReduction();
                        SetCaState(TcpCaState.Open);
                    }
                    break;
                case TcpCaState.Recovery:
                    if (!_sackOk) _sackedOut = 0; // tcp_reset_reno_sack()
                    if (TryUndoRecovery()) return;
                    EndCwndReduction();
                    break;
            }
        }
        // E. Process the state.
        switch (_caState)
        {
            case TcpCaState.Recovery:
                if ((flag & AckFlag.SndUnaAdvanced) == 0)
                {
                    if (!_sackOk) AddRenoSack(numDupack);
                }
                else if (TryUndoPartial(priorSndUna)) return;
                if (TryUndoDsack()) TryToOpen(flag);
                IdentifyPacketLoss(ref flag);
                if (_caState != TcpCaState.Recovery)
                {
                    if (!TimeToRecover) return;
                    EnterRecovery(ece: false); // undone, but loss is evident: a new recovery
                }
                break;
            case TcpCaState.Loss:
                ProcessLoss(flag, numDupack, ref rexmit);
                IdentifyPacketLoss(ref flag);
                if (!(_caState == TcpCaState.Open || (flag & AckFlag.LostRetrans) != 0)) return;
                goto default; // undone, or retransmissions lost again
            default:
                if (!_sackOk)
                {
                    if ((flag & AckFlag.SndUnaAdvanced) != 0) _sackedOut = 0;
                    AddRenoSack(numDupack);
                }
                if (_caState <= TcpCaState.Disorder) TryUndoDsack();
                IdentifyPacketLoss(ref flag);
                if (!TimeToRecover)
                {
                    TryToOpen(flag);
                    return;
                }
                EnterRecovery(ece: false);
                break;
        }
        rexmit = RexmitLost;
    }

    /// <summary>tcp_time_to_recover(): loss detection marked at least one segment lost.</summary>
    private bool TimeToRecover => _lostOut != 0;

    private void SetCaState(TcpCaState next)
    {
        if (_caState == next) return;
        SyncCc();
        _ca.SetState(Cc, next);
        _caState = next;
        Cc.CaState = next;
    }

    /// <summary>
    /// tcp_enter_cwr(): a congestion signal that is not a loss (here a local qdisc drop): the module's ssthresh
    /// and a PRR reduction, without undo.
    /// </summary>
    private void EnterCwr()
    {
        _priorSsthresh = 0;
        if (_caState >= TcpCaState.Cwr) return;
        _undoMarkerSet = false;
        InitCwndReduction();
        SetCaState(TcpCaState.Cwr);
    }

    /// <summary>tcp_any_retrans_done(): a retransmission in flight, or the head was ever retransmitted.</summary>
    private bool AnyRetransDone => _retransOut > 0 || (_rtx.Count > 0 && (_rtx.Head.Sacked & TcpCbSacked.EverRetrans) != 0);

    /// <summary>tcp_try_keep_open(): Disorder while anything is SACKed, lost or retransmitted, else Open.</summary>
    private void TryKeepOpen()
    {
        var state = _sackedOut + _lostOut > 0 || AnyRetransDone ? TcpCaState.Disorder : TcpCaState.Open;
        if (_caState != state)
        {
            SetCaState(state);
            _highSeq = _sndNxt;
        }
    }

    /// <summary>tcp_try_to_open(): no loss yet; forget retrans_stamp when nothing was retransmitted.</summary>
    private void TryToOpen(AckFlag flag)
    {
        if (!AnyRetransDone) _retransStampUs = -1;
        if (_caState != TcpCaState.Cwr) TryKeepOpen();
    }

    /// <summary>tcp_enter_recovery(): count it, remember undo state, start the cwnd reduction (PRR).</summary>
    private void EnterRecovery(bool ece)
    {
        if (!AnyRetransDone) _retransStampUs = -1; // tcp_retrans_stamp_cleanup(): the clock starts with our fast retransmit
        _host.TcpExtStats.Inc(_sackOk ? TcpExtMib.TCPSackRecovery : TcpExtMib.TCPRenoRecovery);
        _priorSsthresh = 0;
        InitUndo();
        if (_caState is not (TcpCaState.Cwr or TcpCaState.Recovery))
        {
            if (!ece) _priorSsthresh = CurrentSsthresh();
            InitCwndReduction();
        }
        SetCaState(TcpCaState.Recovery);
    }

    /// <summary>tcp_init_undo(): undo_marker = snd_una; undo_retrans counts retransmissions in flight (never 0 here).</summary>
    private void InitUndo()
    {
        _undoMarker = _sndUna;
        _undoMarkerSet = true;
        _undoRetrans = (int)_retransOut;
        if (_tlpActive && _tlpRetrans) _undoRetrans++;
        if (_undoRetrans == 0) _undoRetrans = -1;
    }

    /// <summary>tcp_current_ssthresh(): ssthresh during a reduction, else at least 3/4 of cwnd.</summary>
    private uint CurrentSsthresh()
    {
        if (_caState is TcpCaState.Cwr or TcpCaState.Recovery) return Cc.SndSsthresh;
        return Math.Max(Cc.SndSsthresh, (Cc.SndCwnd >> 1) + (Cc.SndCwnd >> 2));
    }

    /// <summary>tcp_init_cwnd_reduction(): high_seq, prior_cwnd, the module's ssthresh, PRR counters.</summary>
    private void InitCwndReduction()
    {
        _highSeq = _sndNxt;
        _tlpActive = false;
        Cc.SndCwndCnt = 0;
        Cc.PriorCwnd = Cc.SndCwnd;
        _prrDelivered = 0;
        _prrOut = 0;
        SyncCc();
        Cc.SndSsthresh = _ca.SsThresh(Cc);
    }

    /// <summary>
    /// tcp_cwnd_reduction(): Proportional Rate Reduction (RFC 6937). Above ssthresh, send ssthresh/prior_cwnd of
    /// what was delivered; below it, what was delivered (plus one on an advancing ACK without new losses — the
    /// slow-start reduction bound); the first call always allows the fast retransmit.
    /// </summary>
    private void CwndReduction(int newlyAckedSacked, int newlyLost, AckFlag flag)
    {
        if (newlyAckedSacked <= 0 || Cc.PriorCwnd == 0) return;
        int delta = (int)Cc.SndSsthresh - (int)PacketsInFlight;
        _prrDelivered += newlyAckedSacked;
        long sndcnt;
        if (delta < 0)
        {
            long dividend = (long)Cc.SndSsthresh * _prrDelivered + Cc.PriorCwnd - 1;
            sndcnt = dividend / Cc.PriorCwnd - _prrOut;
        }
        else
        {
            sndcnt = Math.Max(_prrDelivered - _prrOut, newlyAckedSacked);
            if ((flag & AckFlag.SndUnaAdvanced) != 0 && newlyLost == 0) sndcnt++;
            sndcnt = Math.Min(delta, sndcnt);
        }
        sndcnt = Math.Max(sndcnt, _prrOut > 0 ? 0 : 1);
        Cc.SndCwnd = (uint)Math.Max(0, PacketsInFlight + sndcnt);
    }

    /// <summary>tcp_end_cwnd_reduction(): cwnd = ssthresh after CWR, or after a recovery that was not undone.</summary>
    private void EndCwndReduction()
    {
        if (_ca.HasCongControl) return;
        if (Cc.SndSsthresh < TcpCongestionState.InfiniteSsthresh && (_caState == TcpCaState.Cwr || _undoMarkerSet))
        {
            Cc.SndCwnd = Cc.SndSsthresh;
            _sndCwndStampUs = NowUs;
        }
        SyncCc();
        _ca.CwndEvent(Cc, TcpCaEvent.CompleteCwr);
    }

    /// <summary>tcp_tsopt_ecr_before(): the ACK echoes a timestamp older than <paramref name="whenUs"/>.</summary>
    private bool TsoptEcrBefore(long whenUs) =>
        _rxSawTstamp && _rxTsecr != 0 && SeqNum.Before(new SeqNum(_rxTsecr), new SeqNum((uint)(whenUs / 1000)));

    /// <summary>tcp_packet_delayed(): the echoed timestamp predates the first retransmission (or nothing was retransmitted).</summary>
    private bool PacketDelayed()
    {
        if (_retransStampUs >= 0) return TsoptEcrBefore(_retransStampUs);
        if (!_sackOk && !SeqNum.Before(_sndUna, _highSeq)) return false;
        if (State == TcpState.SynSent) return false;
        return true;
    }

    /// <summary>tcp_may_undo(): every retransmission was D-SACKed, or the original was echoed.</summary>
    private bool MayUndo() => _undoMarkerSet && (_undoRetrans == 0 || PacketDelayed());

    /// <summary>tcp_undo_cwnd_reduction(): restore cwnd and ssthresh, optionally clear the lost marks.</summary>
    private void UndoCwndReduction(bool unmarkLoss)
    {
        if (unmarkLoss)
        {
            for (int i = 0; i < _rtx.Count; i++) _rtx[i].Sacked &= ~TcpCbSacked.Lost;
            _lostOut = 0;
        }
        if (_priorSsthresh != 0)
        {
            SyncCc();
            Cc.SndCwnd = _ca.UndoCwnd(Cc);
            if (_priorSsthresh > Cc.SndSsthresh) Cc.SndSsthresh = _priorSsthresh;
        }
        _sndCwndStampUs = NowUs;
        _undoMarkerSet = false;
        _rackAdvanced = true; // force RACK to look again
    }

    /// <summary>tcp_is_non_sack_preventing_reopen(): NewReno stays in recovery until something above high_seq is ACKed.</summary>
    private bool NonSackPreventingReopen()
    {
        if (_sndUna == _highSeq && !_sackOk)
        {
            if (!AnyRetransDone) _retransStampUs = -1;
            return true;
        }
        return false;
    }

    /// <summary>tcp_try_undo_recovery(): at the end of Recovery/Loss, undo if nothing needed retransmitting.</summary>
    private bool TryUndoRecovery()
    {
        if (MayUndo())
        {
            UndoCwndReduction(false);
            _host.TcpExtStats.Inc(_caState == TcpCaState.Loss ? TcpExtMib.TCPLossUndo : TcpExtMib.TCPFullUndo);
        }
        else if (_rackReoWndPersist > 0) _rackReoWndPersist--;
        if (NonSackPreventingReopen()) return true;
        SetCaState(TcpCaState.Open);
        _isSackReneg = false;
        return false;
    }

    /// <summary>tcp_try_undo_dsack(): all retransmissions D-SACKed: the reduction was spurious (TCPDSACKUndo).</summary>
    private bool TryUndoDsack()
    {
        if (!_undoMarkerSet || _undoRetrans != 0) return false;
        _rackReoWndPersist = Math.Min(TcpRackRecoveryThresh, _rackReoWndPersist + 1);
        UndoCwndReduction(false);
        _host.TcpExtStats.Inc(TcpExtMib.TCPDSACKUndo);
        return true;
    }

    /// <summary>tcp_try_undo_loss(): a partial ACK or F-RTO proved the timeout spurious (TCPLossUndo, TCPSpuriousRTOs).</summary>
    private bool TryUndoLoss(bool frtoUndo)
    {
        if (!frtoUndo && !MayUndo()) return false;
        UndoCwndReduction(true);
        _host.TcpExtStats.Inc(TcpExtMib.TCPLossUndo);
        if (frtoUndo) _host.TcpExtStats.Inc(TcpExtMib.TCPSpuriousRTOs);
        _retransmits = 0;
        if (NonSackPreventingReopen()) return true;
        if (frtoUndo || _sackOk)
        {
            SetCaState(TcpCaState.Open);
            _isSackReneg = false;
        }
        return true;
    }

    /// <summary>tcp_try_undo_partial(): a partial ACK of a delayed original (TS) in Recovery: reordering, maybe undo.</summary>
    private bool TryUndoPartial(SeqNum priorSndUna)
    {
        if (!_undoMarkerSet || !PacketDelayed()) return false;
        CheckSackReordering(priorSndUna, ts: true);
        if (_retransOut > 0) return true;
        if (!AnyRetransDone) _retransStampUs = -1;
        UndoCwndReduction(true);
        _host.TcpExtStats.Inc(TcpExtMib.TCPPartialUndo);
        TryKeepOpen();
        return false;
    }

    /// <summary>
    /// tcp_process_loss() with F-RTO (RFC 5682, SACK-enhanced): an ACK of never-retransmitted data after an RTO proves
    /// the timeout spurious; after a first advancing ACK, new data is sent (REXMIT_NEW) instead of go-back-N.
    /// </summary>
    private void ProcessLoss(AckFlag flag, int numDupack, ref int rexmit)
    {
        bool recovered = !SeqNum.Before(_sndUna, _highSeq);
        if ((flag & AckFlag.SndUnaAdvanced) != 0 && TryUndoLoss(false)) return;
        if (_frto)
        {
            // Step 3.b: a timeout is spurious if not all data are lost, i.e. never-retransmitted data are (s)acked.
            if ((flag & AckFlag.OrigSackAcked) != 0 && TryUndoLoss(true)) return;
            if (SeqNum.After(_sndNxt, _highSeq))
            {
                if ((flag & AckFlag.DataSacked) != 0 || numDupack != 0) _frto = false; // step 3.a: the loss was real
            }
            else if ((flag & AckFlag.SndUnaAdvanced) != 0 && !recovered)
            {
                _highSeq = _sndNxt;
                // Step 2.b: try new data (after cwnd is updated in tcp_ack), else conventional recovery.
                var dataEnd = _finQueued ? _writeSeq - 1 : _writeSeq;
                if (_sndNxt != _writeSeq && SeqNum.After(_sndUna + _sndWnd, _sndNxt))
                {
                    rexmit = RexmitNew;
                    return;
                }
                _frto = false;
            }
        }
        if (recovered)
        {
            TryUndoRecovery(); // step 2.a and the first part of 3.a
            return;
        }
        if (!_sackOk)
        {
            // A NewReno dup ACK means new data from step 2.b was delivered.
            if (SeqNum.After(_sndNxt, _highSeq) && numDupack != 0) AddRenoSack(numDupack);
            else if ((flag & AckFlag.SndUnaAdvanced) != 0) _sackedOut = 0;
        }
        rexmit = RexmitLost;
    }

    /// <summary>tcp_timeout_mark_lost(): after an RTO everything not SACKed is lost, except recently sent segments.</summary>
    private void TimeoutMarkLost()
    {
        bool isReneg = _rtx.Count > 0 && (_rtx.Head.Sacked & TcpCbSacked.SackedAcked) != 0;
        if (isReneg)
        {
            _host.TcpExtStats.Inc(TcpExtMib.TCPSACKReneging);
            _sackedOut = 0;
            _isSackReneg = true;
        }
        else if (!_sackOk) _sackedOut = 0;
        long now = NowUs;
        for (int i = 0; i < _rtx.Count; i++)
        {
            ref var s = ref _rtx[i];
            if (isReneg) s.Sacked &= ~TcpCbSacked.SackedAcked;
            else if (i > 0 && _rackRttUs - (now - s.TxUs) > 0) continue; // tcp_rack_skb_timeout(skb, 0) > 0
            MarkSkbLost(ref s);
        }
    }

    /// <summary>
    /// tcp_enter_loss(): after an RTO, mark losses; reduce ssthresh once per episode; cwnd = in flight + 1; enter
    /// Loss with high_seq = snd_nxt and F-RTO armed for a first timeout.
    /// </summary>
    private void EnterLoss()
    {
        bool newRecovery = _caState < TcpCaState.Recovery;
        TimeoutMarkLost();
        if (_caState <= TcpCaState.Disorder || !SeqNum.After(_highSeq, _sndUna) || (_caState == TcpCaState.Loss && _retransmits == 0))
        {
            _priorSsthresh = CurrentSsthresh();
            Cc.PriorCwnd = Cc.SndCwnd;
            SyncCc();
            Cc.SndSsthresh = _ca.SsThresh(Cc);
            _ca.CwndEvent(Cc, TcpCaEvent.Loss);
            InitUndo();
        }
        Cc.SndCwnd = PacketsInFlight + 1;
        Cc.SndCwndCnt = 0;
        _sndCwndStampUs = NowUs;
        int sysReordering = _host.TcpSysctl.TcpReordering;
        if (_caState <= TcpCaState.Disorder && _sackedOut >= sysReordering) _reordering = Math.Min(_reordering, sysReordering);
        SetCaState(TcpCaState.Loss);
        _highSeq = _sndNxt;
        _tlpActive = false;
        _frto = _host.TcpSysctl.TcpFrto != 0 && (newRecovery || _retransmits > 0);
    }

    /// <summary>
    /// tcp_slow_start_after_idle_check() + tcp_cwnd_restart() (RFC 5681 §4.1): after more than an RTO without
    /// sending, cwnd halves per idle RTO down to the initial window.
    /// </summary>
    private void SlowStartAfterIdleCheck()
    {
        if (_host.TcpSysctl.TcpSlowStartAfterIdle == 0 || _packetsOut > 0 || _ca.HasCongControl) return;
        long delta = Jiffies(NowUs) - Jiffies(_lsndtimeUs);
        long rto = Jiffies(_rto);
        if (delta <= rto) return;
        SyncCc();
        _ca.CwndEvent(Cc, TcpCaEvent.CwndRestart);
        Cc.SndSsthresh = CurrentSsthresh();
        uint restart = Math.Min(TcpCongestionState.InitCwnd, Cc.SndCwnd);
        uint cwnd = Cc.SndCwnd;
        while ((delta -= rto) > 0 && cwnd > restart) cwnd >>= 1;
        Cc.SndCwnd = Math.Max(cwnd, restart);
        _sndCwndStampUs = NowUs;
        _sndCwndUsed = 0;
    }

    // ------------------------------------------------------------------ tail loss probe

    /// <summary>
    /// tcp_schedule_loss_probe(): with SACK, in Open or CWR, arm a probe at 2·SRTT (+ rto_min when one segment is
    /// out, + 2 ms otherwise), no later than the RTO would fire (a full RTO from now when an ACK re-arms, else what
    /// is left of it). Returns true when armed.
    /// </summary>
    private bool ScheduleLossProbe(bool advancingRto)
    {
        int early = _host.TcpSysctl.TcpEarlyRetrans;
        if (early is not (3 or 4) || _packetsOut == 0 || !_sackOk || _caState is not (TcpCaState.Open or TcpCaState.Cwr)) return false;
        long timeout;
        if (_srttUs != 0)
        {
            long us = (_srttUs >> 2) + (_packetsOut == 1 ? _host.TcpSysctl.TcpRtoMinUs : TcpTimeoutMinUs);
            timeout = UsecsToJiffiesUs(us);
        }
        else timeout = TcpTimeoutInitUs;
        long rtoDelta = advancingRto ? _rto : RtoDeltaUs();
        if (rtoDelta > 0) timeout = Math.Min(timeout, UsecsToJiffiesUs(rtoDelta));
        ResetRetransmitTimer(TimerKind.LossProbe, timeout);
        return true;
    }

    /// <summary>tcp_send_loss_probe(): one new segment if the window allows, else the last segment again.</summary>
    private void SendLossProbe()
    {
        if (_tlpActive)
        {
            RearmRto(); // at most one probe outstanding
            return;
        }
        _tlpRetrans = false;
        int mss = CurrentMss();
        bool sent = false;
        if (_sndNxt != _writeSeq)
        {
            var dataEnd = _finQueued ? _writeSeq - 1 : _writeSeq;
            int len = Math.Min(mss, dataEnd - _sndNxt);
            bool fin = _finQueued && _sndNxt + len == dataEnd;
            if (!SeqNum.After(_sndNxt + len + (fin ? 1 : 0), _sndUna + _sndWnd)) // tcp_snd_wnd_test()
            {
                uint before = _packetsOut;
                WriteXmit(NagleOff, pushOne: 2);
                if (_packetsOut == before)
                {
                    RearmRto();
                    return;
                }
                sent = true;
            }
        }
        if (!sent)
        {
            if (_rtx.Count == 0)
            {
                _pendingTimer = TimerKind.None;
                return;
            }
            // __tcp_retransmit_skb() of the last segment (tcp_fragment() cuts it off its skb): not a
            // tcp_retransmit_skb(), so not in retrans_out.
            _rtx.Tail.SkbStart = true;
            if (RetransmitSkbRaw(_rtx.Count - 1, 1, out _) != Errno.None)
            {
                RearmRto();
                return;
            }
            _tlpRetrans = true;
        }
        _tlpHighSeq = _sndNxt;
        _tlpActive = true;
        _host.TcpExtStats.Inc(TcpExtMib.TCPLossProbes);
        _pendingTimer = TimerKind.None; // so that tcp_rearm_rto() restarts the timer from now
        RearmRto();
    }

    /// <summary>tcp_process_tlp_ack(): a probe that repaired a loss still costs a cwnd reduction (TCPLossProbeRecovery).</summary>
    private void ProcessTlpAck(SeqNum ack, AckFlag flag)
    {
        if (SeqNum.Before(ack, _tlpHighSeq)) return;
        if (!_tlpRetrans) _tlpActive = false; // a probe of new data was acknowledged
        else if ((flag & AckFlag.DsackTlp) != 0) _tlpActive = false; // both the original and the probe arrived
        else if (SeqNum.After(ack, _tlpHighSeq))
        {
            InitCwndReduction();
            SetCaState(TcpCaState.Cwr);
            EndCwndReduction();
            TryKeepOpen();
            _host.TcpExtStats.Inc(TcpExtMib.TCPLossProbeRecovery);
        }
        else if ((flag & (AckFlag.SndUnaAdvanced | AckFlag.NotDup | AckFlag.DataSacked)) == 0) _tlpActive = false;
    }

    // ------------------------------------------------------------------ delivery rate (tcp_rate.c)

    /// <summary>tcp_rate_skb_sent(): remember the delivery state when a segment is (re)sent.</summary>
    private void RateSkbSent(ref TxSeg s)
    {
        if (_packetsOut == 0)
        {
            _firstTxUs = s.TxUs;
            _deliveredUs = s.TxUs;
        }
        s.FirstTxUsAtSend = _firstTxUs;
        s.DeliveredUsAtSend = _deliveredUs;
        s.DeliveredAtSend = _delivered;
        s.AppLimitedAtSend = _appLimitedUntil != 0;
        s.RateValid = true;
    }

    /// <summary>tcp_rate_skb_delivered(): the newest delivered segment's send-time state starts the sample.</summary>
    private void RateSkbDelivered(ref TxSeg s, ref RateSample rs)
    {
        if (!s.RateValid) return;
        if (!rs.HasPrior || SentAfter(s.TxUs, _firstTxUs, s.EndSeq, rs.LastEndSeq))
        {
            rs.PriorDelivered = s.DeliveredAtSend;
            rs.PriorMstampUs = s.DeliveredUsAtSend;
            rs.HasPrior = true;
            rs.IsAppLimited = s.AppLimitedAtSend;
            rs.IsRetrans = (s.Sacked & (TcpCbSacked.SackedRetrans | TcpCbSacked.EverRetrans)) != 0;
            rs.LastEndSeq = s.EndSeq;
            _firstTxUs = s.TxUs;
            rs.IntervalUs = _firstTxUs - s.FirstTxUsAtSend; // the send phase
        }
        if ((s.Sacked & TcpCbSacked.SackedAcked) != 0) s.RateValid = false;
    }

    /// <summary>tcp_rate_gen(): the sample of this ACK; keeps the last non-app-limited (or the highest) rate.</summary>
    private void RateGen(long delivered, long lost, bool isSackReneg, ref RateSample rs)
    {
        if (_appLimitedUntil != 0 && _delivered > _appLimitedUntil) _appLimitedUntil = 0;
        if (delivered > 0) _deliveredUs = NowUs;
        rs.AckedSacked = (uint)delivered;
        rs.Losses = (int)lost;
        if (!rs.HasPrior || isSackReneg)
        {
            rs.Delivered = -1;
            rs.IntervalUs = -1;
            return;
        }
        rs.Delivered = _delivered - rs.PriorDelivered;
        long ackUs = NowUs - rs.PriorMstampUs;
        rs.IntervalUs = Math.Max(rs.IntervalUs, ackUs);
        if (rs.IntervalUs < MinRtt)
        {
            rs.IntervalUs = -1;
            return;
        }
        if (!rs.IsAppLimited || rs.Delivered * _rateIntervalUs >= _rateDelivered * rs.IntervalUs)
        {
            _rateDelivered = rs.Delivered;
            _rateIntervalUs = rs.IntervalUs;
            _rateAppLimited = rs.IsAppLimited;
            // tcp_compute_delivery_rate(): tcpi_delivery_rate, here in bits per second.
            _deliveryRateBps = _rateIntervalUs > 0 ? _rateDelivered * _mssCache * 8_000_000L / _rateIntervalUs : 0;
            _deliveryRateAppLimited = _rateAppLimited;
        }
    }

    // ------------------------------------------------------------------ min RTT (lib/win_minmax.c)

    /// <summary>tcp_min_rtt(): the windowed minimum (~0 before the first sample).</summary>
    private long MinRtt => _rttMinInit ? _rttMin[0].V : (_minRttUs == long.MaxValue ? uint.MaxValue : _minRttUs);

    /// <summary>tcp_update_rtt_min(): minmax_running_min over tcp_min_rtt_wlen (300 s), skipping delayed-ACK samples.</summary>
    private void UpdateRttMin(long rttUs, AckFlag flag)
    {
        if ((flag & AckFlag.AckMaybeDelayed) != 0 && rttUs > MinRtt) return;
        long win = 300_000; // tcp_min_rtt_wlen · HZ, in jiffies
        long t = Jiffies(NowUs);
        long meas = rttUs != 0 ? rttUs : 1000;
        if (!_rttMinInit && _minRttUs != long.MaxValue) MinmaxReset(t, _minRttUs); // a SYN-ACK sample set directly
        if (!_rttMinInit || meas <= _rttMin[0].V || t - _rttMin[0].T > win) MinmaxReset(t, meas);
        else
        {
            if (meas <= _rttMin[1].V) _rttMin[2] = _rttMin[1] = (t, meas);
            else if (meas <= _rttMin[2].V) _rttMin[2] = (t, meas);
            long dt = t - _rttMin[0].T;
            if (dt > win)
            {
                _rttMin[0] = _rttMin[1];
                _rttMin[1] = _rttMin[2];
                _rttMin[2] = (t, meas);
                if (t - _rttMin[0].T > win)
                {
                    _rttMin[0] = _rttMin[1];
                    _rttMin[1] = _rttMin[2];
                    _rttMin[2] = (t, meas);
                }
            }
            else if (_rttMin[1].T == _rttMin[0].T && dt > win / 4) _rttMin[2] = _rttMin[1] = (t, meas);
            else if (_rttMin[2].T == _rttMin[1].T && dt > win / 2) _rttMin[2] = (t, meas);
        }
        _minRttUs = _rttMin[0].V;
    }

    private void MinmaxReset(long t, long meas)
    {
        _rttMin[0] = _rttMin[1] = _rttMin[2] = (t, meas);
        _rttMinInit = true;
    }
}
