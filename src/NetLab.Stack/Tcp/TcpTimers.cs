using NetLab.Core.Time;
using NetLab.Stack.Tcp.CongestionControl;

namespace NetLab.Stack.Tcp;

// net/ipv4/tcp_timer.c. Three timers per socket as Linux keeps them: the retransmit timer (shared by
// RTO, zero-window probe, tail loss probe and RACK's reordering timer), the delayed-ACK timer, and
// sk_timer (keepalive, FIN_WAIT2). Each keeps a deadline field; moving a deadline later only writes
// the field, and an early firing re-arms itself (CONVENTIONS rule 6).
public sealed partial class TcpSocket
{
    internal enum TimerKind : byte { None, Retrans, Probe0, LossProbe, ReoTimeout }

    private TimerKind _pendingTimer;
    private long _retransmitAt, _delackAt, _keepaliveAt; // µs, 0 = not pending
    private long _firedDeadlineUs; // icsk_timeout of the retransmit-timer event being handled
    private SimTimer? _retransmitTimer, _delackTimer, _keepaliveTimer;

    // ------------------------------------------------------------------ arming

    private void ResetRetransmitTimer(TimerKind kind, long delayUs)
    {
        _pendingTimer = kind;
        _retransmitAt = NowUs + Math.Max(delayUs, 0);
        _retransmitTimer ??= new SimTimer(_host.Scheduler, OnRetransmitTimer);
        ArmLazily(_retransmitTimer, _retransmitAt);
    }

    private void ClearRetransmitTimer()
    {
        _pendingTimer = TimerKind.None;
        _retransmitAt = 0;
    }

    private void ResetDelackTimer(long atUs)
    {
        _delackAt = atUs;
        _delackTimer ??= new SimTimer(_host.Scheduler, OnDelackTimer);
        ArmLazily(_delackTimer, atUs);
    }

    private void ResetKeepaliveTimer(long delayUs)
    {
        _keepaliveAt = NowUs + Math.Max(delayUs, 0);
        _keepaliveTimer ??= new SimTimer(_host.Scheduler, OnKeepaliveTimer);
        ArmLazily(_keepaliveTimer, _keepaliveAt);
    }

    /// <summary>Arm only when the timer would otherwise fire too late; a deadline that moved later is found on firing.</summary>
    private static void ArmLazily(SimTimer t, long atUs)
    {
        var at = new SimTime(atUs * 1000);
        if (!t.IsArmed || t.Deadline > at) t.Arm(at);
    }

    /// <summary>True (and re-armed) when a timer fired before its current deadline.</summary>
    private bool FiredEarly(SimTimer t, long deadlineUs)
    {
        if (deadlineUs == 0) return true;
        if (NowUs >= deadlineUs) return false;
        t.Arm(new SimTime(deadlineUs * 1000));
        return true;
    }

    private void ClearTimers()
    {
        _pendingTimer = TimerKind.None;
        _retransmitAt = _delackAt = _keepaliveAt = 0;
        _retransmitTimer?.Cancel();
        _delackTimer?.Cancel();
        _keepaliveTimer?.Cancel();
        _compressedAckTimer?.Cancel();
        _pacingTimer?.Cancel();
        _compressedAckAt = 0;
        _compressedAck = 0;
        _ackPending = 0;
    }

    /// <summary>
    /// tcp_rearm_rto(): nothing in flight clears the retransmit timer (whatever it was used for); otherwise the RTO
    /// from now, or — replacing a TLP or REO timer — what is left of it since the head's transmission.
    /// </summary>
    private void RearmRto()
    {
        if (_packetsOut == 0)
        {
            ClearRetransmitTimer();
            return;
        }
        long rto = _rto;
        if (_pendingTimer is TimerKind.ReoTimeout or TimerKind.LossProbe) rto = UsecsToJiffiesUs(Math.Max(RtoDeltaUs(), 1));
        ResetRetransmitTimer(TimerKind.Retrans, Math.Min(rto, RtoMaxUs));
    }

    /// <summary>tcp_rto_delta_us(): time until the head of the retransmit queue is an RTO old.</summary>
    private long RtoDeltaUs()
    {
        if (_rtx.Count == 0) return _rto;
        return _rtx.Head.TxUs + _rto - NowUs;
    }

    /// <summary>tcp_probe0_base(): max(RTO, TCP_RTO_MIN).</summary>
    private long Probe0Base => Math.Max(_rto, _host.TcpSysctl.TcpRtoMinUs);

    private long KeepaliveTimeUs => (_keepIdle > 0 ? _keepIdle : _host.TcpSysctl.TcpKeepaliveTime) * 1_000_000L;
    private long KeepaliveIntvlUs => (_keepIntvl > 0 ? _keepIntvl : _host.TcpSysctl.TcpKeepaliveIntvl) * 1_000_000L;
    private int KeepaliveProbes => _keepCnt > 0 ? _keepCnt : _host.TcpSysctl.TcpKeepaliveProbes;

    /// <summary>keepalive_time_elapsed(): since the last data or ACK received.</summary>
    private long KeepaliveElapsedUs() => NowUs - Math.Max(_lrcvtimeUs, _rcvTstampUs);

    // ------------------------------------------------------------------ the retransmit timer

    /// <summary>
    /// tcp_write_timer_handler(): RETRANS and PROBE0 clear the pending kind before running; REO and LOSS_PROBE keep it,
    /// so that tcp_rearm_rto() counts the RTO from the head's transmission.
    /// </summary>
    private void OnRetransmitTimer()
    {
        if (_pendingTimer == TimerKind.None || State is TcpState.Close or TcpState.Listen) return;
        if (FiredEarly(_retransmitTimer!, _retransmitAt)) return;
        var kind = _pendingTimer;
        _firedDeadlineUs = _retransmitAt;
        _retransmitAt = 0;
        switch (kind)
        {
            case TimerKind.ReoTimeout: RackReoTimeout(); break;
            case TimerKind.LossProbe: SendLossProbe(); break;
            case TimerKind.Retrans:
                _pendingTimer = TimerKind.None;
                RetransmitTimer();
                break;
            case TimerKind.Probe0:
                _pendingTimer = TimerKind.None;
                ProbeTimer();
                break;
        }
    }

    /// <summary>
    /// tcp_retransmit_timer() (§5.3): a zero window makes the retransmission a probe; otherwise TCPTimeouts, the
    /// give-up check, the failed-recovery counters, Loss, the head again, and exponential backoff (linear for the
    /// first tcp_syn_linear_timeouts SYNs).
    /// </summary>
    private void RetransmitTimer()
    {
        if (_packetsOut == 0 || _rtx.Count == 0) return;
        if (_sndWnd == 0 && !IsOrphan && State is not (TcpState.SynSent or TcpState.SynRecv))
        {
            // The receiver shrank its window to zero under data in flight: retransmissions are window probes, and
            // the connection dies only when nothing was heard for 2·rto_max (tcp_rtx_probe0_timed_out).
            long rtxDelta = NowUs - (_retransStampUs >= 0 ? _retransStampUs : _rtx.Head.TxUs);
            if (RtxProbe0TimedOut(rtxDelta))
            {
                WriteErr();
                return;
            }
            EnterLoss();
            RetransmitSkb(0, 1, out _);
            BackOffAndRearm();
            return;
        }
        _host.TcpExtStats.Inc(TcpExtMib.TCPTimeouts);
        if (WriteTimeout()) return;
        if (_retransmits == 0)
        {
            TcpExtMib? mib = _caState switch
            {
                TcpCaState.Recovery => _sackOk ? TcpExtMib.TCPSackRecoveryFail : TcpExtMib.TCPRenoRecoveryFail,
                TcpCaState.Loss => TcpExtMib.TCPLossFailures,
                _ when _caState == TcpCaState.Disorder || _sackedOut > 0 => _sackOk ? TcpExtMib.TCPSackFailures : TcpExtMib.TCPRenoFailures,
                _ => null,
            };
            if (mib is { } m) _host.TcpExtStats.Inc(m);
        }
        EnterLoss();
        _retransmits++; // tcp_update_rto_stats()
        _totalRto++;
        if (RetransmitSkb(0, 1, out _) == Errno.ENOBUFS)
        {
            // Local congestion: retry soon without backing off.
            ResetRetransmitTimer(TimerKind.Retrans, TcpResourceProbeIntervalUs);
            return;
        }
        BackOffAndRearm();
    }

    /// <summary>tcp_rtx_probe0_timed_out(): both the last ACK and the first retransmission older than 2·rto_max (or the user timeout).</summary>
    private bool RtxProbe0TimedOut(long rtxDeltaUs)
    {
        long timeout = 2 * RtoMaxUs;
        if (_userTimeoutMs > 0)
        {
            if (rtxDeltaUs > _userTimeoutMs * 1000L) return true;
            timeout = Math.Min(timeout, _userTimeoutMs * 1000L);
        }
        long rcvDelta = _firedDeadlineUs - _rcvTstampUs; // icsk_timeout − rcv_tstamp
        if (rcvDelta <= timeout) return false;
        return rtxDeltaUs > timeout;
    }

    private void BackOffAndRearm()
    {
        bool linear = State == TcpState.SynSent && _totalRto <= _host.TcpSysctl.TcpSynLinearTimeouts;
        if (!linear)
        {
            _backoff++;
            _rto = Math.Min(_rto << 1, RtoMaxUs);
        }
        ResetRetransmitTimer(TimerKind.Retrans, ClampRtoToUserTimeout(_rto));
    }

    /// <summary>tcp_clamp_rto_to_user_timeout(): never past TCP_USER_TIMEOUT after the first retransmission.</summary>
    private long ClampRtoToUserTimeout(long rto)
    {
        if (_userTimeoutMs == 0 || _retransStampUs < 0) return rto;
        long remaining = _userTimeoutMs * 1000L - (NowUs - _retransStampUs);
        if (remaining <= 0) return 1000; // fire as soon as possible (one jiffy)
        return Math.Min(rto, remaining);
    }

    /// <summary>tcp_write_timeout() (§5.4): true when the connection was given up (ETIMEDOUT).</summary>
    private bool WriteTimeout()
    {
        var sys = _host.TcpSysctl;
        bool expired = false;
        int retryUntil;
        if (State is TcpState.SynSent or TcpState.SynRecv)
        {
            retryUntil = _synCnt > 0 ? _synCnt : sys.TcpSynRetries;
            int maxRetransmits = retryUntil + (State == TcpState.SynSent ? sys.TcpSynLinearTimeouts : 0);
            expired = _retransmits >= maxRetransmits;
        }
        else
        {
            retryUntil = sys.TcpRetries2;
            if (IsOrphan)
            {
                bool alive = _rto < RtoMaxUs;
                retryUntil = OrphanRetries(alive);
            }
        }
        if (!expired) expired = RetransmitsTimedOut(retryUntil, _userTimeoutMs * 1000L);
        if (!expired) return false;
        WriteErr();
        return true;
    }

    /// <summary>tcp_orphan_retries(): the sysctl, with 0 meaning 8 while the peer seems alive.</summary>
    private int OrphanRetries(bool alive)
    {
        int retries = _host.TcpSysctl.TcpOrphanRetries;
        if (_skErrSoft != Errno.None && !alive) retries = 0;
        if (retries == 0 && alive) retries = 8;
        return retries;
    }

    /// <summary>
    /// retransmits_timed_out(): the time since retrans_stamp (the first retransmission of the episode) against the
    /// model of <paramref name="boundary"/> doubling retransmissions from rto_min (TCP_TIMEOUT_INIT in SYN states),
    /// or the user timeout. Both sides in whole milliseconds, as the TS clock Linux measures them with.
    /// </summary>
    private bool RetransmitsTimedOut(int boundary, long userTimeoutUs)
    {
        if (_retransmits == 0) return false;
        long timeout = userTimeoutUs;
        if (timeout == 0)
        {
            long rtoBase = State is TcpState.SynSent or TcpState.SynRecv ? TcpTimeoutInitUs : TcpRtoMinDefaultUs;
            timeout = ModelTimeoutUs(boundary, rtoBase);
        }
        return Jiffies(NowUs) - Jiffies(_retransStampUs) >= Jiffies(timeout);
    }

    /// <summary>TCP_RTO_MIN: the model's base is the constant, not the tcp_rto_min_us sysctl.</summary>
    private const long TcpRtoMinDefaultUs = 200_000;

    /// <summary>tcp_model_timeout(): the time <paramref name="boundary"/> doubling retransmissions take.</summary>
    internal long ModelTimeoutUs(int boundary, long rtoBaseUs)
    {
        long rtoMax = RtoMaxUs;
        int thresh = System.Numerics.BitOperations.Log2((ulong)(rtoMax / rtoBaseUs));
        if (boundary <= thresh) return ((2L << boundary) - 1) * rtoBaseUs;
        return ((2L << thresh) - 1) * rtoBaseUs + (boundary - thresh) * rtoMax;
    }

    /// <summary>tcp_write_err(): report ETIMEDOUT (or the soft ICMP error) and close without a RST.</summary>
    private void WriteErr()
    {
        DoneWithError(_skErrSoft != Errno.None ? _skErrSoft : Errno.ETIMEDOUT);
        _host.TcpExtStats.Inc(TcpExtMib.TCPAbortOnTimeout);
    }

    // ------------------------------------------------------------------ zero-window probes

    /// <summary>tcp_probe_timer(): probe a closed window; give up after tcp_retries2 unanswered probes (or the user timeout).</summary>
    private void ProbeTimer()
    {
        if (_packetsOut > 0 || _sndNxt == _writeSeq)
        {
            _probesOut = 0;
            _probesTstampUs = 0;
            return;
        }
        if (_probesTstampUs == 0) _probesTstampUs = NowUs;
        else if (_userTimeoutMs > 0 && NowUs - _probesTstampUs >= _userTimeoutMs * 1000L)
        {
            WriteErr();
            return;
        }
        int maxProbes = _host.TcpSysctl.TcpRetries2;
        if (IsOrphan)
        {
            long rtoMax = RtoMaxUs;
            bool alive = Math.Min(_rto << Math.Min(_backoff, 30), rtoMax) < rtoMax; // inet_csk_rto_backoff()
            maxProbes = OrphanRetries(alive);
            if (!alive && _backoff >= maxProbes)
            {
                WriteErr();
                return;
            }
        }
        if (_probesOut >= maxProbes) WriteErr();
        else SendProbe0();
    }

    /// <summary>tcp_send_probe0(): a window probe, then the next one after probe0_base · 2^backoff (at most rto_max).</summary>
    private void SendProbe0()
    {
        bool sent = WriteWakeup(TcpExtMib.TCPWinProbe);
        if (_packetsOut > 0 || _sndNxt == _writeSeq)
        {
            // The probe carried data (the window had opened a little): the RTO takes over.
            _probesOut = 0;
            _backoff = 0;
            _probesTstampUs = 0;
            return;
        }
        _probesOut++;
        long when;
        if (sent)
        {
            if (_backoff < _host.TcpSysctl.TcpRetries2) _backoff++;
            when = Probe0When;
        }
        else when = TcpResourceProbeIntervalUs;
        ResetRetransmitTimer(TimerKind.Probe0, ClampProbe0ToUserTimeout(when));
    }

    /// <summary>tcp_probe0_when(): probe0_base · 2^min(backoff, ilog2(TCP_RTO_MAX / TCP_RTO_MIN) + 1), at most rto_max.</summary>
    private long Probe0When => Math.Min(Probe0Base << Math.Min(_backoff, 10), RtoMaxUs);

    /// <summary>tcp_clamp_probe0_to_user_timeout().</summary>
    private long ClampProbe0ToUserTimeout(long when)
    {
        if (_userTimeoutMs == 0 || _probesTstampUs == 0) return when;
        long remaining = _userTimeoutMs * 1000L - Math.Max(0, NowUs - _probesTstampUs);
        return Math.Min(Math.Max(remaining, TcpTimeoutMinUs), when);
    }

    /// <summary>tcp_ack_probe(): an ACK while nothing is in flight either opens the window for the send head (stop probing) or re-arms the probe.</summary>
    private void AckProbe()
    {
        if (_sndNxt == _writeSeq) return;
        var dataEnd = _finQueued ? _writeSeq - 1 : _writeSeq;
        int len = Math.Min(CurrentMss(), dataEnd - _sndNxt);
        bool fin = _finQueued && _sndNxt + len == dataEnd;
        if (!SeqNum.After(_sndNxt + len + (fin ? 1 : 0), _sndUna + _sndWnd))
        {
            _backoff = 0;
            _probesTstampUs = 0;
            if (_pendingTimer == TimerKind.Probe0) ClearRetransmitTimer();
        }
        else ResetRetransmitTimer(TimerKind.Probe0, ClampProbe0ToUserTimeout(Probe0When));
    }

    // ------------------------------------------------------------------ delayed ACK

    /// <summary>tcp_delack_timer_handler(): send the owed ACK; inflate ato when it was missed (not interactive).</summary>
    private void OnDelackTimer()
    {
        if (State is TcpState.Close or TcpState.Listen) return;
        if ((_ackPending & AckTimer) == 0) return;
        if (FiredEarly(_delackTimer!, _delackAt)) return;
        _ackPending &= unchecked((byte)~AckTimer);
        if ((_ackPending & AckSched) == 0) return;
        if (!InPingpongMode) _ato = Math.Min(_ato << 1, _rto); // missed: inflate ato
        else
        {
            _pingpong = 0; // missed in interactive mode: leave it, deflate ato
            _ato = TcpDelackMinUs;
        }
        SendAck();
        _host.TcpExtStats.Inc(TcpExtMib.DelayedACKs);
    }

    // ------------------------------------------------------------------ sk_timer: keepalive and FIN_WAIT2

    /// <summary>tcp_keepalive_timer() (§7 and §4.3).</summary>
    private void OnKeepaliveTimer()
    {
        if (_keepaliveAt == 0 || State == TcpState.Close) return;
        if (FiredEarly(_keepaliveTimer!, _keepaliveAt)) return;
        _keepaliveAt = 0;
        if (State == TcpState.FinWait2 && IsOrphan)
        {
            if (Linger2 >= 0)
            {
                long tmo = FinTimeUs() - TcpTimewaitLenUs;
                if (tmo > 0) { EnterTimeWait(TcpState.FinWait2, tmo); return; }
            }
            SendActiveReset();
            Done();
            return;
        }
        if (!_keepOpen || State is TcpState.Close or TcpState.SynSent or TcpState.Listen) return;
        if (_packetsOut > 0 || _sndNxt != _writeSeq)
        {
            ResetKeepaliveTimer(KeepaliveTimeUs);
            return;
        }
        long elapsed = KeepaliveElapsedUs();
        long next;
        if (elapsed >= KeepaliveTimeUs)
        {
            bool dead = _userTimeoutMs > 0
                ? elapsed >= _userTimeoutMs * 1000L && _probesOut > 0
                : _probesOut >= KeepaliveProbes;
            if (dead)
            {
                SendActiveReset();
                WriteErr();
                return;
            }
            if (WriteWakeup(TcpExtMib.TCPKeepAlive))
            {
                _probesOut++;
                next = KeepaliveIntvlUs;
            }
            else next = TcpResourceProbeIntervalUs;
        }
        else next = KeepaliveTimeUs - elapsed;
        ResetKeepaliveTimer(next);
    }

    // ------------------------------------------------------------------ TIME_WAIT

    /// <summary>
    /// tcp_time_wait(): hand the connection to a TIME_WAIT (or orphaned FIN_WAIT2) mini-socket and close the
    /// full socket; with tcp_max_tw_buckets reached the connection simply closes (TCPTimeWaitOverflow).
    /// </summary>
    private void EnterTimeWait(TcpState substate, long timeoUs)
    {
        long rto = _rto;
        long min = (rto << 2) - (rto >> 1);
        timeoUs = substate == TcpState.TimeWait ? TcpTimewaitLenUs : Math.Max(timeoUs, min);
        _layer.AddTimeWait(this, substate, timeoUs, _sndNxt, _rcvNxt, ReceiveWindow, _rcvWscale,
            _tstampOk, _tsRecent, _tsRecentStampUs, _tsOffset);
        SetState(TcpState.Close);
        ClearTimers();
        _shutdown = RcvShutdown | SendShutdown;
        if (IsOrphan || _closed) Destroy();
        else WakeUp();
    }
}
