using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Stack.IPv4;
using NetLab.Stack.Sockets;
using NetLab.Stack.Tcp.CongestionControl;

namespace NetLab.Stack.Tcp;

/// <summary>shutdown() how (SHUT_RD, SHUT_WR, SHUT_RDWR).</summary>
public enum ShutdownHow { Read = 0, Write = 1, Both = 2 }

/// <summary>
/// A TCP socket (struct tcp_sock): the non-blocking core with errno results (CONVENTIONS rule 15) and
/// async adapters that run on the world's scheduler. The protocol lives in partial files named after
/// Linux's: TcpInput.cs (tcp_input.c), TcpOutput.cs (tcp_output.c), TcpTimers.cs (tcp_timer.c),
/// TcpRecovery.cs (SACK, RACK, PRR, undo), TcpListen.cs (request socks, accept queue, cookies).
/// </summary>
public sealed partial class TcpSocket : IDisposable
{
    // include/net/tcp.h constants.
    internal const long TcpTimeoutInitUs = 1_000_000;      // TCP_TIMEOUT_INIT
    internal const long TcpTimeoutFallbackUs = 3_000_000;  // TCP_TIMEOUT_FALLBACK
    internal const long TcpTimeoutMinUs = 2_000;           // TCP_TIMEOUT_MIN: 2 jiffies at HZ = 1000
    internal const long TcpDelackMinUs = 40_000;           // TCP_DELACK_MIN = TCP_ATO_MIN
    internal const long TcpDelackMaxUs = 200_000;          // TCP_DELACK_MAX
    internal const long TcpTimewaitLenUs = 60_000_000;     // TCP_TIMEWAIT_LEN
    internal const long TcpFinTimeoutMaxUs = 120_000_000;  // TCP_FIN_TIMEOUT_MAX
    internal const long TcpResourceProbeIntervalUs = 500_000; // TCP_RESOURCE_PROBE_INTERVAL
    internal const int TcpMssDefault = 536;                // TCP_MSS_DEFAULT
    internal const int TcpMinMss = 88;                     // TCP_MIN_MSS
    internal const int TcpMaxQuickacks = 16;               // TCP_MAX_QUICKACKS
    internal const int MaxTcpWindow = 32767;               // MAX_TCP_WINDOW

    private readonly Host _host;
    private readonly TcpLayer _layer;
    private readonly WaitQueue _wait;

    internal TcpSocket(Host host, TcpLayer layer)
    {
        _host = host;
        _wait = new(host.Scheduler);
        _layer = layer;
        var sys = host.TcpSysctl;
        // tcp_init_sock(): buffers from tcp_wmem[1]/tcp_rmem[1], cwnd 10, RTO 1 s, mdev 1 s.
        _sndBuf = sys.TcpWmem[1];
        _rcvBuf = sys.TcpRmem[1];
        _rto = TcpTimeoutInitUs;
        _mdevUs = TcpTimeoutInitUs;
        _reordering = sys.TcpReordering;
        _mssCache = TcpMssDefault;
        Cc.MssCache = TcpMssDefault;
        Cc.Mib = host.TcpExtStats;
        _ca = CongestionControlRegistry.Create(sys.TcpCongestionControl) ?? new RenoCongestionControl();
        layer.AllocatedCount++; // tcp_sockets_allocated
        Id = layer.NextSocketId();
    }

    /// <summary>A host-unique number for the socket, as ss -e prints it (inode and sk cookie stand-in).</summary>
    public long Id { get; }

    /// <summary>shutdown() state (sk_shutdown): bit 1 receive, bit 2 send, as ss -e prints it ("&lt;-&gt;").</summary>
    public int ShutdownMask => _shutdown;

    public TcpState State { get; private set; } = TcpState.Close;
    public Ipv4Address LocalAddress { get; internal set; }
    public ushort LocalPort { get; internal set; }
    public Ipv4Address RemoteAddress { get; internal set; }
    public ushort RemotePort { get; internal set; }

    internal Host Host => _host;
    internal TcpLayer Layer => _layer;

    /// <summary>Fires on every state change or data/space event (sk_data_ready / sk_write_space / sk_state_change).</summary>
    public event Action? Changed;

    // ------------------------------------------------------------------ options

    /// <summary>TCP_NODELAY: disables Nagle; setting it pushes pending data.</summary>
    /// <summary>
    /// SO_MAX_PACING_RATE in bytes per second (long.MaxValue: none). Any other value makes TCP pace itself
    /// (sk_pacing_status SK_PACING_NEEDED, as without sch_fq) at min(its pacing rate, this).
    /// </summary>
    public long MaxPacingRate
    {
        get => _maxPacingRate;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _maxPacingRate = value;
            if (value != long.MaxValue) _pacingNeeded = true;
            _pacingRate = Math.Min(_pacingRate, value);
        }
    }

    public bool NoDelay
    {
        get => _noDelay;
        set
        {
            // __tcp_sock_set_nodelay(): nonagle |= TCP_NAGLE_OFF | TCP_NAGLE_PUSH, and push what waits.
            _noDelay = value;
            if (!value) return;
            _naglePush = true;
            PushPendingFrames();
        }
    }

    /// <summary>TCP_CORK: hold partial segments; clearing it pushes them (TCP_NAGLE_PUSH).</summary>
    public bool Cork
    {
        get => _cork;
        set
        {
            // __tcp_sock_set_cork(): uncorking pushes with the socket's nonagle (TCP_NAGLE_PUSH only with NODELAY).
            _cork = value;
            if (value) return;
            if (_noDelay) _naglePush = true;
            PushPendingFrames();
        }
    }

    /// <summary>TCP_QUICKACK: 1 leaves interactive (pingpong) mode and sends a pending ACK; 0 enters it.</summary>
    public bool QuickAck
    {
        get => !InPingpongMode;
        set
        {
            // __tcp_sock_set_quickack(): 0 enters interactive mode; 1 leaves it and, if an ACK is owed, sends it
            // through tcp_cleanup_rbuf() as for pushed data (so only once the receive queue is empty).
            if (!value) { _pingpong = PingpongThresh; return; }
            _pingpong = 0;
            if (State is TcpState.Established or TcpState.CloseWait && (_ackPending & AckSched) != 0)
            {
                _ackPending |= AckPushed;
                CleanupRbuf(1);
            }
        }
    }

    /// <summary>SO_KEEPALIVE.</summary>
    public bool KeepAlive
    {
        get => _keepOpen;
        set
        {
            _keepOpen = value;
            if (value && State is not (TcpState.Close or TcpState.Listen)) ResetKeepaliveTimer(KeepaliveTimeUs);
            else if (!value && State != TcpState.FinWait2) _keepaliveAt = 0;
        }
    }

    /// <summary>TCP_KEEPIDLE in seconds (1..32767); 0 uses tcp_keepalive_time. Re-arms for the remaining time, as Linux.</summary>
    public int KeepIdle
    {
        get => _keepIdle;
        set
        {
            if (value is < 1 or > 32767) throw new NetLabSocketException(Errno.EINVAL);
            _keepIdle = value;
            if (_keepOpen && IsSynchronized) ResetKeepaliveTimer(Math.Max(0, KeepaliveTimeUs - KeepaliveElapsedUs()));
        }
    }

    /// <summary>TCP_KEEPINTVL in seconds (1..32767).</summary>
    public int KeepInterval
    {
        get => _keepIntvl;
        set => _keepIntvl = value is >= 1 and <= 32767 ? value : throw new NetLabSocketException(Errno.EINVAL);
    }

    /// <summary>TCP_KEEPCNT (1..127).</summary>
    public int KeepCount
    {
        get => _keepCnt;
        set => _keepCnt = value is >= 1 and <= 127 ? value : throw new NetLabSocketException(Errno.EINVAL);
    }

    /// <summary>SO_LINGER: null = off; 0 = abortive close (RST); n = close() waits up to n seconds for the FIN's ACK.</summary>
    public int? Linger { get; set; }

    /// <summary>
    /// TCP_LINGER2 in seconds: FIN_WAIT2 lifetime of an orphan (0 = tcp_fin_timeout, &lt; 0 = abort at once). Stored as
    /// do_tcp_setsockopt() does: any negative value as -1, at most TCP_FIN_TIMEOUT_MAX (120 s).
    /// </summary>
    public int Linger2
    {
        get => _linger2;
        set => _linger2 = value < 0 ? -1 : Math.Min(value, (int)(TcpFinTimeoutMaxUs / 1_000_000));
    }
    private int _linger2;

    /// <summary>TCP_SYNCNT (1..127): SYN retransmissions before giving up; 0 = tcp_syn_retries.</summary>
    public int SynCount
    {
        get => _synCnt;
        set => _synCnt = value is >= 1 and <= 127 ? value : throw new NetLabSocketException(Errno.EINVAL);
    }

    /// <summary>TCP_USER_TIMEOUT in ms (0 = the retries model).</summary>
    public int UserTimeout
    {
        get => _userTimeoutMs;
        set => _userTimeoutMs = value >= 0 ? value : throw new NetLabSocketException(Errno.EINVAL);
    }

    /// <summary>TCP_MAXSEG: before connect/listen, clamps the MSS both ways (88..32767).</summary>
    public int MaxSegment
    {
        get => State is TcpState.Close or TcpState.Listen ? _userMss : _mssCache;
        set => _userMss = value is >= TcpMinMss and <= MaxTcpWindow ? value : throw new NetLabSocketException(Errno.EINVAL);
    }

    /// <summary>TCP_CONGESTION: switch the module (ENOENT for an unknown name).</summary>
    public string Congestion
    {
        get => _ca.Name;
        set
        {
            var cc = CongestionControlRegistry.Create(value) ?? throw new NetLabSocketException(Errno.ENOENT);
            _ca = cc;
            if (IsSynchronized) _ca.Init(Cc);
        }
    }

    /// <summary>SO_RCVBUF: doubled, clamped to rmem_max, and locks autotuning (sock_setsockopt).</summary>
    public int ReceiveBufferSize
    {
        get => _rcvBuf;
        set { _rcvBuf = Math.Max(Math.Min(value, _host.Core.RmemMax) * 2, 2304); _rcvBufLocked = true; }
    }

    /// <summary>SO_SNDBUF: doubled, clamped to wmem_max, and locks expansion.</summary>
    public int SendBufferSize
    {
        get => _sndBuf;
        set { _sndBuf = Math.Max(Math.Min(value, _host.Core.WmemMax) * 2, 4608); _sndBufLocked = true; }
    }

    /// <summary>SO_RCVLOWAT (tcp_set_rcvlowat): at least 1, capped at half the buffer.</summary>
    public int ReceiveLowWater
    {
        get => _rcvLowat;
        set => _rcvLowat = Math.Max(1, Math.Min(value, (_rcvBufLocked ? _rcvBuf : _host.TcpSysctl.TcpRmem[2]) / 2));
    }

    /// <summary>SO_REUSEADDR.</summary>
    public bool ReuseAddress { get; set; }

    /// <summary>SO_BINDTODEVICE as an ifindex (0: none).</summary>
    public int BoundDevice { get; set; }

    public byte Tos { get; set; }
    /// <summary>IP_TTL; -1 uses ip_default_ttl.</summary>
    public int Ttl { get; set; } = -1;
    /// <summary>IP_MTU_DISCOVER: IP_PMTUDISC_WANT by default (DF while the path MTU is not locked); DONT clears DF.</summary>
    public PmtuDisc PmtuDiscover { get; set; } = PmtuDisc.Want;

    /// <summary>
    /// tcp_inq_hint(), the TCP_CM_INQ value recvmsg() reports with TCP_INQ: bytes ready to read, or 1 when none are
    /// left and the peer has closed (SOCK_DONE), so that a reader knows a read would return EOF.
    /// </summary>
    public int InqHint => _rcvQueue.Count == 0 && (_finReceived || _skErr != Errno.None) ? 1 : _rcvQueue.Count;

    // ------------------------------------------------------------------ state for ss / tests

    /// <summary>SO_ERROR: returns and clears the pending error (sock_error).</summary>
    public Errno TakeError()
    {
        var e = _skErr;
        _skErr = Errno.None;
        return e;
    }

    /// <summary>SIOCINQ: bytes readable (rcv_nxt - copied_seq, without a FIN).</summary>
    public int BytesReadable => _rcvQueue.Count;

    /// <summary>SIOCOUTQ: write_seq - snd_una (unacknowledged plus unsent).</summary>
    public int BytesUnacknowledged => State == TcpState.Listen ? 0 : _writeSeq - _sndUna;

    /// <summary>SIOCOUTQNSD: write_seq - snd_nxt (not yet sent).</summary>
    public int BytesNotSent => State == TcpState.Listen ? 0 : _writeSeq - _sndNxt;

    /// <summary>LISTEN: completed connections waiting in accept() (sk_ack_backlog).</summary>
    public int AcceptQueueLength => _acceptQueueStore?.Count ?? 0;

    /// <summary>LISTEN: sk_max_ack_backlog.</summary>
    public int MaxAcceptBacklog => _maxAckBacklog;

    /// <summary>LISTEN: half-open request socks (icsk_accept_queue.qlen).</summary>
    public int SynQueueLength => _reqQueueLen;

    internal bool IsSynchronized => State is not (TcpState.Close or TcpState.Listen or TcpState.SynSent);

    internal bool IsOrphan { get; private set; }

    // ------------------------------------------------------------------ bind / listen / connect

    /// <summary>bind(): a local address of this host (or any) and a port (0 = ephemeral).</summary>
    public Errno Bind(Ipv4Address address, ushort port)
    {
        if (State != TcpState.Close || LocalPort != 0) return Errno.EINVAL;
        if (!address.IsUnspecified && !_host.Ipv4.IsLocalAddress(address) && _host.Ipv4Sysctl.IpNonlocalBind == 0)
            return Errno.EADDRNOTAVAIL;
        var err = _layer.BindPort(this, address, port);
        if (err == Errno.None) { LocalAddress = address; _bindLocked = true; }
        return err;
    }

    /// <summary>listen(): backlog capped by net.core.somaxconn (a negative one means somaxconn).</summary>
    public Errno Listen(int backlog)
    {
        if (State is not (TcpState.Close or TcpState.Listen)) return Errno.EINVAL;
        int somax = _host.Core.Somaxconn;
        _maxAckBacklog = backlog < 0 ? somax : Math.Min(backlog, somax);
        if (State == TcpState.Listen) return Errno.None;
        if (LocalPort == 0)
        {
            var err = _layer.BindPort(this, Ipv4Address.Any, 0);
            if (err != Errno.None) return err;
        }
        var e = _layer.HashListener(this);
        if (e != Errno.None) return e;
        SetState(TcpState.Listen);
        return Errno.None;
    }

    /// <summary>
    /// connect() without blocking (tcp_v4_connect): returns EINPROGRESS after sending the SYN, or the
    /// errno of an immediate failure. <see cref="ConnectAsync"/> waits for the outcome.
    /// </summary>
    public Errno Connect(Ipv4Address address, ushort port)
    {
        switch (State)
        {
            case TcpState.SynSent: return Errno.EALREADY;
            case TcpState.Listen: return Errno.EISCONN;
            case TcpState.Close: break;
            default: return Errno.EISCONN;
        }
        // __inet_stream_connect() after a failed attempt: sock_error() (the pending ECONNREFUSED, ETIMEDOUT, ...) or
        // ECONNABORTED once SO_ERROR took it. Linux then lets a further connect() start over (tcp_disconnect()
        // reinitialises the socket); NetLab keeps answering ECONNABORTED.
        if (_connectFailed) return TakeErrorOr(Errno.ECONNABORTED);
        var dst = address;
        var route = _host.Ipv4.RouteOutput(dst, BoundDevice);
        if (route is null) return Errno.ENETUNREACH;
        switch (route.Type)
        {
            case RouteType.Unreachable: return Errno.EHOSTUNREACH;
            case RouteType.Prohibit: return Errno.EACCES;
            case RouteType.Blackhole: return Errno.EINVAL;
            case RouteType.Broadcast: return Errno.ENETUNREACH;
        }
        if (dst.IsMulticast) return Errno.ENETUNREACH;
        if (LocalAddress.IsUnspecified)
            LocalAddress = route.PreferredSource ?? _host.Ipv4.SelectSourceAddress(route.Device, dst);
        RemoteAddress = dst;
        RemotePort = port;
        // tcp_v4_connect(): SYN_SENT, then inet_hash_connect() picks the port and checks the 4-tuple.
        var err = _layer.HashConnect(this, out uint? reusedIsn);
        if (err != Errno.None)
        {
            RemoteAddress = default;
            RemotePort = 0;
            if (!_bindLocked) LocalAddress = default;
            return err;
        }
        _writeSeq = new SeqNum(reusedIsn ?? _layer.SecureSeq(LocalAddress, RemoteAddress, LocalPort, RemotePort));
        _tsOffset = _layer.SecureTsOff(LocalAddress, RemoteAddress);
        _host.TcpStats.Inc(TcpMib.ActiveOpens);
        TcpConnect(route);
        return Errno.EINPROGRESS;
    }

    /// <summary>connect() that waits (in virtual time): throws <see cref="NetLabSocketException"/> with ECONNREFUSED, ETIMEDOUT, ...</summary>
    public async Task ConnectAsync(Ipv4Address address, ushort port, CancellationToken cancellationToken = default)
    {
        var err = Connect(address, port);
        if (err != Errno.EINPROGRESS) throw new NetLabSocketException(err);
        while (State is TcpState.SynSent or TcpState.SynRecv)
            await _wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (State == TcpState.Close) throw new NetLabSocketException(TakeErrorOr(Errno.ECONNREFUSED));
    }

    /// <summary>accept() without blocking: EAGAIN when the queue is empty, EINVAL when not listening.</summary>
    public Errno TryAccept(out TcpSocket? child)
    {
        child = null;
        if (State != TcpState.Listen) return Errno.EINVAL;
        if (_acceptQueueStore is not { Count: > 0 }) return Errno.EAGAIN;
        child = _acceptQueue.Dequeue();
        child._parent = null;
        return Errno.None;
    }

    /// <summary>accept() that waits in virtual time.</summary>
    public async Task<TcpSocket> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var err = TryAccept(out var child);
            if (err == Errno.None) return child!;
            if (err != Errno.EAGAIN) throw new NetLabSocketException(err);
            await _wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    // ------------------------------------------------------------------ data

    /// <summary>
    /// send() without blocking (tcp_sendmsg_locked): queues as much as the send buffer allows and pushes.
    /// EAGAIN when nothing fits; EPIPE after shutdown(SHUT_WR)/close; the pending error (ECONNRESET) first.
    /// </summary>
    public Errno TrySend(ReadOnlySpan<byte> data, out int sent, bool more = false)
    {
        sent = 0;
        if (State is TcpState.SynSent or TcpState.SynRecv && _skErr == Errno.None) return Errno.EAGAIN;
        if (_skErr != Errno.None) return TakeError();
        if ((_shutdown & SendShutdown) != 0) return Errno.EPIPE;
        if (State is not (TcpState.Established or TcpState.CloseWait)) return State == TcpState.Close && !_everConnected ? Errno.ENOTCONN : Errno.EPIPE;
        if (data.IsEmpty) return Errno.None;
        RateCheckAppLimited();
        int room = _sndBuf - SendQueuedBytes;
        if (room <= 0) { _sndbufFull = true; return Errno.EAGAIN; } // SOCK_NOSPACE; tcp_new_space() wakes us
        int n = Math.Min(room, data.Length);
        if (_sndNxt == _writeSeq) SlowStartAfterIdleCheck(); // tcp_skb_entail() of a new skb
        _sndRing.Append(data[..n]);
        _writeSeq += n;
        _naglePush = false; // tcp_skb_entail() clears TCP_NAGLE_PUSH
        sent = n;
        if (n < data.Length)
        {
            // wait_for_space: the buffer filled; what was copied is pushed past Nagle (TCP_NAGLE_PUSH) with PSH.
            _sndbufFull = true;
            _pushedSeq = _writeSeq;
            PushPendingFrames(NaglePush);
            return Errno.None;
        }
        // tcp_push(): PSH on the tail unless MSG_MORE (or more than half the peer's max window went unpushed);
        // MSG_MORE corks this push (TCP_NAGLE_CORK).
        bool forcedPush = SeqNum.After(_writeSeq, _pushedSeq + (_maxWindow >> 1));
        if (!more || forcedPush) _pushedSeq = _writeSeq;
        PushPendingFrames(more ? NagleCork : Nonagle);
        return Errno.None;
    }

    /// <summary>tcp_rate_check_app_limited(): the sender is application-limited when less than a segment waits.</summary>
    private void RateCheckAppLimited()
    {
        if (_writeSeq - _sndNxt < _mssCache && PacketsInFlight < Cc.SndCwnd && _lostOut <= _retransOut)
            _appLimitedUntil = Math.Max(_delivered + PacketsInFlight, 1);
    }

    /// <summary>send() that blocks until every byte is queued (sk_stream_wait_memory); throws on errors (EPIPE, ECONNRESET).</summary>
    public async Task SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        // Like tcp_sendmsg_locked(), wait for the connection first (sk_stream_wait_connect), counted in
        // sk_write_pending so that the SYN-ACK's ACK waits for this data.
        while (State is TcpState.SynSent or TcpState.SynRecv && _skErr == Errno.None)
        {
            _writePending++;
            try { await _wait.WaitAsync(cancellationToken).ConfigureAwait(false); }
            finally { _writePending--; }
        }
        while (!data.IsEmpty)
        {
            var err = TrySend(data.Span, out int n);
            if (err == Errno.None) { data = data[n..]; continue; }
            if (err != Errno.EAGAIN) throw new NetLabSocketException(err);
            await _wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// recv() without blocking (tcp_recvmsg): queued data first, then 0 at EOF, then the pending error;
    /// EAGAIN when nothing is there yet; ENOTCONN when never connected. <paramref name="peek"/> is MSG_PEEK.
    /// </summary>
    public Errno TryReceive(Span<byte> buffer, out int read, bool peek = false)
    {
        read = 0;
        if (State == TcpState.Listen) return Errno.ENOTCONN;
        if (_rcvQueue.Count > 0 && !buffer.IsEmpty)
        {
            int n = Math.Min(buffer.Length, _rcvQueue.Count);
            _rcvQueue.CopyTo(0, buffer[..n]);
            read = n;
            if (!peek)
            {
                _rcvQueue.Consume(n);
                _copiedSeq += n;
                RcvSpaceAdjust();
                CleanupRbuf(n);
            }
            return Errno.None;
        }
        if (buffer.IsEmpty) return Errno.None;
        if (_skErr != Errno.None) return TakeError();
        if ((_shutdown & RcvShutdown) != 0 || _finReceived) return Errno.None; // EOF: read 0
        if (State == TcpState.Close) return _everConnected ? Errno.None : Errno.ENOTCONN;
        if (State is TcpState.SynSent or TcpState.SynRecv) return Errno.EAGAIN;
        return Errno.EAGAIN;
    }

    /// <summary>recv() that waits; 0 means end of stream. Throws on errors.</summary>
    public async Task<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var err = TryReceive(buffer.Span, out int n);
            if (err == Errno.None) return n;
            if (err != Errno.EAGAIN) throw new NetLabSocketException(err);
            await _wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or EOF (MSG_WAITALL); returns the count read.</summary>
    public async Task<int> ReceiveAllAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await ReceiveAsync(buffer[total..], cancellationToken).ConfigureAwait(false);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    /// <summary>Waits until the socket's state, queues or error change (poll on one socket).</summary>
    public Task WaitAsync(CancellationToken cancellationToken = default) => _wait.WaitAsync(cancellationToken);

    /// <summary>shutdown() (inet_shutdown / tcp_shutdown).</summary>
    public Errno Shutdown(ShutdownHow how)
    {
        int mask = how switch { ShutdownHow.Read => RcvShutdown, ShutdownHow.Write => SendShutdown, _ => RcvShutdown | SendShutdown };
        switch (State)
        {
            case TcpState.Close:
                _shutdown |= mask;
                return Errno.ENOTCONN;
            case TcpState.SynSent:
                Disconnect();
                _shutdown |= mask;
                WakeUp();
                return Errno.None;
            case TcpState.Listen:
                if ((mask & RcvShutdown) != 0) { StopListening(); SetState(TcpState.Close); }
                WakeUp();
                return Errno.None;
        }
        _shutdown |= mask;
        if ((mask & SendShutdown) != 0 && State is TcpState.Established or TcpState.SynRecv or TcpState.CloseWait)
        {
            if (CloseState()) SendFin();
        }
        WakeUp();
        return Errno.None;
    }

    /// <summary>close() (tcp_close): FIN, or RST with unread data or SO_LINGER 0; the socket lives on as an orphan.</summary>
    public void Close()
    {
        if (_closed) return;
        _closed = true;
        _shutdown = RcvShutdown | SendShutdown;
        if (State == TcpState.Listen)
        {
            SetState(TcpState.Close);
            StopListening();
            Destroy();
            return;
        }
        int unread = _rcvQueue.Count;
        _rcvQueue.Clear();
        DropOfoQueue();
        if (State == TcpState.Close)
        {
            Destroy();
            return;
        }
        if (unread > 0)
        {
            // RFC 2525 §2.17: unread data means the application lost data; tell the peer with a RST.
            _host.TcpExtStats.Inc(TcpExtMib.TCPAbortOnClose);
            SetState(TcpState.Close);
            SendActiveReset();
        }
        else if (Linger == 0)
        {
            // SO_LINGER 0: tcp_disconnect(); Linux counts it as TCPAbortOnData.
            Disconnect();
            _host.TcpExtStats.Inc(TcpExtMib.TCPAbortOnData);
        }
        else if (CloseState())
        {
            SendFin();
        }
        IsOrphan = true;
        _layer.OrphanCount++;
        if (State == TcpState.FinWait2)
        {
            // Only reachable when our FIN was already acknowledged (shutdown(SHUT_WR) before close()).
            if (Linger2 < 0)
            {
                SetState(TcpState.Close);
                SendActiveReset();
                _host.TcpExtStats.Inc(TcpExtMib.TCPAbortOnLinger);
            }
            else
            {
                long tmo = FinTimeUs();
                if (tmo > TcpTimewaitLenUs) ResetKeepaliveTimer(tmo - TcpTimewaitLenUs);
                else { EnterTimeWait(TcpState.FinWait2, tmo); return; }
            }
        }
        if (State != TcpState.Close && CheckOrphanOverflow()) return;
        if (State == TcpState.Close) Destroy();
    }

    /// <summary>Closes and waits (SO_LINGER with a timeout) until the FIN is acknowledged or the time passes.</summary>
    public void Dispose() => Close();

    /// <summary>TCP_INFO.</summary>
    public TcpInfo GetInfo() => BuildInfo();

    public override string ToString() =>
        $"{LocalAddress}:{LocalPort} {RemoteAddress}:{RemotePort} {State.RfcName()}";

    private Errno TakeErrorOr(Errno fallback)
    {
        var e = TakeError();
        return e == Errno.None ? fallback : e;
    }

    internal void WakeUp()
    {
        _wait.WakeAll();
        Changed?.Invoke();
    }
}
