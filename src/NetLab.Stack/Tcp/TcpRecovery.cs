using NetLab.Stack.Tcp.CongestionControl;

namespace NetLab.Stack.Tcp;

// Loss detection and recovery: the SACK scoreboard (tcp_sacktag_write_queue), RACK (tcp_recovery.c),
// NewReno for peers without SACK, tcp_fastretrans_alert's state machine, PRR (RFC 6937), RTO recovery
// with F-RTO (RFC 5682), undo, and the tail loss probe. §5 of docs/reference/linux-tcp.md.
public sealed partial class TcpSocket
{
    // ------------------------------------------------------------------ SACK scoreboard

    /// <summary>tcp_sacktag_write_queue(): mark SACKed segments, detect D-SACKs and reordering.</summary>
    private void SackTag(ref TcpSegment seg, SeqNum ack, ref AckFlag flag)
    {
        var blocks = seg.Repr.Options.SackBlocks;
        int first = 0;
        // tcp_check_dsack(): a first block below the cumulative ACK, or inside the second, is a D-SACK.
        var b0 = blocks[0];
        bool dsack = SeqNum.Before(b0.Start, ack)
            || (blocks.Count > 1 && !SeqNum.After(blocks[1].End, b0.End) && !SeqNum.Before(b0.Start, blocks[1].Start) && SeqNum.After(blocks[1].End, b0.Start) && b0 != blocks[1]);
        if (dsack)
        {
            _host.TcpExtStats.Inc(SeqNum.Before(b0.Start, ack) ? TcpExtMib.TCPDSACKRecv : TcpExtMib.TCPDSACKOfoRecv);
            _host.TcpExtStats.Inc(TcpExtMib.TCPDSACKRecvSegs);
            _dsackDups++;
            flag |= AckFlag.DsackSeen;
            // A D-SACK of a retransmission above undo_marker proves that retransmission unnecessary.
            if (_undoMarkerSet && _undoRetrans > 0 && !SeqNum.Before(b0.Start, _undoMarker)) _undoRetrans--;
            first = 1;
        }
        long now = NowUs;
        SeqNum fack = _sndUna;
        for (int i = 0; i < _rtx.Count; i++)
            if ((_rtx[i].Sacked & TcpCbSacked.SackedAcked) != 0) fack = _rtx[i].EndSeq;
        for (int k = first; k < blocks.Count; k++)
        {
            var b = blocks[k];
            // tcp_is_sackblock_valid()
            if (!SeqNum.Before(b.Start, b.End) || SeqNum.After(b.End, _sndNxt) || SeqNum.Before(b.Start, _sndUna))
            {
                if (!(dsack && k == 0)) _host.TcpExtStats.Inc(TcpExtMib.TCPSACKDiscard);
                continue;
            }
            for (int i = 0; i < _rtx.Count; i++)
            {
                ref var s = ref _rtx[i];
                if (!SeqNum.After(s.EndSeq, b.Start)) continue;
                if (!SeqNum.Before(s.Seq, b.End)) break;
                if (SeqNum.Before(s.Seq, b.Start) || SeqNum.After(s.EndSeq, b.End)) continue; // partly covered
                if ((s.Sacked & TcpCbSacked.SackedAcked) != 0) continue;
                // tcp_sacktag_one()
                if ((s.Sacked & TcpCbSacked.SackedRetrans) != 0) { s.Sacked &= ~TcpCbSacked.SackedRetrans; _retransOut--; }
                if ((s.Sacked & TcpCbSacked.Lost) != 0) { s.Sacked &= ~TcpCbSacked.Lost; _lostOut--; }
                if ((s.Sacked & TcpCbSacked.EverRetrans) == 0)
                {
                    flag |= AckFlag.OrigSackAcked;
                    if (SeqNum.Before(s.EndSeq, fack)) NoteReordering(fack, s.Seq);
                }
                s.Sacked |= TcpCbSacked.SackedAcked;
                _sackedOut++;
                _delivered++;
                flag |= AckFlag.DataSacked;
                RateSampleDelivered(in s, now);
                RackAdvance(in s, now);
                if (SeqNum.After(s.EndSeq, fack)) fack = s.EndSeq;
            }
        }
    }

    /// <summary>tcp_check_sack_reordering(): a hole filled by original data below the highest SACK means reordering.</summary>
    private void NoteReordering(SeqNum fack, SeqNum lowSeq)
    {
        int mss = Math.Max(_mssCache, 1);
        int metric = (fack - lowSeq + mss - 1) / mss;
        int newReordering = Math.Min(Math.Max(metric, _reordering), _host.TcpSysctl.TcpMaxReordering);
        if (newReordering > _reordering) _reordering = newReordering;
        _reordSeen = true;
        _host.TcpExtStats.Inc(TcpExtMib.TCPSACKReorder);
    }

    // ------------------------------------------------------------------ RACK

    /// <summary>tcp_rack_advance(): remember the most recently sent segment that was delivered.</summary>
    private void RackAdvance(in TxSeg s, long now)
    {
        long rtt = now - s.TxUs;
        if ((s.Sacked & TcpCbSacked.EverRetrans) != 0 && rtt < _minRttUs) return; // ambiguous sample
        _rackRttUs = rtt;
        if (s.TxUs > _rackMstampUs || (s.TxUs == _rackMstampUs && SeqNum.After(s.EndSeq, _rackEndSeq)))
        {
            _rackMstampUs = s.TxUs;
            _rackEndSeq = s.EndSeq;
        }
    }

    /// <summary>tcp_rack_reo_wnd(): 0 once three segments are SACKed or in recovery (no reordering seen), else min_rtt/4.</summary>
    private long RackReoWnd()
    {
        if (!_reordSeen && (_caState >= TcpCaState.Recovery || _sackedOut >= _reordering)) return 0;
        long minRtt = _minRttUs == long.MaxValue ? 0 : _minRttUs;
        return Math.Min(minRtt >> 2, _srttUs >> 3);
    }

    /// <summary>tcp_rack_detect_loss(): a segment sent before the last delivered one and overdue by reo_wnd is lost.</summary>
    private void RackDetectLoss()
    {
        if (_rackMstampUs == 0) return;
        long now = NowUs;
        long reoWnd = RackReoWnd();
        long maxRemaining = 0;
        for (int i = 0; i < _rtx.Count; i++)
        {
            ref var s = ref _rtx[i];
            if ((s.Sacked & TcpCbSacked.SackedAcked) != 0) continue;
            if ((s.Sacked & TcpCbSacked.Lost) != 0 && (s.Sacked & TcpCbSacked.SackedRetrans) == 0) continue;
            bool sentBefore = s.TxUs < _rackMstampUs || (s.TxUs == _rackMstampUs && SeqNum.Before(s.EndSeq, _rackEndSeq));
            if (!sentBefore) continue;
            long remaining = _rackRttUs + reoWnd - (now - s.TxUs);
            if (remaining <= 0) MarkLost(ref s);
            else maxRemaining = Math.Max(maxRemaining, remaining);
        }
        if (maxRemaining > 0)
        {
            // TCP_TIMEOUT_MIN: two jiffies of slack, as usecs_to_jiffies() + 2 does.
            long at = maxRemaining + 2000;
            ResetRetransmitTimer(TimerKind.ReoTimeout, Math.Min(at, RtoDeltaUs()));
        }
    }

    /// <summary>tcp_mark_skb_lost(): a lost retransmission may be retransmitted again (TCPLostRetransmit).</summary>
    private void MarkLost(ref TxSeg s)
    {
        if ((s.Sacked & TcpCbSacked.SackedRetrans) != 0)
        {
            s.Sacked &= ~TcpCbSacked.SackedRetrans;
            _retransOut--;
            _host.TcpExtStats.Inc(TcpExtMib.TCPLostRetransmit);
        }
        if ((s.Sacked & TcpCbSacked.Lost) == 0)
        {
            s.Sacked |= TcpCbSacked.Lost;
            _lostOut++;
        }
    }

    /// <summary>tcp_newreno_mark_lost(): without SACK, the head is lost after dupthresh dup ACKs or on a partial ACK.</summary>
    private void NewRenoMarkLost(bool sndUnaAdvanced)
    {
        if (_rtx.Count == 0) return;
        if ((_caState < TcpCaState.Recovery && _sackedOut >= _reordering) || (_caState == TcpCaState.Recovery && sndUnaAdvanced))
        {
            ref var head = ref _rtx.Head;
            if ((head.Sacked & TcpCbSacked.Lost) == 0) MarkLost(ref head);
        }
    }

    private void IdentifyPacketLoss(AckFlag flag)
    {
        if (!_sackOk) NewRenoMarkLost((flag & AckFlag.SndUnaAdvanced) != 0);
        else if ((_host.TcpSysctl.TcpRecovery & 1) != 0) RackDetectLoss();
    }

    // ------------------------------------------------------------------ the recovery state machine

    /// <summary>
    /// tcp_fastretrans_alert(): Open → Disorder → Recovery on loss; Loss after an RTO; back to Open when
    /// snd_una passes high_seq. Returns true when lost segments should be retransmitted.
    /// </summary>
    private bool FastRetransAlert(AckFlag flag, bool isDup, uint ackedSacked, uint priorInFlight)
    {
        bool advanced = (flag & AckFlag.SndUnaAdvanced) != 0;
        // Non-SACK peers: each dup ACK is a fake SACK (tcp_add_reno_sack).
        if (!_sackOk && isDup && _caState != TcpCaState.Loss && _sackedOut + 1 < _packetsOut + 1)
            _sackedOut = Math.Min(_sackedOut + 1, _packetsOut);

        // D. Leaving a reduction once everything sent before it is acknowledged.
        if (!SeqNum.Before(_sndUna, _highSeq))
        {
            switch (_caState)
            {
                case TcpCaState.Cwr:
                    if (_sndUna != _highSeq) { EndCwndReduction(); SetCaState(TcpCaState.Open); }
                    break;
                case TcpCaState.Recovery:
                    // Non-SACK connections stay until snd_una passes high_seq (tcp_is_non_sack_preventing_reopen).
                    if (!_sackOk && _sndUna == _highSeq) break;
                    if (!TryUndoRecovery()) EndCwndReduction();
                    SetCaState(_sackedOut > 0 || _lostOut > 0 ? TcpCaState.Disorder : TcpCaState.Open);
                    return false;
            }
        }

        switch (_caState)
        {
            case TcpCaState.Recovery:
                if (_sackOk && (flag & AckFlag.DsackSeen) != 0 && TryUndoDsack()) return false;
                IdentifyPacketLoss(flag);
                return true;
            case TcpCaState.Loss:
                if (ProcessLoss(flag)) return false;
                IdentifyPacketLoss(flag);
                return true;
        }
        if (_sackOk && (flag & AckFlag.DsackSeen) != 0) TryUndoDsack();
        IdentifyPacketLoss(flag);
        if (_lostOut == 0)
        {
            // tcp_try_to_open()
            if (_caState != TcpCaState.Cwr)
                SetCaState(_sackedOut > 0 || _retransOut > 0 || _undoMarkerSet && _caState != TcpCaState.Open ? TcpCaState.Disorder : TcpCaState.Open);
            return false;
        }
        EnterRecovery();
        CwndReduction((int)ackedSacked, flag);
        return true;
    }

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

    /// <summary>tcp_enter_recovery(): count it, remember undo state, start PRR.</summary>
    private void EnterRecovery()
    {
        _host.TcpExtStats.Inc(_sackOk ? TcpExtMib.TCPSackRecovery : TcpExtMib.TCPRenoRecovery);
        _priorSsthresh = 0;
        InitUndo();
        if (_caState < TcpCaState.Cwr)
        {
            _priorSsthresh = CurrentSsthresh();
            InitCwndReduction();
        }
        SetCaState(TcpCaState.Recovery);
    }

    private void InitUndo()
    {
        _undoMarker = _sndUna;
        _undoMarkerSet = true;
        _undoRetrans = (int)_retransOut;
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

    /// <summary>tcp_cwnd_reduction(): Proportional Rate Reduction (RFC 6937) with the slow-start reduction bound.</summary>
    private void CwndReduction(int newlyAckedSacked, AckFlag flag)
    {
        if (newlyAckedSacked <= 0 || Cc.PriorCwnd == 0) return;
        _prrDelivered += newlyAckedSacked;
        int inFlight = (int)PacketsInFlight;
        int delta = (int)Cc.SndSsthresh - inFlight;
        long sndcnt;
        if (delta < 0)
        {
            long dividend = (long)Cc.SndSsthresh * _prrDelivered + Cc.PriorCwnd - 1;
            sndcnt = dividend / Cc.PriorCwnd - _prrOut;
        }
        else
        {
            sndcnt = Math.Max(_prrDelivered - _prrOut, newlyAckedSacked);
            if ((flag & AckFlag.SndUnaAdvanced) != 0 && _lostOut == 0) sndcnt++;
            sndcnt = Math.Min(delta, sndcnt);
        }
        sndcnt = Math.Max(sndcnt, _prrOut > 0 ? 0 : 1); // force the fast retransmit
        Cc.SndCwnd = (uint)Math.Max(1, inFlight + sndcnt);
    }

    /// <summary>tcp_end_cwnd_reduction(): cwnd = ssthresh at the end of CWR or a recovery that was not undone.</summary>
    private void EndCwndReduction()
    {
        if (_ca.HasCongControl) return;
        if (Cc.SndSsthresh < TcpCongestionState.InfiniteSsthresh && (_caState == TcpCaState.Cwr || _undoMarkerSet))
        {
            Cc.SndCwnd = Cc.SndSsthresh;
            Cc.SndCwndCnt = 0;
        }
        SyncCc();
        _ca.CwndEvent(Cc, TcpCaEvent.CompleteCwr);
    }

    /// <summary>tcp_may_undo(): every retransmission was D-SACKed or the original was echoed (TS older than the retransmission).</summary>
    private bool MayUndo() => _undoMarkerSet && _undoRetrans == 0;

    /// <summary>tcp_undo_cwnd_reduction(): restore cwnd and ssthresh, clear lost marks.</summary>
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
            Cc.SndSsthresh = Math.Max(Cc.SndSsthresh, _priorSsthresh);
        }
        _undoMarkerSet = false;
    }

    /// <summary>tcp_try_undo_recovery().</summary>
    private bool TryUndoRecovery()
    {
        if (!MayUndo()) return false;
        UndoCwndReduction(false);
        _host.TcpExtStats.Inc(_caState == TcpCaState.Loss ? TcpExtMib.TCPLossUndo : TcpExtMib.TCPFullUndo);
        return true;
    }

    /// <summary>tcp_try_undo_dsack(): all retransmissions D-SACKed → the reduction was spurious.</summary>
    private bool TryUndoDsack()
    {
        if (!_undoMarkerSet || _undoRetrans != 0) return false;
        UndoCwndReduction(false);
        _host.TcpExtStats.Inc(TcpExtMib.TCPDSACKUndo);
        if (_caState == TcpCaState.Recovery) SetCaState(TcpCaState.Open);
        return true;
    }

    /// <summary>
    /// tcp_process_loss() with F-RTO (RFC 5682, SACK-enhanced): an ACK of never-retransmitted data after an
    /// RTO proves the timeout spurious; otherwise go back N from the lost marks. Returns true when undone or done.
    /// </summary>
    private bool ProcessLoss(AckFlag flag)
    {
        if (_frto && (flag & AckFlag.OrigSackAcked) != 0 && _undoMarkerSet)
        {
            UndoCwndReduction(true);
            _host.TcpExtStats.Inc(TcpExtMib.TCPLossUndo);
            _host.TcpExtStats.Inc(TcpExtMib.TCPSpuriousRTOs);
            _retransmits = 0;
            SetCaState(TcpCaState.Open);
            _frto = false;
            return true;
        }
        if (_frto && SeqNum.After(_sndNxt, _highSeq) && ((flag & AckFlag.DataSacked) != 0 || (flag & AckFlag.SndUnaAdvanced) == 0))
            _frto = false;
        if (!SeqNum.Before(_sndUna, _highSeq))
        {
            if (!TryUndoRecovery()) { }
            SetCaState(TcpCaState.Open);
            _frto = false;
            return true;
        }
        return false;
    }

    /// <summary>
    /// tcp_enter_loss(): after an RTO, everything not SACKed is lost, cwnd drops to what is in flight + 1,
    /// ssthresh is reduced once per episode, and F-RTO watches the next ACKs.
    /// </summary>
    private void EnterLoss()
    {
        bool newEpisode = _caState <= TcpCaState.Disorder || !SeqNum.After(_highSeq, _sndUna) || (_caState == TcpCaState.Loss && _retransmits == 0);
        // tcp_timeout_mark_lost()
        for (int i = 0; i < _rtx.Count; i++)
        {
            ref var s = ref _rtx[i];
            if ((s.Sacked & TcpCbSacked.SackedAcked) != 0) continue;
            if ((s.Sacked & TcpCbSacked.SackedRetrans) != 0) { s.Sacked &= ~TcpCbSacked.SackedRetrans; _retransOut--; }
            if ((s.Sacked & TcpCbSacked.Lost) == 0) { s.Sacked |= TcpCbSacked.Lost; _lostOut++; }
        }
        if (newEpisode)
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
        if (_caState == TcpCaState.Disorder && _sackedOut >= _host.TcpSysctl.TcpReordering)
            _reordering = Math.Min(_reordering, _host.TcpSysctl.TcpReordering);
        bool wasRecovering = _caState >= TcpCaState.Recovery;
        SetCaState(TcpCaState.Loss);
        _highSeq = _sndNxt;
        _tlpActive = false;
        _frto = _host.TcpSysctl.TcpFrto != 0 && (!wasRecovering || _retransmits > 0);
    }

    /// <summary>
    /// tcp_slow_start_after_idle_check() + tcp_cwnd_restart() (RFC 5681 §4.1): after more than an RTO without
    /// sending, cwnd halves per idle RTO down to the initial window.
    /// </summary>
    private void SlowStartAfterIdleCheck()
    {
        if (_host.TcpSysctl.TcpSlowStartAfterIdle == 0 || _packetsOut > 0 || _ca.HasCongControl || _lsndtimeUs == 0) return;
        long delta = NowUs - _lsndtimeUs;
        if (delta <= _rto) return;
        SyncCc();
        _ca.CwndEvent(Cc, TcpCaEvent.CwndRestart);
        Cc.SndSsthresh = CurrentSsthresh();
        uint restart = Math.Min(TcpCongestionState.InitCwnd, Cc.SndCwnd);
        uint cwnd = Cc.SndCwnd;
        while ((delta -= _rto) > 0 && cwnd > restart) cwnd >>= 1;
        Cc.SndCwnd = Math.Max(cwnd, restart);
    }

    // ------------------------------------------------------------------ tail loss probe

    /// <summary>
    /// tcp_schedule_loss_probe(): with SACK, in Open or CWR, arm a probe at 2·SRTT (+ rto_min when one
    /// segment is out, + 2 ms otherwise), no later than the RTO would fire. Returns true when armed.
    /// </summary>
    private bool ScheduleLossProbe()
    {
        int early = _host.TcpSysctl.TcpEarlyRetrans;
        if (early is not (3 or 4) || _packetsOut == 0 || !_sackOk || _caState is not (TcpCaState.Open or TcpCaState.Cwr)) return false;
        if (State is not (TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.LastAck or TcpState.Closing)) return false;
        long pto;
        if (_srttUs != 0)
        {
            pto = _srttUs >> 2;
            pto += _packetsOut == 1 ? _host.TcpSysctl.TcpRtoMinUs : 2000;
        }
        else pto = TcpTimeoutInitUs;
        pto = (pto + 999) / 1000 * 1000;
        long rtoDelta = RtoDeltaUs();
        if (rtoDelta > 0) pto = Math.Min(pto, rtoDelta);
        ResetRetransmitTimer(TimerKind.LossProbe, pto);
        return true;
    }

    /// <summary>tcp_send_loss_probe(): new data if the window allows, else the last segment again.</summary>
    private void SendLossProbe()
    {
        if (_tlpActive) { RearmRto(); return; }
        int mss = CurrentMss();
        bool sent = false;
        var dataEnd = _finQueued ? _writeSeq - 1 : _writeSeq;
        if (SeqNum.Before(_sndNxt, _writeSeq) && !SeqNum.After(_sndNxt + Math.Min(mss, Math.Max(dataEnd - _sndNxt, 0)), _sndUna + _sndWnd))
        {
            var before = _sndNxt;
            WriteXmit(forcePush: true, pushOne: true);
            sent = _sndNxt != before;
            _tlpRetrans = false;
        }
        if (!sent && _rtx.Count > 0)
        {
            int last = _rtx.Count - 1;
            if ((_rtx[last].Sacked & TcpCbSacked.SackedAcked) == 0 && RetransmitSeg(last))
            {
                sent = true;
                _tlpRetrans = true;
            }
        }
        if (sent)
        {
            _tlpActive = true;
            _tlpHighSeq = _sndNxt;
            _host.TcpExtStats.Inc(TcpExtMib.TCPLossProbes);
        }
        RearmRto();
    }

    /// <summary>tcp_process_tlp_ack(): a probe that repaired a loss still costs a cwnd reduction (TCPLossProbeRecovery).</summary>
    private void ProcessTlpAck(SeqNum ack, AckFlag flag)
    {
        if (!_tlpActive || SeqNum.Before(ack, _tlpHighSeq)) return;
        if (!_tlpRetrans) { _tlpActive = false; return; }
        if ((flag & AckFlag.DsackSeen) != 0) { _tlpActive = false; return; }
        if (SeqNum.After(ack, _tlpHighSeq))
        {
            _tlpActive = false;
            InitCwndReduction();
            SetCaState(TcpCaState.Cwr);
            EndCwndReduction();
            SetCaState(TcpCaState.Open);
            _host.TcpExtStats.Inc(TcpExtMib.TCPLossProbeRecovery);
        }
        else if ((flag & (AckFlag.SndUnaAdvanced | AckFlag.NotDup)) == 0) _tlpActive = false;
    }

    // ------------------------------------------------------------------ delivery rate (tcp_rate.c)

    /// <summary>tcp_rate_skb_delivered() + tcp_rate_gen(): the delivery rate of the newest delivered segment.</summary>
    private void RateSampleDelivered(in TxSeg s, long now)
    {
        if (s.DeliveredUsAtSend == 0 && s.FirstTxUsAtSend == 0) return;
        long sendElapsed = s.TxUs - s.FirstTxUsAtSend;
        long ackElapsed = now - s.DeliveredUsAtSend;
        long interval = Math.Max(sendElapsed, ackElapsed);
        long delivered = _delivered - s.DeliveredAtSend;
        _deliveredUs = now;
        _firstTxUs = s.TxUs;
        if (_appLimitedUntil != 0 && _delivered > _appLimitedUntil) _appLimitedUntil = 0;
        if (interval <= 0 || delivered <= 0) return;
        long rate = delivered * _mssCache * 8_000_000L / interval;
        // Keep app-limited samples only when they exceed the current estimate (tcp_rate_gen's rule for BBR).
        if (!s.AppLimitedAtSend || rate >= _deliveryRateBps)
        {
            _deliveryRateBps = rate;
            _deliveryRateAppLimited = s.AppLimitedAtSend;
        }
    }
}
