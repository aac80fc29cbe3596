using NetLab.Core.Packets;
using NetLab.Stack.Tcp.CongestionControl;

namespace NetLab.Stack.Tcp;

// The fields of struct tcp_sock / inet_connection_sock, and the state transitions of tcp_set_state(),
// tcp_done() and tcp_reset().
public sealed partial class TcpSocket
{
    private const int RcvShutdown = 1, SendShutdown = 2; // sk_shutdown bits

    // Sequence space (RFC 9293 §3.3.1 names in comments).
    private SeqNum _iss;          // ISS
    private SeqNum _sndUna;       // SND.UNA
    private SeqNum _sndNxt;       // SND.NXT
    private SeqNum _writeSeq;     // end of queued data (+1 for a queued FIN)
    private SeqNum _sndWl1;       // SND.WL1
    private SeqNum _sndSml;       // snd_sml: end of the last small segment sent (Minshall's Nagle)
    private SeqNum _pushedSeq;
    private SeqNum _highSeq;      // snd_nxt when recovery/loss started
    private SeqNum _rttSeq;
    private SeqNum _undoMarker;
    private bool _undoMarkerSet;
    private int _undoRetrans;
    private int _sndWnd;          // SND.WND in bytes (scaled)
    private int _maxWindow;
    private SeqNum _irs;          // IRS
    private SeqNum _rcvNxt;       // RCV.NXT
    private SeqNum _rcvWup;       // rcv_wup: rcv_nxt when the window was last advertised
    private SeqNum _copiedSeq;    // next byte the application reads
    private int _rcvWnd;          // RCV.WND last advertised, bytes
    private int _rcvSsthresh;
    private int _windowClamp;

    // Negotiated options (tp->rx_opt).
    private bool _tstampOk, _sackOk, _wscaleOk;
    private int _sndWscale, _rcvWscale;
    private uint _tsRecent;
    private long _tsRecentStampUs;
    private uint _tsOffset;
    private int _mssClamp = TcpMssDefault; // peer's MSS
    private int _userMss;
    private int _advmss;
    private int _mssCache;
    private int _tcpHeaderLen = 20;
    private int _pmtuCookie;

    // RTT and RTO (tcp_rtt_estimator), µs.
    private long _srttUs, _mdevUs, _mdevMaxUs, _rttvarUs;
    private long _rto;               // icsk_rto, µs
    private int _backoff;            // icsk_backoff
    private int _retransmits;        // icsk_retransmits
    private int _totalRto;
    private int _totalRetrans;
    private long _retransStampUs = -1; // retrans_stamp; -1 = none (Linux uses 0, but virtual time starts at 0)
    private long _minRttUs = long.MaxValue;
    private long _rcvTstampUs;       // rcv_tstamp: last ACK received
    private long _lsndtimeUs;        // lsndtime: last data sent
    private int _probesOut;
    private long _probesTstampUs;

    // Congestion control.
    internal readonly TcpCongestionState Cc = new();
    private ICongestionControl _ca;
    private TcpCaState _caState;
    private uint _priorSsthresh;
    private int _prrDelivered, _prrOut;
    private int _reordering;
    private bool _reordSeen;         // tp->reord_seen != 0
    private bool _frto;
    private bool _isSackReneg;
    private SeqNum _tlpHighSeq;
    private bool _tlpActive;         // tp->tlp_high_seq != 0
    private bool _tlpRetrans;
    // RACK (tp->rack).
    private long _rackMstampUs;
    private SeqNum _rackEndSeq;
    private long _rackRttUs;
    private bool _rackAdvanced;
    private int _rackReoWndSteps = 1;
    private int _rackReoWndPersist;
    private bool _rackDsackSeen;
    private long _rackLastDelivered;
    private SeqNum _highestSackEnd;  // end_seq of the highest SACKed segment (tcp_highest_sack_seq)
    private uint _packetsOut, _sackedOut, _lostOut, _retransOut;
    private long _lost;              // tp->lost: segments ever marked lost
    private long _delivered, _deliveredUs, _firstTxUs; // tp->delivered, delivered_mstamp, first_tx_mstamp
    private long _appLimitedUntil; // tp->app_limited as a delivered count (0 = not limited)
    private long _rateDelivered, _rateIntervalUs;
    private bool _rateAppLimited;
    private long _deliveryRateBps;
    private bool _deliveryRateAppLimited;
    // tp->rtt_min: a windowed min filter (lib/win_minmax.c), three (jiffies, µs) samples.
    private MinmaxSamples _rttMin;       // tp->rtt_min's three samples, valid once _rttMinInit (inline: no array per socket)
    private bool _rttMinInit;
    // tp->rx_opt of the segment being processed (saw_tstamp, rcv_tsecr with tsoffset removed).
    private bool _rxSawTstamp;
    private uint _rxTsecr;
    private long _bytesAcked, _bytesReceived, _bytesSent, _bytesRetrans;
    private int _segsOut, _segsIn, _dataSegsOut, _dataSegsIn;
    private int _dsackDups;

    // Delayed ACK (icsk_ack).
    private const byte AckSched = 1, AckTimer = 2, AckPushed = 4, AckPushed2 = 8, AckNow = 16;
    private byte _ackPending;
    private long _ato;
    private int _quick;
    private int _pingpong;
    private long _lrcvtimeUs;
    private long _lrcvtimeJiffies;   // icsk_ack.lrcvtime (ms)
    private int _lastSegSize;        // icsk_ack.last_seg_size
    private int _rcvMss;
    // SACK compression (tp->compressed_ack, dup_ack_counter, compressed_ack_rcv_nxt, compressed_ack_timer).
    private int _compressedAck;
    private int _dupAckCounter;
    private SeqNum _compressedAckRcvNxt;
    private long _compressedAckAt;   // ns, 0 = not armed
    private NetLab.Core.Time.SimTimer? _compressedAckTimer;
    private long _lastOowAckUs;

    // Receive-side SACK state (selective_acks, duplicate_sack).
    private SackBlocks4 _selectiveAcks;  // rx_opt.selective_acks, inline
    private int _numSacks;
    private SackBlock _dsack;
    private bool _dsackPending;

    // Receive buffer autotuning (rcvq_space, rcv_rtt_est).
    private int _rcvqSpace;
    private SeqNum _rcvqSeq;
    private long _rcvqTimeUs;
    private long _rcvRttUs;       // ×8 as Linux
    private SeqNum _rcvRttSeq;
    private long _rcvRttTimeUs;
    private uint _rcvRttLastTsecr;

    // Buffers.
    private ByteRing _sndRing = new();  // a mutable struct: never copy it
    private SeqNum _sndRingSeq;       // sequence number of _sndRing's first byte
    private readonly RtxQueue _rtx = new();
    private ByteRing _rcvQueue = new(); // a mutable struct: never copy it
    private List<OfoSegment>? _ofoStore; // created by the first out-of-order segment
    private List<OfoSegment> _ofo => _ofoStore ??= [];
    private int OfoCount => _ofoStore?.Count ?? 0;
    private int _sndBuf, _rcvBuf;
    private bool _sndBufLocked, _rcvBufLocked;
    private bool _sndbufFull;
    private int _rcvLowat = 1;
    private bool _finQueued;        // a FIN is queued at _writeSeq - 1
    private bool _finReceived;

    // Flags and options.
    private int _shutdown;
    private bool _noDelay, _cork, _keepOpen;
    private bool _naglePush;          // TCP_NAGLE_PUSH in tp->nonagle
    private TcpSmallQueues? _tsq;     // the egress device's TSQ state, once looked up
    private Link.NetDevice? _egressDevice; // sk_dst_get()->dev, once looked up
    private long _pacingRate = long.MaxValue; // sk_pacing_rate (bytes/s): ~0 until tcp_update_pacing_rate()
    private long _wstampNs;           // tcp_wstamp_ns: the departure time of the last segment (ahead of now while pacing)
    private long _maxPacingRate = long.MaxValue; // sk_max_pacing_rate (SO_MAX_PACING_RATE)
    private bool _pacingNeeded;       // sk_pacing_status == SK_PACING_NEEDED: TCP paces itself (tcp_needs_internal_pacing)
    private Core.Time.SimTimer? _pacingTimer; // tp->pacing_timer
    internal bool TsqQueued;          // TSQ_QUEUED: waiting for a transmit completion
    // tcp_cwnd_validate() state.
    private SeqNum _cwndUsageSeq;
    private uint _sndCwndUsed;
    private long _sndCwndStampUs;
    private int _keepIdle, _keepIntvl, _keepCnt, _synCnt, _userTimeoutMs;
    private bool _closed, _everConnected, _bindLocked, _connectFailed, _freed;
    private int _writePending;      // sk_write_pending: writers blocked until the connection is established
    private Errno _skErr, _skErrSoft;

    // Listening (icsk_accept_queue).
    private Queue<TcpSocket>? _acceptQueueStore; // icsk_accept_queue, created by listen()
    private Queue<TcpSocket> _acceptQueue => _acceptQueueStore ??= new();
    private int _maxAckBacklog;
    private int _reqQueueLen, _reqYoung;
    private bool _synfloodWarned;
    private long _lastOverflowUs = long.MinValue;
    private TcpSocket? _parent;

    /// <summary>An out-of-order segment's payload, kept until the hole before it fills (tcp_data_queue_ofo).</summary>
    private struct OfoSegment
    {
        public SeqNum Seq;
        public SeqNum EndSeq;  // including a FIN
        public Packet Payload; // pooled packet whose Data is the payload
        public bool Fin;
    }

    /// <summary>sk_wmem_queued, approximated by the bytes queued (payload, not truesize).</summary>
    private int SendQueuedBytes => _sndRing.Count;

    private long NowUs => _host.Now.Nanoseconds / 1000;

    // ------------------------------------------------------------------ transitions

    /// <summary>tcp_set_state(): CurrEstab and EstabResets bookkeeping.</summary>
    internal void SetState(TcpState next)
    {
        var old = State;
        if (old == next) return;
        if (next == TcpState.Established) _host.TcpStats.Add(TcpMib.CurrEstab, 1);
        else if (old == TcpState.Established) _host.TcpStats.Add(TcpMib.CurrEstab, -1);
        if (next == TcpState.Close && old is TcpState.Established or TcpState.CloseWait) _host.TcpStats.Inc(TcpMib.EstabResets);
        State = next;
        if (next == TcpState.Close && old != TcpState.Listen) _layer.UnhashEstablished(this);
    }

    /// <summary>tcp_done(): the connection is over. Frees it when orphaned.</summary>
    internal void Done()
    {
        if (State is TcpState.SynSent or TcpState.SynRecv) _host.TcpStats.Inc(TcpMib.AttemptFails);
        SetState(TcpState.Close);
        ClearTimers();
        _shutdown = RcvShutdown | SendShutdown;
        if (IsOrphan || _closed) Destroy();
        else WakeUp();
    }

    /// <summary>tcp_done_with_error(): report <paramref name="err"/> to the application and close.</summary>
    private void DoneWithError(Errno err)
    {
        _skErr = err;
        if (State is TcpState.SynSent) _connectFailed = true;
        PurgeWriteQueue();
        Done();
    }

    /// <summary>tcp_reset(): a valid RST arrived.</summary>
    private void ResetReceived()
    {
        var err = State switch
        {
            TcpState.SynSent => Errno.ECONNREFUSED,
            TcpState.CloseWait => Errno.EPIPE,
            TcpState.Close => Errno.None,
            _ => Errno.ECONNRESET,
        };
        if (State == TcpState.Close) return;
        if (State == TcpState.SynRecv && _parent is not null)
        {
            // A child still in the accept queue: it stays there and reports the reset on first use.
            _skErr = err;
            PurgeWriteQueue();
            SetState(TcpState.Close);
            ClearTimers();
            WakeUp();
            return;
        }
        DoneWithError(err);
    }

    /// <summary>tcp_disconnect(): abort, sending a RST where the peer believes the connection is alive.</summary>
    private void Disconnect()
    {
        var old = State;
        if (old is TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.FinWait2 or TcpState.SynRecv
            || (old is TcpState.Closing or TcpState.LastAck && _writeSeq != _sndNxt))
        {
            SetState(TcpState.Close);
            SendActiveReset();
        }
        else if (old == TcpState.SynSent)
        {
            SetState(TcpState.Close);
        }
        _skErr = Errno.ECONNRESET;
        PurgeWriteQueue();
        ClearTimers();
        SetState(TcpState.Close);
    }

    /// <summary>tcp_close_state(): the state after our FIN; true when a FIN must be sent.</summary>
    private bool CloseState()
    {
        var (next, fin) = State switch
        {
            TcpState.Established => (TcpState.FinWait1, true),
            TcpState.SynRecv => (TcpState.FinWait1, true),
            TcpState.CloseWait => (TcpState.LastAck, true),
            TcpState.SynSent => (TcpState.Close, false),
            _ => (State, false),
        };
        SetState(next);
        return fin;
    }

    /// <summary>The socket is gone: unhash, release timers and buffers (inet_csk_destroy_sock).</summary>
    internal void Destroy()
    {
        if (!_freed)
        {
            _freed = true;
            _layer.AllocatedCount--;
        }
        ClearTimers();
        PurgeWriteQueue();
        _rcvQueue.Clear();
        DropOfoQueue();
        _layer.Unhash(this);
        if (IsOrphan)
        {
            IsOrphan = false;
            _layer.OrphanCount--;
        }
        WakeUp();
    }

    private void PurgeWriteQueue()
    {
        _sndRing.Clear();
        _rtx.Clear();
        _packetsOut = _sackedOut = _lostOut = _retransOut = 0;
        SyncCc();
    }

    private void DropOfoQueue()
    {
        _numSacks = 0;
        if (_ofoStore is null) return;
        foreach (var o in _ofoStore) o.Payload.Dispose();
        _ofoStore.Clear();
    }

    /// <summary>tcp_fin_time(): linger2 or tcp_fin_timeout, at least 3.5 RTO.</summary>
    private long FinTimeUs()
    {
        long t = (Linger2 > 0 ? Linger2 : _host.TcpSysctl.TcpFinTimeout) * 1_000_000L;
        long rto = _rto;
        return Math.Max(t, (rto << 2) - (rto >> 1));
    }

    /// <summary>tcp_check_oom() for orphans: too many → RST and close (TCPAbortOnMemory).</summary>
    private bool CheckOrphanOverflow()
    {
        if (_layer.OrphanCount <= _host.TcpSysctl.TcpMaxOrphans) return false;
        _host.TcpExtStats.Inc(TcpExtMib.TCPAbortOnMemory);
        SetState(TcpState.Close);
        SendActiveReset();
        Destroy();
        return true;
    }

    /// <summary>Copies the tcp_sock fields the congestion-control module reads.</summary>
    private void SyncCc()
    {
        Cc.MssCache = _mssCache;
        Cc.SrttUs = _srttUs;
        Cc.MinRttUs = _minRttUs;
        Cc.NowUs = NowUs;
        Cc.LastSendUs = _lsndtimeUs;
        Cc.SndNxt = _sndNxt.Value;
        Cc.SndUna = _sndUna.Value;
        Cc.PacketsOut = _packetsOut;
        Cc.SackedOut = _sackedOut;
        Cc.LostOut = _lostOut;
        Cc.RetransOut = _retransOut;
        Cc.Delivered = _delivered;
        Cc.CaState = _caState;
    }

    private uint PacketsInFlight => _packetsOut - (_sackedOut + _lostOut) + _retransOut;
}

/// <summary>struct minmax's three samples (lib/win_minmax.c), stored inline in the socket.</summary>
[System.Runtime.CompilerServices.InlineArray(3)]
internal struct MinmaxSamples
{
    private (long T, long V) _sample;
}

/// <summary>Four SACK blocks (TCP_NUM_SACKS), stored inline in the socket.</summary>
[System.Runtime.CompilerServices.InlineArray(4)]
internal struct SackBlocks4
{
    private SackBlock _block;
}
