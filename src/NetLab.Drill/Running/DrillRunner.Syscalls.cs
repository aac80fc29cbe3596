using NetLab.Drill.Parsing;
using NetLab.Stack;
using NetLab.Stack.Tcp;
using NetLab.Stack.IPv4;
using static NetLab.Drill.Running.SyscallConstants;

namespace NetLab.Drill.Running;

public sealed partial class DrillRunner
{
    private const int FirstFd = 3; // 0, 1 and 2 are stdin, stdout and stderr

    private readonly SortedDictionary<int, FdEntry> _fds = [];
    private int? _testFd; // the socket %{ }% blocks read TCP_INFO from: the last one accepted or connected
    private PendingCall? _pending;
    private ushort? _boundPort;

    private sealed class FdEntry(TcpSocket socket)
    {
        public TcpSocket Socket { get; } = socket;
        public bool NonBlocking { get; set; }
        /// <summary>TCP_INQ: recvmsg() returns a TCP_CM_INQ control message.</summary>
        public bool Inq { get; set; }
        /// <summary>SO_ZEROCOPY (SOCK_ZEROCOPY): MSG_ZEROCOPY sends are accepted.</summary>
        public bool ZeroCopy { get; set; }
    }

    /// <summary>A system call's outcome: a return value and errno name, or a check that failed inside the call.</summary>
    private readonly record struct SysResult(long Ret, string? Errno = null, string? Failure = null)
    {
        public static SysResult Error(Errno e) => new(-1, e.ToString());
        public static SysResult Of(Errno e) => e == Stack.Errno.None ? new(0) : Error(e);
        public static SysResult Fail(string message) => new(-1, null, message);
    }

    /// <summary>A blocking call running in the background while the script goes on (packetdrill's syscall thread).</summary>
    private sealed record PendingCall(SyscallSpec Spec, Task<SysResult> Task, long StartNs, long ExpectedEndNs, long DeadlineNs);

    private void StartSyscall(SyscallSpec call, long startNs, long? endNs)
    {
        // One call at a time, as packetdrill's single syscall thread: a new call waits for a blocked one to return.
        if (_pending is not null) RunTo(long.MaxValue, () => _pending is null);
        if (_failure is not null) return;
        _opt.Log?.WriteLine($"{Sec(NowNs)} syscall  line {call.Pos.Line}: {call.Name}({string.Join(", ", call.Args)})");
        Task<SysResult> task;
        try { task = Exec(call); }
        catch (NetLabSocketException e) { task = Task.FromResult(SysResult.Error(e.Errno)); }
        long expectedEnd = endNs ?? startNs;
        if (task.IsCompleted) Verify(call, task, startNs, expectedEnd);
        else _pending = new PendingCall(call, task, startNs, expectedEnd, expectedEnd + _opt.ToleranceUs * 1000);
    }

    /// <summary>Called after every scheduler step: checks a blocking call that has just returned.</summary>
    private void CheckPending()
    {
        if (_pending is not { Task.IsCompleted: true } p) return;
        _pending = null;
        Verify(p.Spec, p.Task, p.StartNs, p.ExpectedEndNs);
    }

    private void Verify(SyscallSpec call, Task<SysResult> task, long startNs, long expectedEndNs)
    {
        SysResult r = task.IsCompletedSuccessfully ? task.Result
            : task.Exception?.InnerException is NetLabSocketException se ? SysResult.Error(se.Errno)
            : SysResult.Fail($"{call.Name}() failed inside NetLab: {task.Exception?.InnerException?.Message}");
        int line = call.Pos.Line;
        if (r.Failure is not null) { Fail(line, r.Failure); return; }
        string actual = r.Ret == -1 && r.Errno is { } en ? $"-1 with errno {SyscallConstants.Describe(en)}" : r.Ret.ToString(System.Globalization.CultureInfo.InvariantCulture);
        switch (call.Result)
        {
            case IntExpr e when e.Value != r.Ret:
            case WordExpr w when !(TryGet(w.Name, out long wv) && wv == r.Ret):
                Fail(line, $"runtime error in {call.Name} call: Expected result {call.Result} but got {actual}");
                return;
        }
        if (call.Errno is { } want && r.Errno != want)
        {
            Fail(line, $"runtime error in {call.Name} call: Expected errno {SyscallConstants.Describe(want)} but got {actual}");
            return;
        }
        long tol = _opt.ToleranceUs * 1000;
        if (NowNs < expectedEndNs - tol || NowNs > expectedEndNs + tol)
        {
            Fail(line, $"timing error: expected {call.Name}() to return at {Sec(expectedEndNs)} sec but it returned at {Sec(NowNs)} sec (started at {Sec(startNs)}); tolerance {Sec(tol)} sec");
            return;
        }
        _opt.Log?.WriteLine($"{Sec(NowNs)} returned line {line}: {call.Name}() = {actual}");
    }

    // ------------------------------------------------------------------ the calls

    private Task<SysResult> Exec(SyscallSpec c) => c.Name switch
    {
        "socket" => Task.FromResult(Socket(c)),
        "bind" => WithFd(c, f => Task.FromResult(Bind(c, f))),
        "listen" => WithFd(c, f => Task.FromResult(SysResult.Of(f.Socket.Listen((int)Int(c, 1))))),
        "accept" or "accept4" => WithFd(c, f => Accept(c, f)),
        "connect" => WithFd(c, f => Connect(c, f)),
        "write" => WithFd(c, f => Send(f, Int(c, 2), 0)),
        "send" => WithFd(c, f => Send(f, Int(c, 2), Int(c, 3))),
        "sendto" => WithFd(c, f => Send(f, Int(c, 2), Int(c, 3))),
        "sendmsg" => WithFd(c, f => Send(f, IovLength(c), Int(c, 2))),
        "read" => WithFd(c, f => Receive(f, Int(c, 2), 0)),
        "recv" or "recvfrom" => WithFd(c, f => Receive(f, Int(c, 2), Int(c, 3))),
        "recvmsg" => WithFd(c, f => Receive(f, IovLength(c), Int(c, 2), msghdr: Arg(c, 1) as BraceExpr)),
        "close" => WithFd(c, f => Task.FromResult(Close(c, f))),
        "shutdown" => WithFd(c, f => Task.FromResult(SysResult.Of(f.Socket.Shutdown((ShutdownHow)Int(c, 1))))),
        "fcntl" => WithFd(c, f => Task.FromResult(Fcntl(c, f))),
        "setsockopt" => WithFd(c, f => Task.FromResult(SetSockOpt(c, f))),
        "getsockopt" => WithFd(c, f => Task.FromResult(GetSockOpt(c, f))),
        "ioctl" => WithFd(c, f => Task.FromResult(Ioctl(c, f))),
        "poll" => Poll(c),
        _ => Task.FromResult(SysResult.Fail($"system call {c.Name}() is not supported by NetLab's drill")),
    };

    private Task<SysResult> WithFd(SyscallSpec c, Func<FdEntry, Task<SysResult>> body)
    {
        long fd = Int(c, 0);
        return _fds.TryGetValue((int)fd, out var entry) ? body(entry) : Task.FromResult(new SysResult(-1, "EBADF"));
    }

    private SysResult Socket(SyscallSpec c)
    {
        long type = Int(c, 1);
        if ((type & 0xF) != SOCK_STREAM)
            return SysResult.Fail($"socket(): only SOCK_STREAM (TCP) sockets are supported by NetLab's drill, not {Arg(c, 1)}");
        int fd = NewFd(c);
        _fds[fd] = new FdEntry(_host.Tcp.Open()) { NonBlocking = (type & SOCK_NONBLOCK) != 0 };
        return new SysResult(fd);
    }

    /// <summary>
    /// The descriptor a new socket gets: the one the script's result names, as packetdrill maps script descriptors to
    /// live ones (a script may call its first socket 4); else the lowest free one, as the kernel allocates.
    /// </summary>
    private int NewFd(SyscallSpec c)
    {
        if (c.Result is IntExpr { Value: >= 0 and < int.MaxValue } want && !_fds.ContainsKey((int)want.Value)) return (int)want.Value;
        int fd = FirstFd;
        while (_fds.ContainsKey(fd)) fd++;
        return fd;
    }

    private async Task<SysResult> Accept(SyscallSpec c, FdEntry f)
    {
        while (true)
        {
            var err = f.Socket.TryAccept(out var child);
            if (err == Stack.Errno.None)
            {
                int fd = NewFd(c);
                _fds[fd] = new FdEntry(child!);
                _testFd = fd;
                return new SysResult(fd);
            }
            if (err != Stack.Errno.EAGAIN || f.NonBlocking) return SysResult.Error(err);
            await f.Socket.WaitAsync();
        }
    }

    private async Task<SysResult> Connect(SyscallSpec c, FdEntry f)
    {
        _testFd = (int)Int(c, 0);
        if (SockAddr(c, _opt.RemoteIp, _opt.ConnectPort) is not var (ip, port)) return BadSockAddr(c);
        var err = f.Socket.Connect(ip, port);
        if (err != Stack.Errno.EINPROGRESS || f.NonBlocking) return SysResult.Of(err);
        // inet_wait_for_connect(): sleep until the handshake ends one way or the other.
        while (f.Socket.State is TcpState.SynSent or TcpState.SynRecv) await f.Socket.WaitAsync();
        if (f.Socket.State != TcpState.Close) return new SysResult(0);
        var e = f.Socket.TakeError();
        return SysResult.Error(e == Stack.Errno.None ? Stack.Errno.ECONNREFUSED : e);
    }

    private async Task<SysResult> Send(FdEntry f, long length, long flags)
    {
        // MSG_ZEROCOPY on a SO_ZEROCOPY socket sends the same bytes as a copying send; NetLab does not model the pinned
        // pages or the completion notifications on the error queue (tcp_sendmsg_locked ignores the flag otherwise).
        const long known = MSG_MORE | MSG_DONTWAIT | MSG_NOSIGNAL | MSG_ZEROCOPY;
        if ((flags & ~known) != 0) return SysResult.Fail($"send flags 0x{flags & ~known:x} are not supported by NetLab (MSG_MORE, MSG_DONTWAIT, MSG_NOSIGNAL, MSG_ZEROCOPY are)");
        if (length < 0) return SysResult.Fail("send length must not be negative");
        bool nonBlocking = f.NonBlocking || (flags & MSG_DONTWAIT) != 0;
        bool more = (flags & MSG_MORE) != 0;
        var data = new byte[length];
        if (!nonBlocking && !more)
        {
            // The socket's own blocking send waits for the handshake counted in sk_write_pending, as
            // sk_stream_wait_connect() does (the SYN-ACK's ACK is then delayed for the data: tcp_rcv_synsent_state_process()).
            try { await f.Socket.SendAsync(data); }
            catch (NetLabSocketException e) { return SysResult.Error(e.Errno); }
            return new SysResult(data.Length);
        }
        int done = 0;
        while (true)
        {
            var err = f.Socket.TrySend(data.AsSpan(done), out int n, more);
            if (err == Stack.Errno.None)
            {
                done += n;
                if (done == data.Length) return new SysResult(done);
                continue;
            }
            if (err == Stack.Errno.EAGAIN && !nonBlocking)
            {
                await f.Socket.WaitAsync(); // sk_stream_wait_memory() / sk_stream_wait_connect()
                continue;
            }
            return done > 0 ? new SysResult(done) : SysResult.Error(err);
        }
    }

    private async Task<SysResult> Receive(FdEntry f, long length, long flags, BraceExpr? msghdr = null)
    {
        const long known = MSG_PEEK | MSG_DONTWAIT | MSG_WAITALL;
        if ((flags & ~known) != 0) return SysResult.Fail($"recv flags 0x{flags & ~known:x} are not supported by NetLab (MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL are)");
        long? expectedInq = null;
        if (msghdr?.Field("msg_control") is ArrayExpr { Items.Count: > 0 } control)
        {
            // The only control message a TCP socket returns: TCP_CM_INQ with TCP_INQ on (tcp_recvmsg, tcp_inq_hint()).
            if (control.Items is not [BraceExpr cmsg] || IntOf(cmsg.Field("cmsg_level") ?? new IntExpr(default, -1)) != IPPROTO_TCP
                || IntOf(cmsg.Field("cmsg_type") ?? new IntExpr(default, -1)) != TCP_CM_INQ || cmsg.Field("cmsg_data") is not { } data)
                return SysResult.Fail("recvmsg() control messages other than one {cmsg_level=SOL_TCP, cmsg_type=TCP_CM_INQ, cmsg_data=N} are not supported by NetLab");
            expectedInq = IntOf(data);
        }
        var result = await ReceiveData(f, length, flags);
        if (expectedInq is { } want && result.Failure is null && result.Errno is null)
        {
            if (!f.Inq) return SysResult.Fail("recvmsg(): the script expects a TCP_CM_INQ control message, but TCP_INQ is off");
            if (f.Socket.InqHint != want)
                return SysResult.Fail($"recvmsg(): TCP_CM_INQ cmsg_data: expected {want} vs actual {f.Socket.InqHint}");
        }
        return result;
    }

    private async Task<SysResult> ReceiveData(FdEntry f, long length, long flags)
    {
        bool nonBlocking = f.NonBlocking || (flags & MSG_DONTWAIT) != 0;
        var buffer = new byte[length];
        int done = 0;
        while (true)
        {
            var err = f.Socket.TryReceive(buffer.AsSpan(done), out int n, (flags & MSG_PEEK) != 0);
            if (err == Stack.Errno.None)
            {
                done += n;
                // MSG_WAITALL keeps reading until the buffer is full or the stream ends.
                if ((flags & MSG_WAITALL) == 0 || n == 0 || done == buffer.Length) return new SysResult(done);
                continue;
            }
            if (err == Stack.Errno.EAGAIN && !nonBlocking)
            {
                await f.Socket.WaitAsync(); // sk_wait_data()
                continue;
            }
            return done > 0 ? new SysResult(done) : SysResult.Error(err);
        }
    }

    private SysResult Bind(SyscallSpec c, FdEntry f)
    {
        if (SockAddr(c, _opt.LocalIp, _opt.BindPort) is not var (ip, port)) return BadSockAddr(c);
        var err = f.Socket.Bind(ip, port);
        if (err == Stack.Errno.None) _boundPort = port; // where the remote end's SYNs go from now on
        return SysResult.Of(err);
    }

    /// <summary>
    /// The address of bind()/connect(): <c>...</c> means the script's default, or
    /// <c>{sa_family=AF_INET, sin_port=htons(N), sin_addr=inet_addr("a.b.c.d")}</c> (packetdrill's sockaddr); null when malformed.
    /// </summary>
    private static (Core.Addressing.Ipv4Address Ip, ushort Port)? SockAddr(SyscallSpec c, Core.Addressing.Ipv4Address ip, ushort port)
    {
        if (Arg(c, 1) is not BraceExpr addr) return (ip, port);
        if (addr.Field("sin_port") is CallExpr { Name: "htons", Args: [IntExpr { Value: >= 0 and <= 65535 } p] }) port = (ushort)p.Value;
        else if (addr.Field("sin_port") is not null) return null;
        if (addr.Field("sin_addr") is CallExpr { Name: "inet_addr", Args: [StringExpr a] })
        {
            if (!Core.Addressing.Ipv4Address.TryParse(a.Value, out ip)) return null;
        }
        else if (addr.Field("sin_addr") is not null) return null;
        return (ip, port);
    }

    private static SysResult BadSockAddr(SyscallSpec c) =>
        SysResult.Fail($"{c.Name}(): the address must be ... or {{sa_family=AF_INET, sin_port=htons(N), sin_addr=inet_addr(\"a.b.c.d\")}}, not {Arg(c, 1)}");

    private SysResult Close(SyscallSpec c, FdEntry f)
    {
        f.Socket.Close();
        _fds.Remove((int)Int(c, 0));
        return new SysResult(0);
    }

    private SysResult Fcntl(SyscallSpec c, FdEntry f)
    {
        switch (Int(c, 1))
        {
            case F_GETFL: return new SysResult(O_RDWR | (f.NonBlocking ? O_NONBLOCK : 0));
            case F_SETFL:
                f.NonBlocking = (Int(c, 2) & O_NONBLOCK) != 0;
                return new SysResult(0);
            default: return SysResult.Fail($"fcntl command {Arg(c, 1)} is not supported by NetLab's drill");
        }
    }

    private SysResult SetSockOpt(SyscallSpec c, FdEntry f)
    {
        long level = Int(c, 1), name = Int(c, 2);
        var valueExpr = Arg(c, 3);
        var s = f.Socket;
        try
        {
            switch (level, name)
            {
                case (SOL_SOCKET, SO_REUSEADDR): s.ReuseAddress = Value(valueExpr) != 0; break;
                case (SOL_SOCKET, SO_SNDBUF): s.SendBufferSize = (int)Value(valueExpr); break;
                case (SOL_SOCKET, SO_RCVBUF): s.ReceiveBufferSize = (int)Value(valueExpr); break;
                case (SOL_SOCKET, SO_KEEPALIVE): s.KeepAlive = Value(valueExpr) != 0; break;
                case (SOL_SOCKET, SO_RCVLOWAT): s.ReceiveLowWater = (int)Value(valueExpr); break;
                case (SOL_SOCKET, SO_LINGER):
                {
                    if (valueExpr is not BraceExpr b || b.Field("onoff") is not { } on || b.Field("linger") is not { } secs)
                        return SysResult.Fail("SO_LINGER takes {onoff=N, linger=N}");
                    s.Linger = IntOf(on) != 0 ? (int)IntOf(secs) : null;
                    break;
                }
                case (IPPROTO_TCP, TCP_NODELAY): s.NoDelay = Value(valueExpr) != 0; break;
                case (IPPROTO_TCP, TCP_CORK): s.Cork = Value(valueExpr) != 0; break;
                case (IPPROTO_TCP, TCP_MAXSEG): s.MaxSegment = (int)Value(valueExpr); break;
                case (IPPROTO_TCP, TCP_KEEPIDLE): s.KeepIdle = (int)Value(valueExpr); break;
                case (IPPROTO_TCP, TCP_KEEPINTVL): s.KeepInterval = (int)Value(valueExpr); break;
                case (IPPROTO_TCP, TCP_KEEPCNT): s.KeepCount = (int)Value(valueExpr); break;
                case (IPPROTO_TCP, TCP_SYNCNT): s.SynCount = (int)Value(valueExpr); break;
                case (IPPROTO_TCP, TCP_LINGER2): s.Linger2 = (int)Value(valueExpr); break;
                case (IPPROTO_TCP, TCP_QUICKACK): s.QuickAck = Value(valueExpr) != 0; break;
                case (IPPROTO_TCP, TCP_USER_TIMEOUT): s.UserTimeout = (int)Value(valueExpr); break;
                case (IPPROTO_TCP, TCP_CONGESTION):
                    if (valueExpr is not StringExpr cc) return SysResult.Fail("TCP_CONGESTION takes a string");
                    s.Congestion = cc.Value;
                    break;
                case (SOL_IP, IP_TOS): s.Tos = (byte)Value(valueExpr); break;
                case (SOL_IP, IP_MTU_DISCOVER):
                {
                    long mode = Value(valueExpr);
                    if (mode is < 0 or > (long)PmtuDisc.Omit) return SysResult.Error(Stack.Errno.EINVAL);
                    s.PmtuDiscover = (PmtuDisc)mode;
                    break;
                }
                case (SOL_SOCKET, SO_ZEROCOPY): f.ZeroCopy = Value(valueExpr) != 0; break;
                case (IPPROTO_TCP, TCP_INQ): f.Inq = Value(valueExpr) != 0; break;
                case (SOL_IP, IP_TTL): s.Ttl = (int)Value(valueExpr); break;
                default:
                    return SysResult.Fail($"setsockopt({Arg(c, 1)}, {Arg(c, 2)}) is not supported by NetLab");
            }
        }
        catch (NetLabSocketException e) { return SysResult.Error(e.Errno); }
        catch (ArgumentException) { return SysResult.Error(Stack.Errno.EINVAL); }
        return new SysResult(0);
    }

    private SysResult GetSockOpt(SyscallSpec c, FdEntry f)
    {
        long level = Int(c, 1), name = Int(c, 2);
        var s = f.Socket;
        long value;
        switch (level, name)
        {
            case (SOL_SOCKET, SO_ERROR): value = (long)s.TakeError(); break;
            case (SOL_SOCKET, SO_SNDBUF): value = s.SendBufferSize; break;
            case (SOL_SOCKET, SO_RCVBUF): value = s.ReceiveBufferSize; break;
            case (SOL_SOCKET, SO_REUSEADDR): value = s.ReuseAddress ? 1 : 0; break;
            case (SOL_SOCKET, SO_KEEPALIVE): value = s.KeepAlive ? 1 : 0; break;
            case (IPPROTO_TCP, TCP_NODELAY): value = s.NoDelay ? 1 : 0; break;
            case (IPPROTO_TCP, TCP_CORK): value = s.Cork ? 1 : 0; break;
            case (IPPROTO_TCP, TCP_MAXSEG): value = s.MaxSegment; break;
            case (IPPROTO_TCP, TCP_USER_TIMEOUT): value = s.UserTimeout; break;
            case (IPPROTO_TCP, TCP_SYNCNT): value = s.SynCount; break;
            default: return SysResult.Fail($"getsockopt({Arg(c, 1)}, {Arg(c, 2)}) is not supported by NetLab");
        }
        var expected = Arg(c, 3);
        if (expected is not EllipsisExpr && Value(expected) != value)
            return SysResult.Fail($"runtime error in getsockopt call: Bad getsockopt optval: expected: {Value(expected)} actual: {value}");
        return new SysResult(0);
    }

    private SysResult Ioctl(SyscallSpec c, FdEntry f)
    {
        var s = f.Socket;
        long request = Int(c, 1);
        if (s.State == TcpState.Listen) return SysResult.Error(Stack.Errno.EINVAL); // tcp_ioctl(): EINVAL on a listener
        long value = request switch
        {
            SIOCINQ => s.BytesReadable,
            SIOCOUTQ => s.BytesUnacknowledged,
            SIOCOUTQNSD => s.BytesNotSent,
            _ => long.MinValue,
        };
        if (value == long.MinValue) return SysResult.Fail($"ioctl {Arg(c, 1)} is not supported by NetLab's drill");
        var expected = Arg(c, 2);
        if (expected is not EllipsisExpr && Value(expected) != value)
            return SysResult.Fail($"runtime error in ioctl call: Bad ioctl value for {Arg(c, 1)}: expected: {Value(expected)} actual: {value}");
        return new SysResult(0);
    }

    /// <summary>poll(): tcp_poll() for each fd; waits in virtual time up to the timeout (ms, -1 forever) for one to be ready.</summary>
    private async Task<SysResult> Poll(SyscallSpec c)
    {
        if (Arg(c, 0) is not ArrayExpr list) return SysResult.Fail("poll() takes an array of {fd=N, events=..., revents=...}");
        var fds = new List<(FdEntry? Entry, long Events, Expr? Revents)>();
        foreach (var item in list.Items)
        {
            if (item is not BraceExpr b || b.Field("fd") is not { } fdExpr || b.Field("events") is not { } ev)
                return SysResult.Fail("poll() takes an array of {fd=N, events=..., revents=...}");
            fds.Add((_fds.GetValueOrDefault((int)IntOf(fdExpr)), IntOf(ev), b.Field("revents")));
        }
        long timeoutMs = Int(c, 2);
        long deadline = timeoutMs < 0 ? long.MaxValue : NowNs + timeoutMs * 1_000_000;
        while (true)
        {
            int ready = 0;
            foreach (var (entry, events, _) in fds) if (Revents(entry, events) != 0) ready++;
            if (ready > 0 || NowNs >= deadline) break;
            var woken = new TaskCompletionSource();
            Action wake = () => woken.TrySetResult();
            foreach (var (entry, _, _) in fds) if (entry is not null) entry.Socket.Changed += wake;
            var timer = deadline == long.MaxValue ? null : _scheduler.At(new Core.Time.SimTime(deadline), wake);
            await woken.Task;
            timer?.Cancel();
            foreach (var (entry, _, _) in fds) if (entry is not null) entry.Socket.Changed -= wake;
        }
        int count = 0;
        foreach (var (entry, events, revents) in fds)
        {
            long got = Revents(entry, events);
            if (got != 0) count++;
            if (revents is not null && IntOf(revents) != got)
                return SysResult.Fail($"runtime error in poll call: Bad revents for fd: expected: {revents} (0x{IntOf(revents):x}) actual: 0x{got:x}");
        }
        return new SysResult(count);
    }

    /// <summary>tcp_poll(): the events a socket is ready for, limited to those asked for (plus ERR, HUP and NVAL).</summary>
    private static long Revents(FdEntry? f, long events)
    {
        if (f is null) return POLLNVAL;
        var s = f.Socket;
        long mask = 0;
        if (s.State == TcpState.Listen) return s.AcceptQueueLength > 0 ? (POLLIN | POLLRDNORM) & events : 0;
        int shut = s.ShutdownMask;
        if (shut == 3 || s.State == TcpState.Close) mask |= POLLHUP;
        bool finReceived = s.State is TcpState.CloseWait or TcpState.LastAck or TcpState.Closing or TcpState.TimeWait;
        if ((shut & 1) != 0 || finReceived) mask |= POLLIN | POLLRDNORM | POLLRDHUP;
        if (s.State is not (TcpState.SynSent or TcpState.SynRecv))
        {
            if (s.BytesReadable > 0) mask |= POLLIN | POLLRDNORM;
            // sk_stream_is_writeable(): free space at least a third of what is queued (wspace >= queued / 2).
            int queued = s.BytesUnacknowledged;
            if ((shut & 2) != 0 || s.SendBufferSize - queued >= queued / 2) mask |= POLLOUT | POLLWRNORM;
        }
        return mask & (events | POLLERR | POLLHUP | POLLNVAL);
    }

    // ------------------------------------------------------------------ arguments

    private static Expr? Arg(SyscallSpec c, int i) => i < c.Args.Count ? c.Args[i] : null;

    /// <summary>An integer argument; a missing one is 0 (packetdrill would refuse the script, NetLab's drill runs on).</summary>
    private static long Int(SyscallSpec c, int i) => Arg(c, i) is { } e ? IntOf(e) : 0;

    /// <summary>A socket option value: N or [N].</summary>
    private static long Value(Expr? e) => e is ArrayExpr { Items.Count: 1 } a ? IntOf(a.Items[0]) : e is null ? 0 : IntOf(e);

    private static long IntOf(Expr e) => e switch
    {
        IntExpr i => i.Value,
        WordExpr w => TryGet(w.Name, out long v) ? v : 0,
        OrExpr o => IntOf(o.Left) | IntOf(o.Right),
        ArrayExpr { Items.Count: 1 } a => IntOf(a.Items[0]),
        _ => 0,
    };

    /// <summary>sendmsg/recvmsg: the total length of msg_iov(N)=[{..., len}, ...].</summary>
    private static long IovLength(SyscallSpec c)
    {
        if (Arg(c, 1) is not BraceExpr msg || msg.Field("msg_iov") is not ArrayExpr iov) return 0;
        long total = 0;
        foreach (var v in iov.Items)
            if (v is BraceExpr { Items.Count: 2 } b) total += IntOf(b.Items[1]);
        return total;
    }

    // ------------------------------------------------------------------ %{ }% names

    private object? LookupName(string name)
    {
        if (TryGet(name, out long constant)) return constant;
        if (!name.StartsWith("tcpi_", StringComparison.Ordinal)) return null;
        var fd = _testFd ?? (_fds.Count > 0 ? _fds.Keys.Max() : (int?)null);
        if (fd is not { } f || !_fds.TryGetValue(f, out var entry)) return null;
        return TcpInfoFields.Get(entry.Socket.GetInfo(), name);
    }
}
