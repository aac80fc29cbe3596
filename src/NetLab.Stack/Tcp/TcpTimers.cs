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
        _compressedAckAt = 0;
        _compressedAck = 0;
        _ackPending = 0;
    }

    /// <summary>tcp_rearm_rto(): RTO from now, or what is left of it from the head's transmission after a TLP/REO timer.</summary>
    private void RearmRto()
    {
        if (_packetsOut == 0) { if (_pendingTimer != TimerKind.Probe0) ClearRetransmitTimer(); return; }
        long rto = _rto;
        if (_pendingTimer is TimerKind.ReoTimeout or TimerKind.LossProbe) rto = Math.Max(RtoDeltaUs(), 1);
        ResetRetransmitTimer(TimerKind.Retrans, ClampRtoToUserTimeout(rto));
    }

    /// <summary>tcp_event_new_data_sent(): arm the RTO if it was not running.</summary>
    private void RearmRtoIfIdle()
    {
        if (_pendingTimer is TimerKind.None or TimerKind.Probe0) RearmRto();
    }

    /// <summary>tcp_rto_delta_us(): time until the head of the retransmit queue is an RTO old.</summary>
    private long RtoDeltaUs()
    {
        if (_rtx.Count == 0) return _rto;
        return _rtx.Head.TxUs + _rto - NowUs;
    }

    /// <summary>tcp_probe0_base(): max(RTO, TCP_RTO_MIN).</summary>
    private long Probe0Base => Math.Max(_rto, _host.TcpSysctl.TcpRtoMinUs);

    private long ClampRtoToUserTimeout(long rto)
    {
        if (_userTimeoutMs == 0 || _retransStampUs < 0) return rto;
        long remaining = _retransStampUs + _userTimeoutMs * 1000L - NowUs;
        return Math.Max(1000, Math.Min(rto, remaining));
    }

    private long KeepaliveTimeUs => (_keepIdle > 0 ? _keepIdle : _host.TcpSysctl.TcpKeepaliveTime) * 1_000_000L;
    private long KeepaliveIntvlUs => (_keepIntvl > 0 ? _keepIntvl : _host.TcpSysctl.TcpKeepaliveIntvl) * 1_000_000L;
    private int KeepaliveProbes => _keepCnt > 0 ? _keepCnt : _host.TcpSysctl.TcpKeepaliveProbes;

    /// <summary>keepalive_time_elapsed(): since the last data or ACK received.</summary>
    private long KeepaliveElapsedUs() => NowUs - Math.Max(_lrcvtimeUs, _rcvTstampUs);

    // ------------------------------------------------------------------ the retransmit timer

    private void OnRetransmitTimer()
    {
        if (_pendingTimer == TimerKind.None || State == TcpState.Close) return;
        if (FiredEarly(_retransmitTimer!, _retransmitAt)) return;
        var kind = _pendingTimer;
        _pendingTimer = TimerKind.None;
        _retransmitAt = 0;
        switch (kind)
        {
            case TimerKind.Retrans: RetransmitTimer(); break;
            case TimerKind.Probe0: ProbeTimer(); break;
            case TimerKind.LossProbe: SendLossProbe(); break;
            case TimerKind.ReoTimeout: RackReoTimeout(); break;
        }
    }

    /// <summary>tcp_retransmit_timer() (§5.3): give-up check, enter Loss, resend the head, back off.</summary>
    private void RetransmitTimer()
    {
        if (_packetsOut == 0 || _rtx.Count == 0) return;
        if (_sndWnd == 0 && !IsOrphan && State is not (TcpState.SynSent or TcpState.SynRecv))
        {
            // The peer shrank its window to zero under data in flight: probe by retransmitting the head.
            long sinceAck = NowUs - _rcvTstampUs;
            long rtoMax2 = 2 * RtoMaxUs;
            if (sinceAck > rtoMax2 && _retransStampUs >= 0 && NowUs - _retransStampUs > rtoMax2)
            {
                WriteErr();
                return;
            }
            EnterLoss();
            RetransmitSeg(0);
            BackOffAndRearm();
            return;
        }
        _host.TcpExtStats.Inc(TcpExtMib.TCPTimeouts);
        if (WriteTimeout()) return;
        if (_retransmits == 0)
        {
            var mib = _caState switch
            {
                TcpCaState.Recovery => _sackOk ? TcpExtMib.TCPSackRecoveryFail : TcpExtMib.TCPRenoRecoveryFail,
                TcpCaState.Loss => TcpExtMib.TCPLossFailures,
                _ when _caState == TcpCaState.Disorder || _sackedOut > 0 => _sackOk ? TcpExtMib.TCPSackFailures : TcpExtMib.TCPRenoFailures,
                _ => (TcpExtMib?)null,
            };
            if (mib is { } m) _host.TcpExtStats.Inc(m);
        }
        EnterLoss();
        _retransmits++;
        _totalRto++;
        if (!RetransmitSeg(0))
        {
            ResetRetransmitTimer(TimerKind.Retrans, TcpResourceProbeIntervalUs);
            return;
        }
        if (_caState == TcpCaState.Loss && Cc.InSlowStart && State is not (TcpState.SynSent or TcpState.SynRecv))
            _host.TcpExtStats.Inc(TcpExtMib.TCPSlowStartRetrans);
        BackOffAndRearm();
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

    /// <summary>tcp_write_timeout() (§5.4): true when the connection was given up (ETIMEDOUT).</summary>
    private bool WriteTimeout()
    {
        var sys = _host.TcpSysctl;
        bool expired;
        if (State is TcpState.SynSent or TcpState.SynRecv)
        {
            int retryUntil = _synCnt > 0 ? _synCnt : sys.TcpSynRetries;
            int maxRetransmits = retryUntil + (State == TcpState.SynSent ? sys.TcpSynLinearTimeouts : 0);
            expired = _retransmits >= maxRetransmits || RetransmitsTimedOut(retryUntil, TcpTimeoutInitUs);
        }
        else
        {
            int retryUntil = sys.TcpRetries2;
            if (IsOrphan)
            {
                bool alive = _rto < RtoMaxUs;
                retryUntil = OrphanRetries(alive);
            }
            expired = RetransmitsTimedOut(retryUntil, sys.TcpRtoMinUs);
        }
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

    /// <summary>retransmits_timed_out(): time since the first retransmitted segment was sent, against the model.</summary>
    private bool RetransmitsTimedOut(int boundary, long rtoBaseUs)
    {
        if (_retransmits == 0) return false;
        long timeout = _userTimeoutMs > 0 ? _userTimeoutMs * 1000L : ModelTimeoutUs(boundary, rtoBaseUs);
        return NowUs - _retransStampUs >= timeout;
    }

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
        _host.TcpExtStats.Inc(TcpExtMib.TCPAbortOnTimeout);
        DoneWithError(_skErrSoft != Errno.None ? _skErrSoft : Errno.ETIMEDOUT);
    }

    /// <summary>tcp_rack_reo_timeout(): re-run RACK; losses start recovery and retransmit.</summary>
    private void RackReoTimeout()
    {
        uint lostBefore = _lostOut;
        RackDetectLoss();
        if (_lostOut > lostBefore)
        {
            if (_caState < TcpCaState.Recovery) EnterRecovery();
            XmitRetransmitQueue();
        }
        if (_pendingTimer == TimerKind.None) RearmRto();
    }

    // ------------------------------------------------------------------ zero-window probes

    /// <summary>tcp_probe_timer(): probe a closed window; give up after tcp_retries2 unanswered probes.</summary>
    private void ProbeTimer()
    {
        if (_packetsOut > 0 || _sndNxt == _writeSeq)
        {
            _probesOut = 0;
            return;
        }
        int maxProbes = IsOrphan ? OrphanRetries(_rto < RtoMaxUs) : _host.TcpSysctl.TcpRetries2;
        if (_probesOut >= maxProbes)
        {
            WriteErr();
            return;
        }
        SendProbe0();
    }

    /// <summary>tcp_send_probe0(): a window probe, then the next one after probe0_base · 2^backoff (at most rto_max).</summary>
    private void SendProbe0()
    {
        bool ok = WriteWakeup(TcpExtMib.TCPWinProbe);
        if (_packetsOut > 0 || _sndNxt == _writeSeq)
        {
            _probesOut = 0;
            _backoff = 0;
            return;
        }
        long when;
        if (ok)
        {
            _probesOut++;
            if (_probesOut == 1) _probesTstampUs = NowUs;
            if (_backoff < _host.TcpSysctl.TcpRetries2) _backoff++;
            when = Math.Min(Probe0Base << Math.Min(_backoff, 10), RtoMaxUs);
        }
        else when = TcpResourceProbeIntervalUs;
        ResetRetransmitTimer(TimerKind.Probe0, when);
    }

    /// <summary>tcp_ack_probe(): an ACK during probing either opens the window (stop) or re-arms the probe.</summary>
    private void AckProbe()
    {
        if (_sndNxt == _writeSeq || _packetsOut > 0) return;
        var dataEnd = _finQueued ? _writeSeq - 1 : _writeSeq;
        int next = Math.Min(CurrentMss(), Math.Max(dataEnd - _sndNxt, 0));
        if (!SeqNum.After(_sndNxt + next, _sndUna + _sndWnd))
        {
            _backoff = 0;
            if (_pendingTimer == TimerKind.Probe0) ClearRetransmitTimer();
        }
        else
        {
            ResetRetransmitTimer(TimerKind.Probe0, Math.Min(Probe0Base << Math.Min(_backoff, 10), RtoMaxUs));
        }
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
