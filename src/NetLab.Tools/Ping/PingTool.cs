using System.Buffers.Binary;
using NetLab.Core.Addressing;
using NetLab.Core.Checksums;
using NetLab.Stack;
using NetLab.Stack.Icmp;
using NetLab.Stack.IPv4;
using NetLab.Stack.Sockets;
using NetLab.Tools.Common;

namespace NetLab.Tools;

/// <summary>
/// ping from iputils (ping/ping.c, ping/ping_common.c), IPv4 over a raw ICMP socket. Options: -c -s
/// -i -W -w -t -M do|dont|want|probe -I dev|addr -n -q. Targets are numeric (NetLab has no DNS yet).
/// </summary>
public sealed class PingTool : ITool
{
    public string Name => "ping";

    public Task<int> RunAsync(ToolContext ctx, IReadOnlyList<string> args) => new PingRun(ctx).RunAsync(args);
}

/// <summary>One ping process: the state iputils keeps in struct ping_rts.</summary>
internal sealed class PingRun(ToolContext ctx)
{
    private const int MinIntervalMs = 10;     // MIN_INTERVAL_MS
    private const int DefaultDataLength = 56; // DEFDATALEN
    private const int MaxRawMessage = 0xFFFF; // raw_sendmsg(): longer messages fail with EMSGSIZE
    private const int TimevalSize = 16;       // struct timeval on x86_64
    private const int UserHz = 100;           // sysconf(_SC_CLK_TCK)

    private readonly IToolOutput _out = ctx.Output;
    private readonly bool[] _rcvd = new bool[0x10000]; // rcvd_tbl: MAX_DUP_CHK bits

    // Options.
    private int _datalen = DefaultDataLength;
    private long _npackets;
    private int _interval = 1000;   // ms
    private int _lingertime = 10 * 1000; // ms, MAXWAIT
    private int _deadline;          // s
    private int _ttl = -1;
    private PmtuDisc? _pmtudisc;
    private string? _device;
    private bool _strictSource;
    private bool _quiet;

    private string _hostname = "";
    private Ipv4Address _whereto;
    private Ipv4Address _source;
    private RawSocket? _sock;
    private ushort _ident;
    private byte[] _outpack = [];
    private bool _timing;

    // Statistics (gather_statistics, finish).
    private long _ntransmitted, _nreceived, _nrepeats, _nchecksum, _nerrors;
    private long _tmin = long.MaxValue, _tmax;
    private double _tsum, _tsum2;
    private long _rtt;               // EWMA of triptime, fixed point ×8
    private ushort _acked;
    private int _pipesize;

    // Timing (pinger, __schedule_exit).
    private long _startNs;
    private long _curNs = -1;        // cur_time; unset until the first probe
    private long _tokens;
    private long? _waittimeUs;       // __schedule_exit's static waittime
    private CancellationTokenSource _alarm = null!;
    private CancellationTokenSource _exiting = null!;

    private bool Exiting => _exiting.IsCancellationRequested;
    private long NowNs => ctx.Now.Nanoseconds;

    public async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        int status = ParseOptions(args, out var target);
        if (status >= 0) return status;
        status = Resolve(target!);
        if (status >= 0) return status;
        using var sock = RawSocket.Open(ctx.Host, IpProtocol.Icmp);
        _sock = sock;
        ConfigureSocket();
        _out.WriteLine($"PING {_hostname} ({_whereto}) "
            + (_device is not null || _strictSource ? $"from {_source} {_device ?? ""}: " : "")
            + $"{_datalen}({_datalen + 8 + 20}) bytes of data.");

        // setup(): SIGALRM (deadline, __schedule_exit) and SIGINT both set `exiting`.
        using var alarm = new CancellationTokenSource(Timeout.InfiniteTimeSpan, ctx.TimeProvider);
        using var exiting = CancellationTokenSource.CreateLinkedTokenSource(alarm.Token, ctx.CancellationToken);
        _alarm = alarm;
        _exiting = exiting;
        _startNs = NowNs;
        if (_deadline > 0 && TimeSpan.FromSeconds(_deadline) <= ToolContext.MaxTimer) alarm.CancelAfter(TimeSpan.FromSeconds(_deadline));
        await MainLoop();
        return Finish();
    }

    // ------------------------------------------------------------------ options and setup

    /// <summary>main()'s getopt loop; -1 to go on, else the exit status.</summary>
    private int ParseOptions(IReadOnlyList<string> args, out string? target)
    {
        target = null;
        var g = new Getopt("ping", args, "c:s:i:W:w:t:M:I:nqh");
        while (g.Next(out var opt, out var arg))
        {
            long v;
            switch (opt)
            {
                case 'c':
                    if (!Iputils.StrtolOrErr(_out, "ping", arg!, "invalid argument", 1, long.MaxValue, out v)) return 1;
                    _npackets = v;
                    break;
                case 's':
                    // iputils 20221126 takes any int; what IPv4 cannot carry fails when sent (SendProbe).
                    if (!Iputils.StrtolOrErr(_out, "ping", arg!, "invalid argument", 0, int.MaxValue, out v)) return 1;
                    _datalen = (int)v;
                    break;
                case 'i':
                    if (!PingStrtod(arg!, "bad timing interval", out var seconds)) return 2;
                    if (seconds < 0 || seconds > int.MaxValue / 1000)
                    {
                        _out.WriteError($"ping: bad timing interval: {arg}");
                        return 2;
                    }
                    _interval = (int)(seconds * 1000);
                    break;
                case 'W':
                    // iputils 20221126 takes 0 (and anything under 1 ms, which truncates to 0).
                    if (!PingStrtod(arg!, "bad linger time", out var linger)) return 2;
                    if (linger < 0 || linger > int.MaxValue / 1000)
                    {
                        _out.WriteError($"ping: bad linger time: {arg}");
                        return 2;
                    }
                    _lingertime = (int)(linger * 1000);
                    break;
                case 'w':
                    if (!Iputils.StrtolOrErr(_out, "ping", arg!, "invalid argument", 0, int.MaxValue, out v)) return 1;
                    _deadline = (int)v;
                    break;
                case 't':
                    if (!Iputils.StrtolOrErr(_out, "ping", arg!, "invalid argument", 0, 255, out v)) return 1;
                    _ttl = (int)v;
                    break;
                case 'M':
                    _pmtudisc = arg switch
                    {
                        "do" => PmtuDisc.Do,
                        "dont" => PmtuDisc.Dont,
                        "want" => PmtuDisc.Want,
                        // iputils 20221126 knows no "probe" here: "ping: invalid -M argument: probe", exit 2.
                        _ => null,
                    };
                    if (_pmtudisc is null)
                    {
                        _out.WriteError($"ping: invalid -M argument: {arg}");
                        return 2;
                    }
                    break;
                case 'I':
                    if (Ipv4Address.TryParse(arg!, out var addr)) { _source = addr; _strictSource = true; }
                    else _device = arg;
                    break;
                case 'n':
                    break; // numeric output is all NetLab has
                case 'q':
                    _quiet = true;
                    break;
                default:
                    if (g.Error is not null) _out.WriteError(g.Error);
                    Usage();
                    return 2;
            }
        }
        if (g.Operands.Count == 0)
        {
            _out.WriteError("ping: usage error: Destination address required");
            return 1;
        }
        target = g.Operands[^1];
        return -1;
    }

    private void Usage()
    {
        _out.WriteError("");
        _out.WriteError("Usage");
        _out.WriteError("  ping [options] <destination>");
    }

    /// <summary>ping4_run() up to the header: the target, SO_BINDTODEVICE, and the source from a connect()ed probe socket.</summary>
    private int Resolve(string target)
    {
        if (!Ipv4Address.TryParse(target, out _whereto))
        {
            _out.WriteError($"ping: {target}: Name or service not known");
            return 2;
        }
        _hostname = target;
        int oif = 0;
        if (_device is not null)
        {
            var dev = ctx.Host.FindDevice(_device);
            if (dev is null)
            {
                _out.WriteError($"ping: SO_BINDTODEVICE {_device}: No such device");
                return 2;
            }
            oif = dev.IfIndex;
        }
        if (_strictSource)
        {
            if (!ctx.Host.Ipv4.IsLocalAddress(_source))
            {
                _out.WriteError("ping: bind: Cannot assign requested address");
                return 2;
            }
        }
        else
        {
            // connect() on a UDP probe socket (ip4_datagram_connect) reports why the route is missing.
            var route = ctx.Host.Ipv4.RouteOutput(_whereto, oif);
            var err = route?.Type switch
            {
                null => Errno.ENETUNREACH,
                RouteType.Unreachable => Errno.EHOSTUNREACH,
                RouteType.Blackhole => Errno.EINVAL,
                RouteType.Prohibit or RouteType.Broadcast => Errno.EACCES,
                _ => Errno.None,
            };
            if (err == Errno.EACCES)
            {
                _out.WriteError("ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules");
                return 2;
            }
            if (err != Errno.None)
            {
                _out.WriteError($"ping: connect: {ErrnoText.Describe(err)}");
                return 2;
            }
            _source = route!.PreferredSource ?? ctx.Host.Ipv4.SelectSourceAddress(route.Device, _whereto);
        }
        // "ping 0.0.0.0": the kernel routes it to this host, and ping aims at the source it got.
        if (_whereto.IsUnspecified) _whereto = _source;
        return -1;
    }

    private void ConfigureSocket()
    {
        var sock = _sock!;
        if (_device is not null) sock.BoundDevice = ctx.Host.FindDevice(_device)!.IfIndex;
        if (_pmtudisc is { } pmtu) sock.PmtuDisc = pmtu;
        // Only what ping4_parse_reply looks at passes the ICMP_FILTER.
        sock.IcmpFilter = ~((1u << IcmpType.SourceQuench) | (1u << IcmpType.DestinationUnreachable)
            | (1u << IcmpType.TimeExceeded) | (1u << IcmpType.ParameterProblem) | (1u << IcmpType.Redirect)
            | (1u << IcmpType.EchoReply));
        // sock_setbufs(): at least 65536, which the kernel doubles.
        sock.ReceiveBufferSize = 2 * 65536;
        if (_ttl >= 0) sock.Ttl = _ttl;
        _timing = _datalen >= TimevalSize;
        // A message raw_sendmsg() refuses is never built, so -s 2147483647 costs no memory here.
        if ((long)IcmpHeaderView.Length + _datalen <= MaxRawMessage)
        {
            _outpack = new byte[IcmpHeaderView.Length + _datalen];
            for (int i = 0; i < _datalen; i++) _outpack[IcmpHeaderView.Length + i] = (byte)i; // setup(): pattern 0, 1, 2...
        }
        // setup(): a raw socket's identifier is rand() & 0xFFFF.
        _ident = (ushort)ctx.RandomStream("ping/ident").Next(0x10000);
    }

    // ------------------------------------------------------------------ main loop

    /// <summary>main_loop(): send when due, wait for replies (poll with the time left), stop on count, errors or signals.</summary>
    private async Task MainLoop()
    {
        var sock = _sock!;
        while (true)
        {
            if (Exiting) break;
            if (_npackets != 0 && _nreceived + _nerrors >= _npackets) break;
            if (_deadline != 0 && _nerrors != 0) break;

            int next;
            do
            {
                next = Pinger();
                next = ScheduleExit(next);
            } while (next <= 0);

            // poll(next) when less than an interval is left, else recvmsg() with SO_RCVTIMEO = interval.
            // A wait of one USER_HZ tick or less sleeps MIN_INTERVAL_MS if a reply is due, else spins
            // until the send time (here: sleeps exactly until it).
            long waitMs = next < Schint(_interval)
                ? (next <= 1000 / UserHz && InFlight > 0 ? MinIntervalMs : next)
                : Schint(_interval);
            RawDatagram? first = null;
            bool ready = await ctx.WaitAsync(async t => first = await sock.ReceiveAsync(t), waitMs * 1_000_000, _exiting.Token);
            if (!ready) continue;
            ParseReply(first!);
            while (InFlight != 0 && sock.TryReceive(out var more)) ParseReply(more!);
        }
    }

    private static int Schint(int interval) => interval <= MinIntervalMs ? MinIntervalMs : interval;

    /// <summary>pinger(): send a probe if the token bucket allows; returns the ms until the next one is due.</summary>
    private int Pinger()
    {
        if (Exiting || (_npackets != 0 && _ntransmitted >= _npackets && _deadline == 0)) return 1000;
        long now = NowNs;
        if (_curNs < 0)
        {
            _curNs = now;
            _tokens = 0; // interval * (preload - 1)
        }
        else
        {
            // Seconds and nanoseconds subtracted separately, as the timespec arithmetic does.
            long ntokens = (now / 1_000_000_000 - _curNs / 1_000_000_000) * 1000
                + (now % 1_000_000_000 - _curNs % 1_000_000_000) / 1_000_000;
            if (_interval == 0 && ntokens < MinIntervalMs && InFlight >= 1)
                return (int)(MinIntervalMs - ntokens);
            ntokens += _tokens;
            if (_interval < ntokens) ntokens = _interval; // interval * preload
            if (ntokens < _interval) return (int)(_interval - ntokens);
            _curNs = now;
            _tokens = ntokens - _interval;
        }

        var err = SendProbe();
        if (err == Errno.None)
        {
            AdvanceNtransmitted();
            return (int)(_interval - _tokens);
        }
        // Hard local error: count the probe as sent, and let ping4_receive_error_msg() read the error
        // queue. An EMSGSIZE from __ip_append_data() left ip_local_error()'s report there: printed and
        // counted. Other failures (raw_sendmsg()'s 0xFFFF limit, no route) queue nothing; iputils
        // 20221126 then gets -1 back and prints nothing at all (Linux 6.18, RealPeerTests).
        if (err == Errno.EMSGSIZE && IcmpHeaderView.Length + (long)_datalen <= MaxRawMessage)
        {
            if (!_quiet) _out.WriteError($"ping: local error: message too long, mtu={LocalErrorMtu()}");
            _nerrors++;
        }
        AdvanceNtransmitted();
        _tokens = 0;
        return Schint(_interval);
    }

    /// <summary>ee_info of the local error: the MTU __ip_append_data() used (device MTU for PROBE, else the path MTU).</summary>
    private int LocalErrorMtu()
    {
        var route = ctx.Host.Ipv4.RouteOutput(_whereto, _sock!.BoundDevice);
        if (route?.Device is null) return 0;
        return _sock.PmtuDisc >= PmtuDisc.Probe ? route.Device.Mtu : ctx.Host.Ipv4.PathMtu(route, _whereto);
    }

    /// <summary>ping4_send_probe(): an echo request whose data starts with the send time.</summary>
    private Errno SendProbe()
    {
        ushort seq = (ushort)(_ntransmitted + 1);
        _rcvd[seq] = false; // rcvd_clear
        // raw_sendmsg(): len > 0xFFFF is EMSGSIZE before routing, with nothing on the error queue.
        if ((long)IcmpHeaderView.Length + _datalen > MaxRawMessage) return Errno.EMSGSIZE;
        if (_timing)
        {
            long us = ToolContext.WallMicroseconds(NowNs);
            var tv = _outpack.AsSpan(IcmpHeaderView.Length);
            BinaryPrimitives.WriteInt64LittleEndian(tv, us / 1_000_000);
            BinaryPrimitives.WriteInt64LittleEndian(tv[8..], us % 1_000_000);
        }
        new IcmpRepr(IcmpType.EchoRequest, 0, ((uint)_ident << 16) | seq, _datalen).Emit(_outpack);
        return _sock!.SendTo(_outpack, _whereto, _strictSource ? _source : Ipv4Address.Any);
    }

    /// <summary>
    /// ping_strtod(): an empty argument is "ping: MESSAGE: ARG" (exit 2); trailing garbage only warns,
    /// twice, and the number before it counts ("-W abc" is 0).
    /// </summary>
    private bool PingStrtod(string arg, string message, out double value)
    {
        value = 0;
        if (arg.Length == 0)
        {
            _out.WriteError($"ping: {message}: {arg}");
            return false;
        }
        value = CFormat.Strtod(arg, out var rest);
        if (rest.Length > 0)
        {
            _out.WriteError($"ping: option argument contains garbage: {rest}");
            _out.WriteError("ping: this will become fatal error in the future");
        }
        return true;
    }

    /// <summary>schedule_exit(): once the last probe is out, arm SIGALRM for the linger time (or 2·tmax).</summary>
    private int ScheduleExit(int next)
    {
        if (_npackets == 0 || _ntransmitted < _npackets || _deadline != 0) return next;
        if (_waittimeUs is not null) return next;
        long waittime;
        if (_nreceived != 0)
        {
            waittime = 2 * _tmax;
            if (waittime < 1000L * _interval) waittime = 1000L * _interval;
        }
        else waittime = _lingertime * 1000L;
        // A zero waittime leaves the static unset, so it is computed again next time.
        if (waittime != 0) _waittimeUs = waittime;
        if (next < 0 || next < waittime / 1000) next = (int)(waittime / 1000);
        // setitimer() with a zero value disarms: with -W 0 and nothing received, ping waits for
        // count answers (or errors) however long they take.
        _alarm.CancelAfter(waittime == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromTicks(Math.Min(waittime * 10, ToolContext.MaxTimer.Ticks)));
        return next;
    }

    // ------------------------------------------------------------------ replies and errors

    private long InFlight
    {
        get
        {
            ushort diff = (ushort)((ushort)_ntransmitted - _acked);
            return diff <= 0x7FFF ? diff : _ntransmitted - _nreceived - _nerrors;
        }
    }

    private void Acknowledge(ushort seq)
    {
        ushort diff = (ushort)((ushort)_ntransmitted - seq);
        if (diff > 0x7FFF) return;
        if (diff + 1 > _pipesize) _pipesize = diff + 1;
        if ((short)(seq - _acked) > 0 || (ushort)((ushort)_ntransmitted - _acked) > 0x7FFF) _acked = seq;
    }

    private void AdvanceNtransmitted()
    {
        _ntransmitted++;
        // Invalidate acked if the 16-bit sequence wraps.
        if ((ushort)((ushort)_ntransmitted - _acked) > 0x7FFF) _acked = (ushort)((ushort)_ntransmitted + 1);
    }

    /// <summary>ping4_parse_reply(): our echo replies, and ICMP errors that quote our echo requests.</summary>
    private void ParseReply(RawDatagram d)
    {
        var buf = d.Datagram.AsSpan();
        int hlen = (buf[0] & 0x0F) * 4;
        if (buf.Length < hlen + IcmpHeaderView.Length) return;
        var ip = Ipv4HeaderView.ForEmit(buf);
        var icmpBytes = buf[hlen..];
        var icmp = IcmpHeaderView.ForEmit(icmpBytes);
        bool csfailed = !InternetChecksum.IsValid(icmpBytes);
        if (icmp.Type == IcmpType.EchoReply)
        {
            if (icmp.Identifier != _ident) return; // another ping's reply
            GatherStatistics(icmpBytes, icmp.Sequence, ip.Ttl, csfailed, ip.Source, d.TimestampNs);
            return;
        }
        if (icmp.Type is not (IcmpType.SourceQuench or IcmpType.Redirect or IcmpType.DestinationUnreachable
            or IcmpType.TimeExceeded or IcmpType.ParameterProblem)) return;
        // The quoted datagram: our echo request to the target.
        var quoted = icmpBytes[IcmpHeaderView.Length..];
        if (quoted.Length < 20 + 8 || quoted.Length < (quoted[0] & 0x0F) * 4 + 8) return;
        var inner = Ipv4HeaderView.ForEmit(quoted);
        var innerIcmp = IcmpHeaderView.ForEmit(quoted[inner.HeaderLength..]);
        if (innerIcmp.Type != IcmpType.EchoRequest || inner.Destination != _whereto || innerIcmp.Identifier != _ident) return;
        ushort seq = innerIcmp.Sequence;
        if (icmp.Type is IcmpType.Redirect or IcmpType.SourceQuench)
        {
            if (!_quiet)
                _out.WriteLine($"From {ip.Source}: icmp_seq={seq} " + (csfailed ? "(BAD CHECKSUM)" : "")
                    + DescribeIcmp(icmp.Type, icmp.Code, icmp.RestOfHeader));
            return;
        }
        // An error for one of our probes: the IP_RECVERR report (ping4_receive_error_msg) with the
        // offender as the ICMP's source and ee_info as the kernel fills it.
        Acknowledge(seq);
        _nerrors++;
        if (_quiet) return;
        uint info = icmp.Type switch
        {
            IcmpType.DestinationUnreachable when icmp.Code == IcmpCode.FragmentationNeeded => icmp.NextHopMtu,
            IcmpType.ParameterProblem => icmp.RestOfHeader >> 24,
            _ => 0,
        };
        _out.WriteLine($"From {ip.Source} icmp_seq={seq} {DescribeIcmp(icmp.Type, icmp.Code, info)}");
    }

    /// <summary>gather_statistics(): count, time and print one echo reply.</summary>
    private void GatherStatistics(Span<byte> icmp, ushort seq, int ttl, bool csfailed, Ipv4Address from, long receivedNs)
    {
        int cc = icmp.Length;
        _nreceived++;
        if (!csfailed) Acknowledge(seq);
        long triptime = 0;
        if (_timing && cc >= IcmpHeaderView.Length + TimevalSize)
        {
            long sentUs = BinaryPrimitives.ReadInt64LittleEndian(icmp[8..]) * 1_000_000
                + BinaryPrimitives.ReadInt64LittleEndian(icmp[16..]);
            triptime = ToolContext.WallMicroseconds(receivedNs) - sentUs; // SO_TIMESTAMP minus the echoed send time
            if (!csfailed)
            {
                _tsum += triptime;
                _tsum2 += (double)triptime * triptime;
                if (triptime < _tmin) _tmin = triptime;
                if (triptime > _tmax) _tmax = triptime;
                _rtt = _rtt == 0 ? triptime * 8 : _rtt + triptime - _rtt / 8;
            }
        }
        bool dup = false;
        if (csfailed)
        {
            _nchecksum++;
            _nreceived--;
        }
        else if (_rcvd[seq])
        {
            _nrepeats++;
            _nreceived--;
            dup = true;
        }
        else _rcvd[seq] = true;
        if (_quiet) return;

        var line = $"{cc} bytes from {from}: icmp_seq={seq} ttl={ttl}";
        if (cc < _datalen + IcmpHeaderView.Length)
        {
            _out.WriteLine(line + " (truncated)");
            return;
        }
        if (_timing) line += " time=" + FormatTriptime(triptime);
        if (dup) line += " (DUP!)";
        if (csfailed) line += " (BAD CHECKSUM!)";
        _out.WriteLine(line);
    }

    /// <summary>The three precisions of gather_statistics(), with their rounding.</summary>
    internal static string FormatTriptime(long t) =>
        t >= 100000 - 50 ? $"{(t + 500) / 1000} ms"
        : t >= 10000 - 5 ? $"{(t + 50) / 1000}.{(t + 50) % 1000 / 100} ms"
        : t >= 1000 ? $"{(t + 5) / 1000}.{(t + 5) % 1000 / 10:00} ms"
        : $"{t / 1000}.{t % 1000:000} ms";

    /// <summary>pr_icmph() for the types ping reports.</summary>
    internal static string DescribeIcmp(byte type, byte code, uint info) => type switch
    {
        IcmpType.DestinationUnreachable => code switch
        {
            0 => "Destination Net Unreachable",
            1 => "Destination Host Unreachable",
            2 => "Destination Protocol Unreachable",
            3 => "Destination Port Unreachable",
            4 => $"Frag needed and DF set (mtu = {info})",
            5 => "Source Route Failed",
            6 => "Destination Net Unknown",
            7 => "Destination Host Unknown",
            8 => "Source Host Isolated",
            9 => "Destination Net Prohibited",
            10 => "Destination Host Prohibited",
            11 => "Destination Net Unreachable for Type of Service",
            12 => "Destination Host Unreachable for Type of Service",
            13 => "Packet filtered",
            14 => "Precedence Violation",
            15 => "Precedence Cutoff",
            _ => $"Dest Unreachable, Bad Code: {code}",
        },
        IcmpType.SourceQuench => "Source Quench",
        IcmpType.Redirect => (code switch
        {
            0 => "Redirect Network",
            1 => "Redirect Host",
            2 => "Redirect Type of Service and Network",
            3 => "Redirect Type of Service and Host",
            _ => $"Redirect, Bad Code: {code}",
        }) + $"(New nexthop: {new Ipv4Address(info)})",
        IcmpType.TimeExceeded => code switch
        {
            0 => "Time to live exceeded",
            1 => "Frag reassembly time exceeded",
            _ => $"Time exceeded, Bad Code: {code}",
        },
        IcmpType.ParameterProblem => $"Parameter problem: pointer = {info}",
        _ => $"Bad ICMP type: {type}",
    };

    // ------------------------------------------------------------------ summary

    /// <summary>finish(): the statistics; exit 0 if anything came back (and, with -w, all of it).</summary>
    private int Finish()
    {
        long tvNs = (_curNs < 0 ? _startNs : _curNs) - _startNs;
        long sec = tvNs / 1_000_000_000, nsec = tvNs % 1_000_000_000;
        _out.WriteLine("");
        _out.WriteLine($"--- {_hostname} ping statistics ---");
        var line = $"{_ntransmitted} packets transmitted, {_nreceived} received";
        if (_nrepeats != 0) line += $", +{_nrepeats} duplicates";
        if (_nchecksum != 0) line += $", +{_nchecksum} corrupted";
        if (_nerrors != 0) line += $", +{_nerrors} errors";
        if (_ntransmitted != 0)
        {
            float loss = (float)((_ntransmitted - _nreceived) * 100.0 / _ntransmitted);
            line += $", {CFormat.G(loss)}% packet loss, time {1000 * sec + (nsec + 500_000) / 1_000_000}ms";
        }
        _out.WriteLine(line);

        line = "";
        string comma = "";
        if (_nreceived != 0 && _timing)
        {
            long total = _nreceived + _nrepeats;
            long tmavg = (long)(_tsum / total);
            long tmvar = _tsum < int.MaxValue
                ? (long)((_tsum2 - _tsum * _tsum / total) / total) // this order keeps small times exact
                : (long)(_tsum2 / total) - tmavg * tmavg;
            long tmdev = IntegerSqrt(tmvar);
            line += $"rtt min/avg/max/mdev = {Ms(_tmin)}/{Ms(tmavg)}/{Ms(_tmax)}/{Ms(tmdev)} ms";
            comma = ", ";
        }
        if (_pipesize > 1)
        {
            line += $"{comma}pipe {_pipesize}";
            comma = ", ";
        }
        if (_nreceived != 0 && _interval == 0 && _ntransmitted > 1)
        {
            long ipg = (1_000_000 * sec + nsec / 1000) / (_ntransmitted - 1);
            line += $"{comma}ipg/ewma {Ms(ipg)}/{Ms(_rtt / 8)} ms";
        }
        _out.WriteLine(line);
        return _nreceived == 0 || (_deadline != 0 && _nreceived < _npackets) ? 1 : 0;
    }

    private static string Ms(long us) => $"{us / 1000}.{us % 1000:000}";

    /// <summary>llsqrt(): Newton's method on integers.</summary>
    internal static long IntegerSqrt(long a)
    {
        long prev = long.MaxValue, x = a;
        if (x > 0)
        {
            while (x < prev)
            {
                prev = x;
                x = (x + a / x) / 2;
            }
        }
        return x;
    }
}
