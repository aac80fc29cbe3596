using NetLab.Core.Packets;
using NetLab.Stack.Tcp.CongestionControl;

namespace NetLab.Stack.Tcp;

/// <summary>
/// One received segment as tcp_v4_rcv() hands it to a socket: the parsed header (options parsed the
/// way tcp_parse_options() accepts them for the socket's state) and the packet whose Data is the payload.
/// </summary>
internal ref struct TcpSegment
{
    public TcpRepr Repr;
    public Packet Packet;         // Data = payload
    public bool SawTimestamp;
    public uint TsVal;
    public uint TsEcr;            // with our tsoffset removed

    public readonly SeqNum Seq => Repr.Seq;
    public readonly SeqNum EndSeq => Repr.EndSeq;
    public readonly int Length => Repr.PayloadLength;
    public readonly bool Has(TcpFlags f) => (Repr.Flags & f) != 0;
}

// net/ipv4/tcp_input.c: the receive side, one method per state group as ns-3 and Linux split it.
public sealed partial class TcpSocket
{
    /// <summary>tcp_ack()'s FLAG_* bits (tcp_input.c).</summary>
    [Flags]
    private enum AckFlag
    {
        None = 0,
        Data = 0x01,              // FLAG_DATA: the segment carried data
        WinUpdate = 0x02,         // FLAG_WIN_UPDATE
        DataAcked = 0x04,         // FLAG_DATA_ACKED
        RetransDataAcked = 0x08,  // FLAG_RETRANS_DATA_ACKED
        SynAcked = 0x10,          // FLAG_SYN_ACKED
        DataSacked = 0x20,        // FLAG_DATA_SACKED
        Ece = 0x40,               // FLAG_ECE
        LostRetrans = 0x80,       // FLAG_LOST_RETRANS
        SlowPath = 0x100,         // FLAG_SLOWPATH
        OrigSackAcked = 0x200,    // FLAG_ORIG_SACK_ACKED
        SndUnaAdvanced = 0x400,   // FLAG_SND_UNA_ADVANCED
        DsackingAck = 0x800,      // FLAG_DSACKING_ACK
        SetXmitTimer = 0x1000,    // FLAG_SET_XMIT_TIMER
        SackReneging = 0x2000,    // FLAG_SACK_RENEGING
        AckMaybeDelayed = 0x10000,// FLAG_ACK_MAYBE_DELAYED
        DsackTlp = 0x20000,       // FLAG_DSACK_TLP
        Acked = DataAcked | SynAcked,
        NotDup = Data | WinUpdate | Acked,
        CaAlert = DataSacked | Ece | DsackingAck,
        ForwardProgress = Acked | DataSacked,
    }

    /// <summary>
    /// tcp_rcv_state_process() for a full socket (every state but LISTEN). Returns true when the caller must
    /// answer with a RST (tcp_v4_send_reset). Does not take ownership of the packet unless it queues it.
    /// </summary>
    internal bool Rcv(ref TcpSegment seg)
    {
        _segsIn++;
        if (seg.Length > 0) _dataSegsIn++;
        switch (State)
        {
            case TcpState.Close:
                return !seg.Has(TcpFlags.Rst);
            case TcpState.SynSent:
                return ProcessSynSent(ref seg);
        }

        if (!seg.Has(TcpFlags.Ack) && !seg.Has(TcpFlags.Rst) && !seg.Has(TcpFlags.Syn)) return false;
        if (!ValidateIncoming(ref seg)) return false;

        // Step 5: the ACK field.
        if (!seg.Has(TcpFlags.Ack)) return false;
        var prevState = State;
        int acked = Ack(ref seg);
        if (State == TcpState.SynRecv && acked <= 0) return true; // not acceptable: RST (FLAG_NO_CHALLENGE_ACK)
        if (acked < 0)
        {
            if (acked == -2) SendChallengeAck();
            return false;
        }
        RcvRttMeasureTs(ref seg);
        switch (State)
        {
            case TcpState.SynRecv:
                ProcessSynRecvAck(ref seg);
                break;
            case TcpState.FinWait1:
                if (_finQueued && _sndUna == _writeSeq)
                {
                    SetState(TcpState.FinWait2);
                    _shutdown |= SendShutdown;
                    WakeUp();
                    if (IsOrphan)
                    {
                        if (Linger2 < 0 || (seg.EndSeq != seg.Seq && SeqNum.After(seg.EndSeq - (seg.Has(TcpFlags.Fin) ? 1 : 0), _rcvNxt)))
                        {
                            _host.TcpExtStats.Inc(TcpExtMib.TCPAbortOnData);
                            Done();
                            return true;
                        }
                        long tmo = FinTimeUs();
                        if (tmo > TcpTimewaitLenUs) ResetKeepaliveTimer(tmo - TcpTimewaitLenUs);
                        else if (seg.Has(TcpFlags.Fin)) ResetKeepaliveTimer(tmo);
                        else { EnterTimeWait(TcpState.FinWait2, tmo); return false; }
                    }
                }
                break;
            case TcpState.Closing:
                if (_finQueued && _sndUna == _writeSeq) { EnterTimeWait(TcpState.TimeWait, 0); return false; }
                break;
            case TcpState.LastAck:
                if (_finQueued && _sndUna == _writeSeq) { Done(); return false; }
                break;
        }
        if (State == TcpState.Close) return false;

        // Step 7: the segment text.
        switch (State)
        {
            case TcpState.CloseWait or TcpState.Closing or TcpState.LastAck:
                if (!SeqNum.Before(seg.Seq, _rcvNxt)) break; // data after the peer's FIN: ignored
                goto case TcpState.Established;
            case TcpState.FinWait1 or TcpState.FinWait2:
                // RFC 793 says queue it; Linux resets a connection whose reader is gone (tcp_rcv_state_process).
                if ((_shutdown & RcvShutdown) != 0 && seg.EndSeq != seg.Seq && SeqNum.After(seg.EndSeq - (seg.Has(TcpFlags.Fin) ? 1 : 0), _rcvNxt))
                {
                    _host.TcpExtStats.Inc(TcpExtMib.TCPAbortOnData);
                    ResetReceived();
                    return true;
                }
                goto case TcpState.Established;
            case TcpState.Established:
                DataQueue(ref seg);
                break;
        }
        if (State != TcpState.Close && State != TcpState.TimeWait)
        {
            DataSndCheck();
            AckSndCheck();
        }
        _ = prevState;
        return false;
    }

    /// <summary>tcp_rcv_synsent_state_process() (§2.5-2.6 of docs/reference/linux-tcp.md).</summary>
    private bool ProcessSynSent(ref TcpSegment seg)
    {
        if (seg.Has(TcpFlags.Ack))
        {
            // The ACK must acknowledge exactly our SYN; otherwise reset_and_undo (a RST answers it). "Previous FIN/ACK
            // or RST/ACK might be ignored": before any retransmission the SYN goes again after TCP_TIMEOUT_MIN.
            if (!SeqNum.After(seg.Repr.Ack, _sndUna) || SeqNum.After(seg.Repr.Ack, _sndNxt))
            {
                if (_retransmits == 0) ResetRetransmitTimer(TimerKind.Retrans, TcpTimeoutMinUs);
                return !seg.Has(TcpFlags.Rst);
            }
            // PAWS for the SYN-ACK: its TSecr must lie between our first SYN and now (tcp_time_stamp_ts units, ms).
            if (seg.SawTimestamp && seg.TsEcr != 0 && _retransStampUs >= 0)
            {
                uint first = (uint)(_retransStampUs / 1000);
                if (TsNow - first < seg.TsEcr - first)
                {
                    _host.TcpExtStats.Inc(TcpExtMib.PAWSActive);
                    return true;
                }
            }
            if (seg.Has(TcpFlags.Rst))
            {
                ResetReceived();
                return false;
            }
            if (!seg.Has(TcpFlags.Syn)) return false;

            // SYN-ACK: negotiate, take the RTT sample from the SYN, enter ESTABLISHED.
            _irs = seg.Seq;
            _sndWl1 = seg.Seq;
            NegotiateOptions(ref seg);
            if (_tstampOk) _advmss -= 12; // TCPOLEN_TSTAMP_ALIGNED
            TryUndoSpuriousSyn(ref seg);
            _rcvNxt = _rcvWup = _copiedSeq = seg.Seq + 1;
            _rcvqSeq = _copiedSeq;
            _sndWnd = seg.Repr.Window; // never scaled on a SYN
            _maxWindow = Math.Max(_maxWindow, _sndWnd);
            Ack(ref seg);
            // tcp_fastretrans_alert() → tcp_process_loss(): the SYN timeouts' Loss state ends with the SYN acknowledged
            // (Reno holds it until something above high_seq is acknowledged, as tcp_try_undo_recovery() does).
            if (_caState == TcpCaState.Loss && !SeqNum.Before(_sndUna, _highSeq))
            {
                TryUndoRecovery();
                if (_sackOk) SetCaState(TcpCaState.Open);
                _frto = false;
            }
            SyncMssForRoute();
            InitializeRcvMss();
            FinishConnect();
            // The third ACK goes out at once (tcp_send_ack), unless a writer is blocked waiting for the connection:
            // then the ACK is delayed (TCP_DELACK_MAX) in quick-ACK mode so that the data carries it. Data or a FIN on
            // the SYN-ACK is discarded (no TCP Fast Open here): the caller frees the skb after tcp_send_ack().
            if (_writePending > 0)
            {
                ScheduleAck();
                EnterQuickackMode(TcpMaxQuickacks);
                _ackPending |= AckTimer;
                ResetDelackTimer(NowUs + TcpDelackMaxUs);
            }
            else SendAck();
            return false;
        }
        if (seg.Has(TcpFlags.Rst)) return false;
        if (seg.Has(TcpFlags.Syn))
        {
            // Simultaneous open: SYN_RECV, and the same SYN again with ACK set.
            _irs = seg.Seq;
            _sndWl1 = seg.Seq;
            NegotiateOptions(ref seg);
            _rcvNxt = _rcvWup = _copiedSeq = seg.Seq + 1;
            _rcvqSeq = _copiedSeq;
            _sndWnd = seg.Repr.Window;
            _maxWindow = _sndWnd;
            SetState(TcpState.SynRecv);
            SyncMssForRoute();
            InitializeRcvMss();
            Emit(_iss, 0, TcpFlags.Syn | TcpFlags.Ack, true, 0);
        }
        return false;
    }

    /// <summary>The SYN/SYN-ACK option negotiation of tcp_rcv_synsent_state_process.</summary>
    private void NegotiateOptions(ref TcpSegment seg)
    {
        var sys = _host.TcpSysctl;
        var o = seg.Repr.Options;
        if (o.Mss is { } mss and > 0) _mssClamp = _userMss > 0 ? Math.Min(mss, _userMss) : mss;
        _wscaleOk = o.WindowScale is not null && sys.TcpWindowScaling != 0 && _rcvWscaleOffered;
        if (_wscaleOk) _sndWscale = Math.Min((int)o.WindowScale!.Value, 14);
        else
        {
            _sndWscale = _rcvWscale = 0;
            _windowClamp = Math.Min(_windowClamp, 65535);
        }
        _tstampOk = seg.SawTimestamp && sys.TcpTimestamps != 0;
        if (_tstampOk)
        {
            _tcpHeaderLen = 32;
            _tsRecent = seg.TsVal;
            _tsRecentStampUs = NowUs;
        }
        else _tcpHeaderLen = 20;
        _sackOk = o.SackPermitted && sys.TcpSack != 0;
    }

    private bool _rcvWscaleOffered => _host.TcpSysctl.TcpWindowScaling != 0;

    /// <summary>
    /// tcp_try_undo_spurious_syn(): the SYN (or SYN-ACK) timeouts were spurious when the ACK echoes the first
    /// transmission's timestamp (retrans_stamp); then cwnd is not cut to 1 after the handshake.
    /// </summary>
    private void TryUndoSpuriousSyn(ref TcpSegment seg)
    {
        if (_undoMarkerSet && _retransStampUs >= 0 && seg.SawTimestamp && seg.TsEcr == (uint)(_retransStampUs / 1000))
            _undoMarkerSet = false;
    }

    private void SyncMssForRoute()
    {
        var route = _host.Ipv4.RouteOutput(RemoteAddress, BoundDevice);
        int pmtu = route is null ? 576 : _host.Ipv4.PathMtu(route, RemoteAddress);
        SyncMss(pmtu);
    }

    /// <summary>tcp_finish_connect() + tcp_init_transfer(): ESTABLISHED, initial cwnd, buffers, keepalive.</summary>
    private void FinishConnect()
    {
        SetState(TcpState.Established);
        _everConnected = true;
        InitTransfer();
        UpdatePacingRate(); // tcp_ack() of the SYN-ACK ran tcp_cong_control()
        if (_keepOpen) ResetKeepaliveTimer(KeepaliveTimeUs);
        WakeUp();
    }

    /// <summary>tcp_init_transfer(): cwnd 10 (1 after two or more SYN retransmissions), buffer space, CC init.</summary>
    private void InitTransfer()
    {
        _rcvTstampUs = NowUs;
        if (_srttUs == 0) _rto = TcpTimeoutFallbackUs; // tcp_init_metrics(): no RTT sample from the handshake (RFC 6298 §5.7)
        Cc.SndCwnd = _totalRetrans > 1 && _undoMarkerSet ? 1u : TcpCongestionState.InitCwnd;
        // ssthresh is not touched: after SYN timeouts it keeps what tcp_enter_loss() set (tcp_init_metrics()
        // restores no ssthresh with tcp_no_ssthresh_metrics_save = 1).
        InitBufferSpace();
        SyncCc();
        _ca.Init(Cc);
    }

    /// <summary>tcp_init_buffer_space(): expand sndbuf, clamp the window to the buffer, reserve one segment.</summary>
    private void InitBufferSpace()
    {
        if (!_sndBufLocked) SndbufExpand();
        int maxwin = FullSpace;
        if (_windowClamp >= maxwin)
        {
            _windowClamp = maxwin;
            if (_windowClamp > 2 * _advmss && _windowClamp + _advmss > maxwin) _windowClamp = Math.Max(2 * _advmss, maxwin - _advmss);
        }
        _rcvSsthresh = Math.Min(_rcvSsthresh, _windowClamp);
        _rcvqSpace = Math.Min(Math.Min(_rcvSsthresh, _rcvWnd), (int)TcpCongestionState.InitCwnd * _advmss);
        _rcvqSeq = _copiedSeq;
        _rcvqTimeUs = NowUs;
        _sndCwndStampUs = NowUs;
    }

    /// <summary>tcp_sndbuf_expand(): room for two windows of segments at 4352 bytes of truesize each.</summary>
    private void SndbufExpand()
    {
        const int perMss = 4096 + 256; // roundup_pow_of_two(mss + MAX_TCP_HEADER + shinfo) + sizeof(sk_buff), x86-64
        long nrSegs = Math.Max(TcpCongestionState.InitCwnd, Math.Max(Cc.SndCwnd, (uint)_reordering + 1));
        long sndmem = 2 * nrSegs * perMss;
        int max = _host.TcpSysctl.TcpWmem[2];
        if (sndmem > _sndBuf) _sndBuf = (int)Math.Min(sndmem, max);
    }

    /// <summary>SYN_RECV → ESTABLISHED on the acceptable ACK (simultaneous open and accepted children).</summary>
    private void ProcessSynRecvAck(ref TcpSegment seg)
    {
        if (_tstampOk) _advmss -= 12; // TCPOLEN_TSTAMP_ALIGNED
        TryUndoSpuriousSyn(ref seg);
        _retransStampUs = -1;
        SetState(TcpState.Established);
        _everConnected = true;
        _sndWnd = seg.Repr.Window << _sndWscale;
        _sndWl1 = seg.Seq;
        InitTransfer();
        UpdatePacingRate();
        if (_keepOpen) ResetKeepaliveTimer(KeepaliveTimeUs);
        if (_parent is not null) _parent.WakeUp();
        WakeUp();
    }

    /// <summary>
    /// tcp_validate_incoming(): PAWS, the sequence window, RST and SYN checks of RFC 5961. Returns false
    /// when the segment is consumed (dropped, answered with a dup or challenge ACK, or a reset).
    /// </summary>
    private bool ValidateIncoming(ref TcpSegment seg)
    {
        bool rst = seg.Has(TcpFlags.Rst);
        // PAWS (RFC 7323 §5): an old timestamp marks an old duplicate.
        if (seg.SawTimestamp && _tstampOk && PawsReject(seg.TsVal, rst))
        {
            if (!rst)
            {
                if (seg.Has(TcpFlags.Syn)) { SynChallenge(); return false; }
                _host.TcpExtStats.Inc(TcpExtMib.PAWSEstab);
                SendDupAck(ref seg);
                return false;
            }
        }
        // tcp_sequence().
        bool old = SeqNum.Before(seg.EndSeq, _rcvWup);
        // A segment ending past the window is accepted only into an empty receive queue (Linux 6.x tcp_sequence()).
        var wndEnd = _rcvNxt + ReceiveWindow;
        bool beyond = SeqNum.After(seg.EndSeq, wndEnd) && (SeqNum.After(seg.Seq, wndEnd) || _rcvQueue.Count > 0);
        if (old || beyond)
        {
            if (rst)
            {
                if (ResetCheck(seg.Seq)) ResetReceived();
                return false;
            }
            if (seg.Has(TcpFlags.Syn)) { SynChallenge(); return false; }
            if (beyond) _host.TcpExtStats.Inc(TcpExtMib.BeyondWindow);
            SendDupAck(ref seg);
            return false;
        }
        if (rst)
        {
            // RFC 5961 §3.2: only an exact match resets (RCV.NXT, RCV.NXT - 1 after a FIN, or the right edge of the
            // highest SACK block); any other in-window RST earns a challenge ACK.
            if (seg.Seq == _rcvNxt || ResetCheck(seg.Seq) || (_sackOk && _numSacks > 0 && seg.Seq == HighestSackEnd()))
                ResetReceived();
            else SendChallengeAck();
            return false;
        }
        if (seg.Has(TcpFlags.Syn))
        {
            // The simultaneous-open SYN-ACK arriving in SYN_RECV is the handshake ACK, not an attack.
            bool crossedSynAck = State == TcpState.SynRecv && seg.Has(TcpFlags.Ack) && seg.Seq + 1 == seg.EndSeq
                && seg.Seq + 1 == _rcvNxt && seg.Repr.Ack == _sndNxt;
            if (!crossedSynAck)
            {
                SynChallenge();
                return false;
            }
        }
        // tcp_replace_ts_recent() (Linux does it in tcp_ack(), FLAG_UPDATE_TS_RECENT): only for segments that passed
        // the checks above, so a challenged RST or SYN never moves ts_recent.
        if (seg.SawTimestamp && _tstampOk && !SeqNum.After(seg.Seq, _rcvWup))
        {
            _tsRecent = seg.TsVal;
            _tsRecentStampUs = NowUs;
        }
        return true;
    }

    /// <summary>
    /// tcp_validate_incoming()'s syn_challenge: TCPSYNChallenge and a challenge ACK; Tcp InErrs only on the
    /// ESTABLISHED path (tcp_rcv_established passes syn_inerr = 1, tcp_rcv_state_process 0).
    /// </summary>
    private void SynChallenge()
    {
        if (State == TcpState.Established) _host.TcpStats.Inc(TcpMib.InErrs);
        _host.TcpExtStats.Inc(TcpExtMib.TCPSYNChallenge);
        SendChallengeAck();
    }

    /// <summary>tcp_reset_check(): a RST at rcv_nxt - 1 after the peer's FIN (CLOSE_WAIT, LAST_ACK, CLOSING).</summary>
    private bool ResetCheck(SeqNum seq) =>
        seq == _rcvNxt - 1 && State is TcpState.CloseWait or TcpState.LastAck or TcpState.Closing;

    private SeqNum HighestSackEnd()
    {
        var max = _selectiveAcks[0].End;
        for (int i = 1; i < _numSacks; i++)
            if (SeqNum.After(_selectiveAcks[i].End, max)) max = _selectiveAcks[i].End;
        return max;
    }

    /// <summary>tcp_paws_reject() with TCP_PAWS_WINDOW 1; RSTs pass once ts_recent is older than TCP_PAWS_MSL.</summary>
    private bool PawsReject(uint tsval, bool rst)
    {
        if (_tsRecent == 0) return false;
        if ((int)(_tsRecent - tsval) <= 1) return false;
        if (NowUs - _tsRecentStampUs > 2147L * 1_000_000) return false; // TCP_PAWS_WRAP
        if (rst && NowUs - _tsRecentStampUs > 60_000_000) return false;  // TCP_PAWS_MSL
        return true;
    }

    /// <summary>tcp_send_dupack(): an immediate ACK for an unacceptable segment; old data gets a D-SACK.</summary>
    private void SendDupAck(ref TcpSegment seg)
    {
        if (seg.Length > 0 && SeqNum.Before(seg.Seq, _rcvNxt))
        {
            _host.TcpExtStats.Inc(TcpExtMib.DelayedACKLost);
            EnterQuickackMode(TcpMaxQuickacks);
            if (_sackOk && _host.TcpSysctl.TcpDsack != 0)
            {
                var end = SeqNum.After(seg.EndSeq, _rcvNxt) ? _rcvNxt : seg.EndSeq;
                DsackSet(seg.Seq, end);
            }
        }
        if (seg.Length == 0 && OowRateLimited(TcpExtMib.TCPACKSkippedSeq)) return;
        SendAck();
    }

    /// <summary>tcp_send_challenge_ack() (RFC 5961 §4): per-socket tcp_invalid_ratelimit, then the global budget.</summary>
    private void SendChallengeAck()
    {
        if (OowRateLimited(TcpExtMib.TCPACKSkippedChallenge)) return;
        if (!_layer.TakeChallengeAckBudget()) return;
        _host.TcpExtStats.Inc(TcpExtMib.TCPChallengeACK);
        SendAck();
    }

    /// <summary>__tcp_oow_rate_limited(): at most one out-of-window ACK per tcp_invalid_ratelimit ms.</summary>
    private bool OowRateLimited(TcpExtMib mib)
    {
        long now = NowUs;
        long limit = _host.TcpSysctl.TcpInvalidRatelimit * 1000L;
        if (_lastOowAckUs != 0 && now - _lastOowAckUs < limit)
        {
            _host.TcpExtStats.Inc(mib);
            return true;
        }
        _lastOowAckUs = now;
        return false;
    }

    /// <summary>
    /// tcp_ack(): window update, SACK scoreboard, the retransmit queue, RTT, loss recovery, the delivery-rate sample
    /// and congestion control, in Linux's order. Returns 1 when processed, 0 for an old ACK (only its SACK
    /// information is used), -1 for an ACK of unsent data (dropped), -2 for an ACK too old to be believed
    /// (RFC 5961 §5.2: a challenge ACK).
    /// </summary>
    private int Ack(ref TcpSegment seg)
    {
        var ack = seg.Repr.Ack;
        var priorSndUna = _sndUna;
        bool isSackReneg = _isSackReneg;
        uint priorPackets = _packetsOut;
        long priorDelivered = _delivered;
        long priorLost = _lost;
        int rexmit = RexmitNone;
        var flag = AckFlag.SlowPath;
        var rs = new RateSample { RttUs = -1 };
        var sack = new SacktagState();
        _rxSawTstamp = seg.SawTimestamp;
        _rxTsecr = seg.TsEcr;
        bool hasSack = _sackOk && !seg.Repr.Options.SackBlocks.IsEmpty;

        if (SeqNum.Before(ack, priorSndUna))
        {
            // RFC 5961 §5.2: older than anything the peer could have seen (never more than was ever acked).
            int maxWindow = (int)Math.Min(_maxWindow, _bytesAcked);
            if (SeqNum.Before(ack, priorSndUna - maxWindow)) return -2;
            // old_ack: use its SACK information, and see whether a D-SACK undoes a reduction.
            if (hasSack)
            {
                flag |= SackTag(ref seg, priorSndUna, ref sack, ref rs);
                if (sack.SackDelivered > 0) _delivered += sack.SackDelivered;
                FastRetransAlert(priorSndUna, 0, ref flag, ref rexmit);
                NewlyDelivered(priorDelivered);
                XmitRecovery(rexmit);
            }
            return 0;
        }
        if (SeqNum.After(ack, _sndNxt)) return -1; // RFC 793 §3.9: an ACK of unsent data

        if (SeqNum.After(ack, priorSndUna))
        {
            flag |= AckFlag.SndUnaAdvanced;
            _retransmits = 0;
        }
        var priorFack = _sackOk ? HighestSackSeq : _sndUna;
        rs.PriorInFlight = PacketsInFlight;
        if (seg.Length > 0 || seg.Has(TcpFlags.Syn) || seg.Has(TcpFlags.Fin)) flag |= AckFlag.Data;
        flag |= AckUpdateWindow(ref seg, ack);
        if (hasSack) flag |= SackTag(ref seg, priorSndUna, ref sack, ref rs);
        if (sack.SackDelivered > 0) _delivered += sack.SackDelivered;
        _skErrSoft = Errno.None;
        _probesOut = 0;
        _rcvTstampUs = NowUs;
        if (priorPackets == 0)
        {
            // no_queue: nothing was in flight (zero-window probing, or an ACK of a FIN-less idle connection).
            if ((flag & AckFlag.DsackingAck) != 0)
            {
                FastRetransAlert(priorSndUna, 0, ref flag, ref rexmit);
                NewlyDelivered(priorDelivered);
            }
            AckProbe();
            if (_tlpActive) ProcessTlpAck(ack, flag);
            return 1;
        }

        flag |= CleanRtxQueue(priorFack, priorSndUna, ref sack, ref rs);
        RackUpdateReoWnd(rs);
        if (_tlpActive) ProcessTlpAck(ack, flag);

        // tcp_ack_is_dubious(): anything but a plain advance in the Open state goes to the recovery logic.
        if ((flag & AckFlag.NotDup) == 0 || (flag & AckFlag.CaAlert) != 0 || _caState != TcpCaState.Open)
        {
            int numDupack = (flag & (AckFlag.SndUnaAdvanced | AckFlag.NotDup | AckFlag.DsackingAck)) == 0 ? 1 : 0;
            FastRetransAlert(priorSndUna, numDupack, ref flag, ref rexmit);
        }
        if ((flag & AckFlag.SetXmitTimer) != 0) SetXmitTimer();
        long delivered = NewlyDelivered(priorDelivered);
        RateGen(delivered, _lost - priorLost, isSackReneg, ref rs);
        CongControl(ack, (uint)delivered, flag, rs);
        XmitRecovery(rexmit);
        return 1;
    }

    /// <summary>tcp_newly_delivered(): segments newly (S)ACKed by this ACK (TCPDelivered).</summary>
    private long NewlyDelivered(long priorDelivered)
    {
        long delivered = _delivered - priorDelivered;
        if (delivered > 0) _host.TcpExtStats.Add(TcpExtMib.TCPDelivered, delivered);
        return delivered;
    }

    /// <summary>tcp_set_xmit_timer(): a tail loss probe if allowed, else the RTO from now.</summary>
    private void SetXmitTimer()
    {
        if (!ScheduleLossProbe(advancingRto: true)) RearmRto();
    }

    /// <summary>tcp_xmit_recovery(): after cwnd is updated, F-RTO's new data (REXMIT_NEW) or the lost segments.</summary>
    private void XmitRecovery(int rexmit)
    {
        if (rexmit == RexmitNone || State == TcpState.SynSent) return;
        if (rexmit == RexmitNew)
        {
            PushPendingFrames(NagleOff);
            if (SeqNum.After(_sndNxt, _highSeq)) return;
            _frto = false;
        }
        XmitRetransmitQueue();
    }

    /// <summary>
    /// tcp_ack_update_window(): RFC 9293 §3.10.7.4's SND.WL1/SND.WL2 rule (a zero window is always taken), scaled by
    /// snd_wscale; a growing max_window re-syncs the MSS; snd_una moves (tcp_snd_una_update, bytes_acked).
    /// </summary>
    private AckFlag AckUpdateWindow(ref TcpSegment seg, SeqNum ack)
    {
        int nwin = seg.Repr.Window;
        if (!seg.Has(TcpFlags.Syn)) nwin <<= _sndWscale;
        var flag = AckFlag.None;
        if (SeqNum.After(ack, _sndUna) || SeqNum.After(seg.Seq, _sndWl1) || (seg.Seq == _sndWl1 && (nwin > _sndWnd || nwin == 0)))
        {
            flag |= AckFlag.WinUpdate;
            _sndWl1 = seg.Seq;
            if (_sndWnd != nwin)
            {
                _sndWnd = nwin;
                if (_sndNxt != _writeSeq) SlowStartAfterIdleCheck();
                if (nwin > _maxWindow)
                {
                    _maxWindow = nwin;
                    SyncMss(_pmtuCookie);
                }
            }
        }
        _bytesAcked += ack - _sndUna;
        _sndUna = ack;
        return flag;
    }

    /// <summary>
    /// tcp_clean_rtx_queue(): drop every segment the cumulative ACK covers and release its bytes; gather the RTT
    /// samples Karn's rule allows (tcp_ack_update_rtt), reordering, the rate sample, NewReno's emulated SACKs and
    /// the module's pkts_acked(). A segment only partly acknowledged keeps its unacknowledged tail (tcp_trim_head).
    /// </summary>
    private AckFlag CleanRtxQueue(SeqNum priorFack, SeqNum priorSndUna, ref SacktagState sack, ref RateSample rs)
    {
        long now = NowUs;
        long firstAckt = 0, lastAckt = 0;
        bool anyOrig = false;
        uint priorSacked = _sackedOut;
        var reord = _sndNxt;
        bool fullyAcked = true;
        long seqRttUs = -1, sackRttUs = -1, caRttUs = -1;
        int pktsAcked = 0;
        var flag = AckFlag.None;
        const TcpCbSacked retrans = TcpCbSacked.SackedRetrans | TcpCbSacked.EverRetrans;
        while (_rtx.Count > 0)
        {
            ref var s = ref _rtx.Head;
            var sacked = s.Sacked;
            if (SeqNum.After(s.EndSeq, _sndUna))
            {
                // Linux trims only multi-segment (TSO) skbs; NetLab's are one segment, but a peer that acks part of
                // one (a smaller MSS after PMTU changes) still frees those bytes.
                if (SeqNum.After(_sndUna, s.Seq) && (s.Flags & TcpFlags.Syn) == 0)
                {
                    ReleaseSendBytes(_sndUna - s.Seq);
                    s.Seq = _sndUna;
                }
                break;
            }
            if ((sacked & retrans) != 0)
            {
                if ((sacked & TcpCbSacked.SackedRetrans) != 0) _retransOut--;
                flag |= AckFlag.RetransDataAcked;
            }
            else if ((sacked & TcpCbSacked.SackedAcked) == 0)
            {
                lastAckt = s.TxUs;
                if (!anyOrig) { firstAckt = lastAckt; anyOrig = true; }
                if (SeqNum.Before(s.Seq, reord)) reord = s.Seq;
                if (!SeqNum.After(s.EndSeq, _highSeq)) flag |= AckFlag.OrigSackAcked;
            }
            if ((sacked & TcpCbSacked.SackedAcked) != 0) _sackedOut--;
            else if (_sackOk)
            {
                _delivered++;
                if (!((sacked & retrans) != 0 && TsoptEcrBefore(s.TxUs))) RackAdvance(sacked, s.EndSeq, s.TxUs);
            }
            if ((sacked & TcpCbSacked.Lost) != 0) _lostOut--;
            _packetsOut--;
            pktsAcked++;
            RateSkbDelivered(ref s, ref rs);
            if ((s.Flags & TcpFlags.Syn) == 0) flag |= AckFlag.DataAcked;
            else
            {
                flag |= AckFlag.SynAcked;
                _retransStampUs = -1;
            }
            int dataLen = s.DataLength;
            if (dataLen > 0) ReleaseSendBytes(dataLen);
            _rtx.RemoveHead();
        }
        if (_rtx.Count > 0 && (_rtx.Head.Sacked & TcpCbSacked.SackedAcked) != 0) flag |= AckFlag.SackReneging;
        if (anyOrig && (flag & AckFlag.RetransDataAcked) == 0)
        {
            seqRttUs = now - firstAckt;
            caRttUs = now - lastAckt;
            if (pktsAcked == 1 && fullyAcked && priorSacked == 0 && (_sndUna - priorSndUna) < _mssCache
                && rs.PriorDelivered + 1 == _delivered && (flag & (AckFlag.CaAlert | AckFlag.SynAcked)) == 0)
                flag |= AckFlag.AckMaybeDelayed; // likely a delayed ACK of a lone runt
        }
        if (sack.HasSackt)
        {
            sackRttUs = now - sack.FirstSacktUs;
            caRttUs = now - sack.LastSacktUs;
        }
        bool rttUpdate = AckUpdateRtt(flag, seqRttUs, sackRttUs, caRttUs, ref rs);
        if ((flag & AckFlag.Acked) != 0)
        {
            flag |= AckFlag.SetXmitTimer;
            if (!_sackOk)
            {
                RemoveRenoSacks(pktsAcked);
                // NewReno cannot tell an original from a retransmission among cumulatively acked segments.
                if ((flag & AckFlag.RetransDataAcked) != 0) flag &= ~AckFlag.OrigSackAcked;
            }
            else if (SeqNum.Before(reord, priorFack)) CheckSackReordering(reord, ts: false); // a hole filled by original data
        }
        else if (_rtx.Count > 0 && rttUpdate && sackRttUs >= 0 && sackRttUs > now - _rtx.Head.TxUs)
        {
            // A SACK RTT measured from data sent after the head's last transmission keeps the RTO running.
            flag |= AckFlag.SetXmitTimer;
        }
        SyncCc();
        _ca.PktsAcked(Cc, new TcpAckSample((uint)pktsAcked, rs.RttUs, (uint)(_mssCache * (_delivered - rs.PriorDelivered))));
        if (_rtx.Count == 0) _sackedOut = _lostOut = _retransOut = 0;
        return flag;
    }

    private void ReleaseSendBytes(int n)
    {
        n = Math.Min(n, _sndRing.Count);
        _sndRing.Consume(n);
        _sndRingSeq += n;
    }

    /// <summary>
    /// tcp_ack_update_rtt(): the cumulative sample (Karn), else the SACK sample, else the timestamp echo of an ACK
    /// that acknowledged new data; a valid sample updates min_rtt, SRTT/RTTVAR and the RTO, and clears the backoff.
    /// </summary>
    private bool AckUpdateRtt(AckFlag flag, long seqRttUs, long sackRttUs, long caRttUs, ref RateSample rs)
    {
        if (seqRttUs < 0) seqRttUs = sackRttUs;
        if (seqRttUs < 0 && _rxSawTstamp && _rxTsecr != 0 && (flag & AckFlag.Acked) != 0)
        {
            long delta = (uint)(TsNow - _rxTsecr);
            if (delta < int.MaxValue / 1000) seqRttUs = caRttUs = Math.Max(delta, 1) * 1000; // tcp_rtt_tsopt_us(tp, 1)
        }
        rs.RttUs = caRttUs;
        if (seqRttUs < 0) return false;
        UpdateRttMin(caRttUs, flag);
        RttEstimator(seqRttUs);
        SetRto();
        _backoff = 0;
        return true;
    }

    /// <summary>tcp_rtt_estimator() and tcp_set_rto() (§5.2): RTO = SRTT + max(rto_min, 4·RTTVAR), capped at rto_max.</summary>
    private void RttEstimator(long m)
    {
        long rtoMin = _host.TcpSysctl.TcpRtoMinUs;
        if (_srttUs != 0)
        {
            m -= _srttUs >> 3;
            _srttUs += m;
            if (m < 0)
            {
                m = -m;
                m -= _mdevUs >> 2;
                if (m > 0) m >>= 3;
            }
            else m -= _mdevUs >> 2;
            _mdevUs += m;
            if (_mdevUs > _mdevMaxUs)
            {
                _mdevMaxUs = _mdevUs;
                if (_mdevMaxUs > _rttvarUs) _rttvarUs = _mdevMaxUs;
            }
            if (SeqNum.After(_sndUna, _rttSeq))
            {
                if (_mdevMaxUs < _rttvarUs) _rttvarUs -= (_rttvarUs - _mdevMaxUs) >> 2;
                _rttSeq = _sndNxt;
                _mdevMaxUs = rtoMin;
            }
        }
        else
        {
            _srttUs = m << 3;
            _mdevUs = m << 1;
            _rttvarUs = Math.Max(_mdevUs, rtoMin);
            _mdevMaxUs = _rttvarUs;
            _rttSeq = _sndNxt;
        }
        _srttUs = Math.Max(1, _srttUs);
    }

    /// <summary>tcp_set_rto(): rounded up to a jiffy (HZ = 1000), capped at tcp_rto_max_ms.</summary>
    private void SetRto()
    {
        long rto = (_srttUs >> 3) + _rttvarUs;
        rto = (rto + 999) / 1000 * 1000;
        _rto = Math.Min(rto, RtoMaxUs);
    }

    private long RtoMaxUs => _host.TcpSysctl.TcpRtoMaxMs * 1000L;

    /// <summary>
    /// tcp_cong_control(): the module's cong_control, else PRR during CWR/Recovery, else cong_avoid when the ACK
    /// delivered in-order data (or any data once reordering exceeds tcp_reordering).
    /// </summary>
    private void CongControl(SeqNum ack, uint ackedSacked, AckFlag flag, in RateSample rs)
    {
        SyncCc();
        if (_ca.HasCongControl)
        {
            var sample = new TcpRateSample(rs.PriorDelivered, rs.Delivered, rs.IntervalUs, rs.RttUs, rs.Losses, rs.AckedSacked,
                rs.PriorInFlight, rs.IsAppLimited, rs.IsRetrans);
            _ca.CongControl(Cc, ack.Value, sample);
            return;
        }
        if (_caState is TcpCaState.Cwr or TcpCaState.Recovery)
        {
            CwndReduction((int)ackedSacked, rs.Losses, flag);
            UpdatePacingRate();
            return;
        }
        bool mayRaise = _reordering > _host.TcpSysctl.TcpReordering
            ? (flag & AckFlag.ForwardProgress) != 0
            : (flag & AckFlag.DataAcked) != 0;
        if (mayRaise)
        {
            _ca.CongAvoid(Cc, ack.Value, ackedSacked);
            _sndCwndStampUs = NowUs;
        }
        UpdatePacingRate();
    }

    /// <summary>
    /// tcp_check_space() + tcp_new_space(): when a writer found the buffer full (SOCK_NOSPACE), expand sndbuf if
    /// allowed and wake it once the free space is at least half of what is queued (sk_stream_write_space).
    /// </summary>
    private void CheckSpace()
    {
        if (!_sndbufFull) return;
        if (!_sndBufLocked && PacketsInFlight < Cc.SndCwnd)
        {
            SndbufExpand();
            _sndCwndStampUs = NowUs;
        }
        int queued = SendQueuedBytes;
        if (_sndBuf - queued >= queued >> 1)
        {
            _sndbufFull = false;
            WakeUp();
        }
    }

    /// <summary>tcp_data_snd_check(): push new data the ACK made room for, then wake a writer waiting for space.</summary>
    private void DataSndCheck()
    {
        PushPendingFrames();
        CheckSpace();
    }

    // ------------------------------------------------------------------ receiving data

    /// <summary>
    /// tcp_data_queue(): in-order data to the receive queue, duplicates D-SACKed, the rest out of order. A pending
    /// D-SACK not yet sent is forgotten first (tp->rx_opt.dsack = 0), as Linux does.
    /// </summary>
    private void DataQueue(ref TcpSegment seg)
    {
        bool fin = seg.Has(TcpFlags.Fin);
        int len = seg.Length;
        // "if (TCP_SKB_CB(skb)->seq == TCP_SKB_CB(skb)->end_seq) drop": a SYN counts, so the peer's SYN-ACK that
        // completes a simultaneous open is a duplicate below (D-SACKed and acknowledged at once).
        if (seg.Seq == seg.EndSeq) return;
        _dsackPending = false;
        if (seg.Seq == _rcvNxt)
        {
            if (ReceiveWindow == 0 && len > 0)
            {
                // No room at all: drop; the ACK that follows tells the peer the window is still zero. A bare FIN
                // is accepted (some stacks send one in a loop into a zero window).
                _host.TcpExtStats.Inc(TcpExtMib.TCPZeroWindowDrop);
                OutOfWindow();
                return;
            }
            QueueInOrder(seg.Packet.Data[..len], fin, ref seg);
            return;
        }
        if (!SeqNum.After(seg.EndSeq, _rcvNxt))
        {
            // A retransmission of data we have (the second most common case): D-SACK it and ACK at once.
            _host.TcpExtStats.Inc(TcpExtMib.DelayedACKLost);
            DsackSet(seg.Seq, seg.EndSeq);
            OutOfWindow();
            return;
        }
        if (!SeqNum.Before(seg.Seq, _rcvNxt + ReceiveWindow))
        {
            OutOfWindow(); // beyond the window, e.g. a zero-window probe with data
            return;
        }
        if (SeqNum.Before(seg.Seq, _rcvNxt))
        {
            // Partly old: D-SACK the old part, queue the rest (unless the window is closed).
            DsackSet(seg.Seq, _rcvNxt);
            if (ReceiveWindow == 0)
            {
                _host.TcpExtStats.Inc(TcpExtMib.TCPZeroWindowDrop);
                OutOfWindow();
                return;
            }
            int skip = _rcvNxt - seg.Seq;
            QueueInOrder(seg.Packet.Data.Slice(skip, len - skip), fin, ref seg);
            return;
        }
        DataQueueOfo(ref seg);
    }

    /// <summary>tcp_data_queue()'s out_of_window: quick-ACK mode and an ACK owed (sent by tcp_ack_snd_check).</summary>
    private void OutOfWindow()
    {
        EnterQuickackMode(TcpMaxQuickacks);
        ScheduleAck();
    }

    /// <summary>tcp_data_queue()'s queue_and_out: append, tcp_event_data_recv, FIN, the out-of-order queue, SACKs.</summary>
    private void QueueInOrder(ReadOnlySpan<byte> data, bool fin, ref TcpSegment seg)
    {
        if (data.Length > 0)
        {
            _rcvQueue.Append(data);
            _bytesReceived += data.Length;
            _rcvNxt += data.Length;
            EventDataRecv(ref seg);
        }
        if (fin) Fin();
        if (OfoCount > 0)
        {
            OfoQueue();
            if (OfoCount == 0) _ackPending |= AckNow; // RFC 5681 §4.2: ACK at once when a hole fills
        }
        if (_numSacks > 0) SackRemove();
        // tcp_data_ready(): wake the reader at SO_RCVLOWAT, when the window is nearly closed, or at EOF.
        int avail = _rcvQueue.Count;
        if (avail > 0 && (avail >= _rcvLowat || ReceiveWindow <= _rcvMss) || _finReceived) WakeUp();
    }

    /// <summary>tcp_ofo_queue(): move segments that are now in order from the out-of-order queue.</summary>
    private void OfoQueue()
    {
        var dsackHigh = _rcvNxt;
        while (OfoCount > 0)
        {
            var o = _ofo[0];
            if (SeqNum.After(o.Seq, _rcvNxt)) break;
            if (SeqNum.Before(o.Seq, dsackHigh))
                DsackExtend(o.Seq, SeqNum.Before(o.EndSeq, dsackHigh) ? o.EndSeq : dsackHigh);
            _ofo.RemoveAt(0);
            if (!SeqNum.After(o.EndSeq, _rcvNxt))
            {
                o.Payload.Dispose();
                continue;
            }
            int skip = _rcvNxt - o.Seq;
            int dataEnd = o.Payload.Length;
            if (skip < dataEnd)
            {
                _rcvQueue.Append(o.Payload.Data[skip..]);
                _bytesReceived += dataEnd - skip;
                _rcvNxt += dataEnd - skip;
            }
            o.Payload.Dispose();
            if (o.Fin)
            {
                Fin(); // purges the rest of the queue
                break;
            }
        }
    }

    /// <summary>
    /// tcp_data_queue_ofo(): keep a segment past a hole (its packet, trimmed to the payload), drop or trim what is
    /// already held (D-SACK, TCPOFOMerge), update the SACK blocks (tcp_sack_new_ofo_skb), grow the window and the
    /// buffer as Linux does for SACK peers. Takes the packet from the caller.
    /// </summary>
    private void DataQueueOfo(ref TcpSegment seg)
    {
        MeasureRcvMss(ref seg);
        ScheduleAck();
        _host.TcpExtStats.Inc(TcpExtMib.TCPOFOQueue);
        var seq = seg.Seq;
        var end = seg.EndSeq;
        bool fin = seg.Has(TcpFlags.Fin);
        bool kept = true;
        if (OfoCount == 0)
        {
            // The first out-of-order segment: one SACK block.
            if (_sackOk)
            {
                _numSacks = 1;
                _selectiveAcks[0] = new SackBlock(seq, end);
            }
            InsertOfo(0, ref seg, seq, end, fin);
            if (_sackOk) GrowWindow(seg.Length);
            RcvbufGrow();
            return;
        }
        // The segment that starts at or before seq and still covers it (the rb-tree walk's overlap case).
        int i = OfoCount;
        while (i > 0 && SeqNum.After(_ofo[i - 1].Seq, seq)) i--;
        int at = i; // insertion point: after every segment starting at or before seq
        if (i > 0 && SeqNum.Before(seq, _ofo[i - 1].EndSeq))
        {
            var skb1 = _ofo[i - 1];
            if (!SeqNum.After(end, skb1.EndSeq))
            {
                // All of it is already here.
                _host.TcpExtStats.Inc(TcpExtMib.TCPOFOMerge);
                DsackSet(seq, end);
                kept = false;
            }
            else if (SeqNum.After(seq, skb1.Seq))
            {
                DsackSet(seq, skb1.EndSeq); // partial overlap: both kept
            }
            else
            {
                // Same start, and this one covers it: replace.
                DsackExtend(skb1.Seq, skb1.EndSeq);
                _host.TcpExtStats.Inc(TcpExtMib.TCPOFOMerge);
                skb1.Payload.Dispose();
                _ofo.RemoveAt(i - 1);
                at = i - 1;
            }
        }
        if (kept)
        {
            InsertOfo(at, ref seg, seq, end, fin);
            // merge_right: drop segments the new one covers, D-SACK what overlaps.
            while (at + 1 < OfoCount)
            {
                var next = _ofo[at + 1];
                if (!SeqNum.After(end, next.Seq)) break;
                if (SeqNum.Before(end, next.EndSeq))
                {
                    DsackExtend(next.Seq, end);
                    break;
                }
                DsackExtend(next.Seq, next.EndSeq);
                _host.TcpExtStats.Inc(TcpExtMib.TCPOFOMerge);
                next.Payload.Dispose();
                _ofo.RemoveAt(at + 1);
            }
        }
        if (_sackOk) SackNewOfo(seq, end);
        if (kept && _sackOk) GrowWindow(seg.Length);
        RcvbufGrow();
    }

    private void InsertOfo(int index, ref TcpSegment seg, SeqNum seq, SeqNum end, bool fin)
    {
        var pkt = seg.Packet;
        pkt.Trim(seg.Length);
        _ofo.Insert(index, new OfoSegment { Seq = seq, EndSeq = end, Payload = pkt, Fin = fin });
        seg.Packet = null!; // ownership moved to the queue
    }

    /// <summary>tcp_fin(): the peer has finished sending (§4.2 of docs/reference/linux-tcp.md).</summary>
    private void Fin()
    {
        _finReceived = true;
        _rcvNxt += 1;
        ScheduleAck();
        _shutdown |= RcvShutdown;
        switch (State)
        {
            case TcpState.SynRecv or TcpState.Established:
                SetState(TcpState.CloseWait);
                _pingpong = PingpongThresh; // the ACK of the FIN waits to ride on our own FIN
                break;
            case TcpState.FinWait1:
                SendAck();
                SetState(TcpState.Closing);
                break;
            case TcpState.FinWait2:
                SendAck();
                EnterTimeWait(TcpState.TimeWait, 0);
                break;
        }
        // Data beyond the FIN is meaningless.
        DropOfoQueue();
        WakeUp();
    }

    /// <summary>tcp_pingpong_thresh: replies needed to enter interactive mode (1 since Linux 6.2).</summary>
    private const int PingpongThresh = 1;

    private bool InPingpongMode => _pingpong >= PingpongThresh;

    /// <summary>Linux's jiffies at HZ = 1000: the delayed-ACK machinery counts whole milliseconds.</summary>
    private static long Jiffies(long us) => us / 1000;

    /// <summary>tcp_event_data_recv(): the delayed-ACK estimator (ato) and quick-ACK credit, for in-order data.</summary>
    private void EventDataRecv(ref TcpSegment seg)
    {
        ScheduleAck();
        MeasureRcvMss(ref seg);
        RcvRttMeasure();
        long now = Jiffies(NowUs);
        if (_ato == 0)
        {
            // The first data segment: start the delayed-ACK engine in quick-ACK mode.
            IncrQuickack(TcpMaxQuickacks);
            _ato = TcpDelackMinUs;
        }
        else
        {
            long m = (now - _lrcvtimeJiffies) * 1000;
            if (m <= TcpDelackMinUs / 2) _ato = (_ato >> 1) + TcpDelackMinUs / 2;
            else if (m < _ato) _ato = Math.Min((_ato >> 1) + m, _rto);
            else if (m > _rto) IncrQuickack(TcpMaxQuickacks); // a long gap: the sender failed to restart its window
        }
        _lrcvtimeJiffies = now;
        _lrcvtimeUs = NowUs;
        if (seg.Length >= 128) GrowWindow(seg.Length);
    }

    /// <summary>
    /// tcp_measure_rcv_mss(): learn the peer's segment size. A full-sized segment with PSH, or a short one, marks
    /// ICSK_ACK_PUSHED (PUSHED2 the second time), which lets tcp_cleanup_rbuf() ACK as soon as the reader drains
    /// the queue. Short segments of a constant size (the header plus one size seen twice) become the new rcv_mss.
    /// </summary>
    private void MeasureRcvMss(ref TcpSegment seg)
    {
        int lss = _lastSegSize;
        _lastSegSize = 0;
        int len = seg.Length;
        if (len >= _rcvMss)
        {
            // scaling_ratio is fixed at 1/2 in NetLab (no skb truesize), so nothing else changes here.
            _rcvMss = Math.Min(len, _advmss);
            if (seg.Has(TcpFlags.Psh)) _ackPending |= AckPushed;
            return;
        }
        len += seg.Repr.HeaderLength;
        const TcpFlags remnant = TcpFlags.Fin | TcpFlags.Urg | TcpFlags.Syn | TcpFlags.Psh; // TCP_REMNANT
        if (len >= TcpMssDefault + 20 || (len >= TcpMinMss + 20 && (seg.Repr.Flags & remnant) == 0))
        {
            len -= _tcpHeaderLen;
            _lastSegSize = len;
            if (len == lss)
            {
                _rcvMss = len;
                return;
            }
        }
        if ((_ackPending & AckPushed) != 0) _ackPending |= AckPushed2;
        _ackPending |= AckPushed;
    }

    /// <summary>tcp_grow_window(): raise rcv_ssthresh by up to two segments per full segment received.</summary>
    private void GrowWindow(int len)
    {
        int room = Math.Min(_windowClamp, Space) - _rcvSsthresh;
        if (room <= 0) return;
        // tcp_win_from_space(truesize) <= len always holds at NetLab's fixed ratio of 1/2: incr = 2·advmss.
        int incr = Math.Max(2 * _advmss, 2 * len);
        _rcvSsthresh += Math.Min(room, incr);
        _quick |= 1;
    }

    /// <summary>tcp_incr_quickack(): up to rcv_wnd / (2·rcv_mss) quick ACKs (at least 2, at most 16).</summary>
    private void IncrQuickack(int max)
    {
        int quickacks = _rcvWnd / (2 * Math.Max(_rcvMss, 1));
        if (quickacks == 0) quickacks = 2;
        quickacks = Math.Min(quickacks, max);
        if (quickacks > _quick) _quick = quickacks;
    }

    /// <summary>tcp_enter_quickack_mode(): quick ACKs, leave interactive mode.</summary>
    private void EnterQuickackMode(int max)
    {
        IncrQuickack(max);
        _pingpong = 0;
        _ato = TcpDelackMinUs;
    }

    private bool InQuickackMode => _quick > 0 && !InPingpongMode;

    private void ScheduleAck() => _ackPending |= AckSched;

    /// <summary>
    /// tcp_ack_snd_check() / __tcp_ack_snd_check(): ACK now (more than one full segment unacknowledged while the
    /// reader keeps up, quick-ACK mode, ICSK_ACK_NOW), delay it, or — with out-of-order data — send the first three
    /// dup ACKs for a given rcv_nxt at once and compress the rest (SACK compression, tcp_comp_sack_*).
    /// </summary>
    private void AckSndCheck()
    {
        if ((_ackPending & AckSched) == 0) return; // a data segment already carried it
        bool twoSegments = (_rcvNxt - _rcvWup) > _rcvMss
            && (_rcvNxt - _copiedSeq < _rcvLowat || SelectWindowRaw() >= _rcvWnd);
        if (twoSegments || InQuickackMode || (_ackPending & AckNow) != 0)
        {
            SendAck();
            return;
        }
        if (OfoCount == 0)
        {
            SendDelayedAck();
            return;
        }
        var sys = _host.TcpSysctl;
        if (!_sackOk || _compressedAck >= sys.TcpCompSackNr)
        {
            SendAck();
            return;
        }
        if (_compressedAckRcvNxt != _rcvNxt)
        {
            _compressedAckRcvNxt = _rcvNxt;
            _dupAckCounter = 0;
        }
        if (_dupAckCounter < 3) // TCP_FASTRETRANS_THRESH
        {
            _dupAckCounter++;
            SendAck();
            return;
        }
        _compressedAck++;
        if (_compressedAckAt != 0) return;
        // 5 % of the RTT (the receiver's estimate, or srtt when smaller), at most tcp_comp_sack_delay_ns.
        long rtt8 = _rcvRttUs;
        if (_srttUs != 0 && _srttUs < rtt8) rtt8 = _srttUs;
        long delayNs = Math.Min(sys.TcpCompSackDelayNs, rtt8 * 125 / 20);
        _compressedAckAt = _host.Now.Nanoseconds + delayNs;
        _compressedAckTimer ??= new Core.Time.SimTimer(_host.Scheduler, OnCompressedAckTimer);
        _compressedAckTimer.Arm(new Core.Time.SimTime(_compressedAckAt));
    }

    /// <summary>tcp_compressed_ack_kick(): the compression timer sends the one ACK that stands for the others.</summary>
    private void OnCompressedAckTimer()
    {
        if (_compressedAckAt == 0 || State == TcpState.Close) return;
        _compressedAckAt = 0;
        if (_compressedAck > 0)
        {
            _compressedAck--;
            SendAck();
        }
    }

    /// <summary>tcp_sack_compress_send_ack(): flush compressed ACKs now (TCPAckCompressed counts the others).</summary>
    private void SackCompressSendAck()
    {
        if (_compressedAck == 0) return;
        _compressedAckAt = 0;
        _compressedAckTimer?.Cancel();
        _host.TcpExtStats.Add(TcpExtMib.TCPAckCompressed, _compressedAck - 1);
        _compressedAck = 0;
        SendAck();
    }

    /// <summary>
    /// tcp_send_delayed_ack(): arm the delayed-ACK timer at ato, bounded by 200 ms (interactive or pushed data) or
    /// 500 ms, by max(srtt, 40 ms), and always by tcp_delack_max() = min(200 ms, rto_min − 1 jiffy) = 199 ms.
    /// </summary>
    private void SendDelayedAck()
    {
        long ato = _ato;
        if (ato > TcpDelackMinUs)
        {
            long maxAto = 500_000; // HZ / 2
            if (InPingpongMode || (_ackPending & AckPushed) != 0) maxAto = TcpDelackMaxUs;
            if (_srttUs != 0)
            {
                long rtt = Math.Max(((_srttUs >> 3) + 999) / 1000 * 1000, TcpDelackMinUs); // usecs_to_jiffies rounds up
                if (rtt < maxAto) maxAto = rtt;
            }
            ato = Math.Min(ato, maxAto);
        }
        long rtoMin = _host.TcpSysctl.TcpRtoMinUs;
        long delackMax = Math.Min(TcpDelackMaxUs, (Math.Max((rtoMin + 999) / 1000, 2) - 1) * 1000); // tcp_delack_max()
        ato = Math.Min(ato, delackMax);
        long timeout = NowUs + ato;
        if ((_ackPending & AckTimer) != 0 && _delackAt != 0)
        {
            // The timer is about to expire anyway: ACK now.
            if (_delackAt <= NowUs + (ato >> 2))
            {
                SendAck();
                return;
            }
            timeout = Math.Min(timeout, _delackAt);
        }
        _ackPending |= AckSched | AckTimer;
        ResetDelackTimer(timeout);
    }

    /// <summary>
    /// __tcp_cleanup_rbuf(): after the application reads, ACK at once if an ACK is owed for more than one segment,
    /// or the read emptied the receive memory after pushed data (PUSHED2, or PUSHED outside interactive mode); else
    /// send a window update when the window can at least double.
    /// </summary>
    private void CleanupRbuf(int copied)
    {
        if (!IsSynchronized || State == TcpState.Close) return;
        bool timeToAck = false;
        if ((_ackPending & AckSched) != 0)
        {
            bool empty = _rcvQueue.Count == 0 && OfoCount == 0; // !sk_rmem_alloc
            if ((_rcvNxt - _rcvWup) > _rcvMss
                || (copied > 0 && ((_ackPending & AckPushed2) != 0 || ((_ackPending & AckPushed) != 0 && !InPingpongMode)) && empty))
                timeToAck = true;
        }
        if (!timeToAck && copied > 0 && (_shutdown & RcvShutdown) == 0)
        {
            int rcvWindowNow = ReceiveWindow;
            if (2 * rcvWindowNow <= _windowClamp)
            {
                int newWindow = SelectWindowRaw();
                if (newWindow != 0 && newWindow >= 2 * rcvWindowNow) timeToAck = true;
            }
        }
        if (timeToAck) SendAck();
    }

    /// <summary>tcp_rcv_rtt_update(): a new minimum always; with timestamps smoothed (7/8), only with an empty queue.</summary>
    private void RcvRttUpdate(long sampleUs, bool winDep)
    {
        long old = _rcvRttUs;
        long m = sampleUs << 3;
        long next;
        if (old == 0 || m < old) next = m;
        else
        {
            if (winDep) return;
            if (_rcvNxt != _copiedSeq) return;
            next = old - (old >> 3) + sampleUs;
        }
        _rcvRttUs = next;
    }

    /// <summary>tcp_rcv_rtt_measure(): one sample per window of data, the time to receive rcv_wnd bytes.</summary>
    private void RcvRttMeasure()
    {
        long now = NowUs;
        if (_rcvRttTimeUs != 0)
        {
            if (SeqNum.Before(_rcvNxt, _rcvRttSeq)) return;
            RcvRttUpdate(Math.Max(now - _rcvRttTimeUs, 1), winDep: true);
        }
        _rcvRttSeq = _rcvNxt + _rcvWnd;
        _rcvRttTimeUs = now;
    }

    /// <summary>tcp_rcv_rtt_measure_ts(): a sample from the TSecr of a full-sized segment, once per new TSecr.</summary>
    private void RcvRttMeasureTs(ref TcpSegment seg)
    {
        if (!seg.SawTimestamp || seg.TsEcr == _rcvRttLastTsecr) return;
        _rcvRttLastTsecr = seg.TsEcr;
        if (seg.EndSeq - seg.Seq < _rcvMss || seg.TsEcr == 0) return;
        long delta = (long)(uint)(TsNow - seg.TsEcr);
        if (delta > 0 && delta < int.MaxValue / 1000) RcvRttUpdate(delta * 1000, winDep: false);
    }

    /// <summary>
    /// tcp_rcv_space_adjust(): at most once per receiver RTT, when the application read more than rcvq_space in
    /// it, grow the receive buffer (tcp_rcvbuf_grow: twice that per RTT, as window; sk_rcvbuf is twice the window
    /// at NetLab's fixed scaling ratio) up to tcp_rmem[2].
    /// </summary>
    private void RcvSpaceAdjust()
    {
        long now = NowUs;
        if (_rcvRttUs == 0 || now - _rcvqTimeUs < _rcvRttUs >> 3) return;
        int copied = (_copiedSeq - _rcvqSeq) - (_rcvNxt - _copiedSeq);
        if (copied > _rcvqSpace)
        {
            _rcvqSpace = copied;
            RcvbufGrow();
        }
        _rcvqSeq = _copiedSeq;
        _rcvqTimeUs = now;
    }

    /// <summary>tcp_rcvbuf_grow(): room for twice rcvq_space (plus the out-of-order span), window_clamp follows.</summary>
    private void RcvbufGrow()
    {
        if (_host.TcpSysctl.TcpModerateRcvbuf == 0 || _rcvBufLocked || _rcvqSpace == 0) return;
        long rcvwin = (long)_rcvqSpace << 1;
        if (OfoCount > 0) rcvwin += _ofo[^1].EndSeq - _rcvNxt;
        long rcvbuf = Math.Min(rcvwin * 2, _host.TcpSysctl.TcpRmem[2]); // tcp_space_from_win()
        if (rcvbuf > _rcvBuf)
        {
            _rcvBuf = (int)rcvbuf;
            _windowClamp = FullSpace;
        }
    }

    // ------------------------------------------------------------------ SACK and D-SACK generation

    /// <summary>tcp_dsack_set(): report duplicate data once, first in the next ACK's SACK option.</summary>
    private void DsackSet(SeqNum seq, SeqNum end)
    {
        if (!_sackOk || _host.TcpSysctl.TcpDsack == 0) return;
        _host.TcpExtStats.Inc(SeqNum.Before(seq, _rcvNxt) ? TcpExtMib.TCPDSACKOldSent : TcpExtMib.TCPDSACKOfoSent);
        _dsack = new SackBlock(seq, end);
        _dsackPending = true;
    }

    /// <summary>tcp_dsack_extend(): widen the pending D-SACK when it touches, or start one.</summary>
    private void DsackExtend(SeqNum seq, SeqNum end)
    {
        if (!_dsackPending) { DsackSet(seq, end); return; }
        SackExtend(ref _dsack, seq, end);
    }

    /// <summary>tcp_sack_extend(): grow <paramref name="b"/> to cover [seq, end) when they touch or overlap.</summary>
    private static bool SackExtend(ref SackBlock b, SeqNum seq, SeqNum end)
    {
        if (SeqNum.After(seq, b.End) || SeqNum.After(b.Start, end)) return false;
        b = new SackBlock(SeqNum.Before(seq, b.Start) ? seq : b.Start, SeqNum.After(end, b.End) ? end : b.End);
        return true;
    }

    /// <summary>
    /// tcp_sack_new_ofo_skb(): extend an adjacent block and move it first, or put a new block first (most recent
    /// first, RFC 2018 §4; the oldest of four falls off). Touching a block past the second flushes compressed ACKs.
    /// </summary>
    private void SackNewOfo(SeqNum seq, SeqNum end)
    {
        int cur = _numSacks;
        int i = 0;
        for (; i < cur; i++)
        {
            if (!SackExtend(ref _selectiveAcks[i], seq, end)) continue;
            if (i >= 2) SackCompressSendAck(); // TCP_SACK_BLOCKS_EXPECTED
            for (; i > 0; i--) (_selectiveAcks[i], _selectiveAcks[i - 1]) = (_selectiveAcks[i - 1], _selectiveAcks[i]);
            if (cur > 1) SackMaybeCoalesce();
            return;
        }
        if (i >= 2) SackCompressSendAck();
        if (i >= TcpSackBlocks.MaxCount)
        {
            i--;
            _numSacks--;
        }
        for (; i > 0; i--) _selectiveAcks[i] = _selectiveAcks[i - 1];
        _selectiveAcks[0] = new SackBlock(seq, end);
        _numSacks++;
    }

    /// <summary>tcp_sack_maybe_coalesce(): merge blocks the first one now touches.</summary>
    private void SackMaybeCoalesce()
    {
        for (int k = 1; k < _numSacks;)
        {
            var other = _selectiveAcks[k];
            if (SackExtend(ref _selectiveAcks[0], other.Start, other.End))
            {
                _numSacks--;
                for (int m = k; m < _numSacks; m++) _selectiveAcks[m] = _selectiveAcks[m + 1];
                continue;
            }
            k++;
        }
    }

    /// <summary>tcp_sack_remove(): forget blocks rcv_nxt has reached; none at all once the out-of-order queue is empty.</summary>
    private void SackRemove()
    {
        if (OfoCount == 0) { _numSacks = 0; return; }
        int w = 0;
        for (int r = 0; r < _numSacks; r++)
        {
            var b = _selectiveAcks[r];
            if (!SeqNum.Before(_rcvNxt, b.Start)) continue;
            _selectiveAcks[w++] = b;
        }
        _numSacks = w;
    }
}
