using System.Buffers.Binary;
using NetLab.Core.Addressing;
using NetLab.Stack;
using NetLab.Stack.IPv4;
using NetLab.Stack.Sockets;
using NetLab.Stack.Udp;
using NetLab.Tools.Common;

namespace NetLab.Tools;

/// <summary>
/// tracepath from iputils (tracepath.c): one UDP socket with IP_PMTUDISC_DO and IP_RECVERR,
/// probes of the current MTU to port 44444 + n, hop by hop, reading answers from the error queue.
/// Options: -n, -b, -l pktlen, -m max hops, -p port. Addresses are always numeric (no DNS yet).
/// </summary>
public sealed class TracepathTool : ITool
{
    public string Name => "tracepath";

    public Task<int> RunAsync(ToolContext ctx, IReadOnlyList<string> args) => new TracepathRun(ctx).RunAsync(args);
}

internal sealed class TracepathRun(ToolContext ctx)
{
    private const int MaxProbes = 10, MaxHopsLimit = 255, HostColumnSize = 52, HistorySize = 64;
    private const int Overhead = 28;            // DEFAULT_OVERHEAD_IPV4: IP + UDP headers
    private const int DefaultMtu = 65535, DefaultBasePort = 44444;
    private const int ProbeHeaderSize = 24;     // struct probehdr: u32 ttl, padding, struct timespec

    private readonly IToolOutput _out = ctx.Output;
    private readonly (int Hops, long SendNs)[] _his = new (int, long)[HistorySize];
    private int _hisptr;
    private int _maxHops = 30;
    private int _mtu;
    private ushort _basePort;
    private int _ttl;
    private int _hopsTo = -1, _hopsFrom = -1;
    private bool _showBoth;
    private Ipv4Address _target;
    private UdpSocket _socket = null!;

    /// <summary>CLOCK_MONOTONIC: never 0, which tracepath would read as a broken router's payload.</summary>
    private long MonotonicNs => ToolContext.MonotonicNs(ctx.Now.Nanoseconds);

    public async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var g = new Getopt("tracepath", args, "46nbhl:m:p:");
        while (g.Next(out var opt, out var arg))
        {
            long v;
            switch (opt)
            {
                case '4' or 'n': break;
                case 'b': _showBoth = true; break;
                case 'l':
                    if (!Iputils.StrtolOrErr(_out, "tracepath", arg!, "invalid argument", 0, int.MaxValue, out v)) return 1;
                    _mtu = (int)v;
                    break;
                case 'm':
                    if (!Iputils.StrtolOrErr(_out, "tracepath", arg!, "invalid argument", 0, MaxHopsLimit, out v)) return 1;
                    _maxHops = (int)v;
                    break;
                case 'p':
                    if (!Iputils.StrtolOrErr(_out, "tracepath", arg!, "invalid argument", 0, ushort.MaxValue, out v)) return 1;
                    _basePort = (ushort)v;
                    break;
                default:
                    if (g.Error is not null) _out.WriteError(g.Error);
                    Usage();
                    return 255;
            }
        }
        if (g.Operands.Count != 1)
        {
            Usage();
            return 255;
        }
        var target = g.Operands[0];
        // Backward compatibility: "host/port".
        if (_basePort == 0)
        {
            int slash = target.IndexOf('/');
            if (slash >= 0)
            {
                if (!Iputils.StrtolOrErr(_out, "tracepath", target[(slash + 1)..], "invalid argument", 0, ushort.MaxValue, out var port)) return 1;
                _basePort = (ushort)port;
                target = target[..slash];
            }
            else _basePort = DefaultBasePort;
        }
        if (!Ipv4Address.TryParse(target, out _target))
        {
            _out.WriteError($"tracepath: {target}: Name or service not known");
            return 1;
        }
        if (_mtu == 0) _mtu = DefaultMtu;
        if (_mtu <= Overhead)
        {
            _out.WriteError($"tracepath: pktlen must be within: {Overhead} < value <= {int.MaxValue}");
            return 1;
        }

        using var socket = ctx.Host.Udp.Open();
        _socket = socket;
        // iputils 20221126 sets IP_PMTUDISC_DO (strace: setsockopt(IP_MTU_DISCOVER, [2])), not PROBE as
        // older tracepath.c did: a path MTU learned earlier caps the first probe, so a second run
        // starts with " 1?: [LOCALHOST] pmtu 1400" (RealPeerTests.Tracepath_FindsPmtu1400_ThenStartsFromIt).
        socket.PmtuDisc = PmtuDisc.Do;
        socket.RecvErr = true;
        for (_ttl = 1; _ttl <= _maxHops; _ttl++)
        {
            socket.Ttl = _ttl;
            int res = -1;
            for (int i = 0; i < 3; i++)
            {
                if (ctx.CancellationToken.IsCancellationRequested) return ToolRunner.InterruptedStatus;
                int oldMtu = _mtu;
                res = await ProbeTtl();
                if (_mtu != oldMtu) i = -1; // a new MTU: probe this hop again from scratch
                else if (res == 0) return Done();
                else if (res > 0) break;
            }
            if (res < 0) _out.WriteLine($"{_ttl,2}:  no reply");
        }
        _out.WriteLine($"     Too many hops: pmtu {_mtu}");
        return Done();
    }

    private int Done()
    {
        _out.WriteLine($"     Resume: pmtu {_mtu} " + (_hopsTo >= 0 ? $"hops {_hopsTo} " : "") + (_hopsFrom >= 0 ? $"back {_hopsFrom} " : ""));
        return 0;
    }

    private void Usage()
    {
        foreach (var line in UsageText) _out.WriteError(line);
    }

    /// <summary>usage() of iputils 20221126, word for word.</summary>
    private static readonly string[] UsageText =
    [
        "",
        "Usage",
        "  tracepath [options] <destination>",
        "",
        "Options:",
        "  -4             use IPv4",
        "  -6             use IPv6",
        "  -b             print both name and ip",
        "  -l <length>    use packet <length>",
        "  -m <hops>      use maximum <hops>",
        "  -n             no dns name resolution",
        "  -p <port>      use destination <port>",
        "  -V             print version and exit",
        "  <destination>  dns name or ip address",
        "",
        "For more details see tracepath(8).",
    ];

    /// <summary>probe_ttl(): send one probe of the current MTU (lowering it on local errors), then wait a second for news.</summary>
    private async Task<int> ProbeTtl()
    {
        var buf = new byte[_mtu - Overhead];
        int i;
        for (i = 0; i < MaxProbes; i++)
        {
            if (buf.Length != _mtu - Overhead) buf = new byte[_mtu - Overhead];
            long ts = MonotonicNs;
            BinaryPrimitives.WriteUInt32LittleEndian(buf, (uint)_ttl);
            BinaryPrimitives.WriteInt64LittleEndian(buf.AsSpan(8), ts / 1_000_000_000);
            BinaryPrimitives.WriteInt64LittleEndian(buf.AsSpan(16), ts % 1_000_000_000);
            _his[_hisptr] = (_ttl, ts);
            if (buf.Length > 0 && _socket.SendTo(buf, _target, (ushort)(_basePort + _hisptr)) == Errno.None) break;
            int res = RecvErr();
            _his[_hisptr].Hops = 0;
            if (res == 0) return 0;
            if (res > 0) i = -1; // restart with the new MTU
        }
        _hisptr = (_hisptr + 1) & (HistorySize - 1);
        if (i >= MaxProbes)
        {
            _out.WriteLine($"{_ttl,2}:  send failed");
            return 0;
        }
        // data_wait(): select() for a second; recv() then fails with the pending error, if any.
        await ctx.WaitAsync(_socket.WaitReadableAsync, 1_000_000_000, ctx.CancellationToken);
        if (_socket.TryReceive(new byte[_mtu], out _) == Errno.None)
        {
            _out.WriteLine($"{_ttl,2}?: reply received 8)");
            return 0;
        }
        return RecvErr();
    }

    /// <summary>
    /// recverr(): print every queued error; 0 when the trace is over, the MTU when something was
    /// read, -1 when the queue was empty.
    /// </summary>
    private int RecvErr()
    {
        int progress = -1;
        while (true)
        {
            long now = MonotonicNs;
            if (!_socket.TryReceiveError(out var e)) return progress;
            progress = _mtu;
            int sndhops = -1;
            long? retts = null;
            bool brokenRouter = false;
            int slot = e!.DestinationPort - _basePort;
            if (slot >= 0 && slot < HistorySize - 1 && _his[slot].Hops != 0)
            {
                sndhops = _his[slot].Hops;
                retts = _his[slot].SendNs;
                _his[slot].Hops = 0;
            }
            // The quoted payload is our probe header (recvmsg() truncates it to sizeof(struct probehdr)).
            if (e.Payload.Length >= ProbeHeaderSize)
            {
                uint ttl = BinaryPrimitives.ReadUInt32LittleEndian(e.Payload);
                long sec = BinaryPrimitives.ReadInt64LittleEndian(e.Payload.AsSpan(8));
                long nsec = BinaryPrimitives.ReadInt64LittleEndian(e.Payload.AsSpan(16));
                if (ttl == 0 || (sec == 0 && nsec == 0)) brokenRouter = true;
                else
                {
                    sndhops = (int)ttl;
                    retts = sec * 1_000_000_000 + nsec;
                }
            }
            // IP_TTL comes only with ICMP errors; a local error has none.
            int rethops = e.Origin == ErrOrigin.Icmp ? e.OffenderTtl : -1;

            var line = new System.Text.StringBuilder();
            if (e.Origin == ErrOrigin.Local) line.Append($"{_ttl,2}?: {"[LOCALHOST]",-32} ");
            else
            {
                line.Append(sndhops > 0 ? $"{sndhops,2}:  " : $"{_ttl,2}?: ");
                var host = _showBoth ? $"{e.Offender} ({e.Offender})" : e.Offender.ToString();
                line.Append(host).Append(' ', HostColumnSize - Math.Min(host.Length, HostColumnSize - 1));
            }
            if (retts is { } sent)
            {
                long diff = now - sent;
                line.Append($"{diff / 1_000_000,3}.{diff % 1_000_000 / 1000:000}ms ");
                if (brokenRouter) line.Append("(This broken router returned corrupted payload) ");
            }
            rethops = rethops <= 64 ? 65 - rethops : rethops <= 128 ? 129 - rethops : 256 - rethops;

            switch (e.Errno)
            {
                case Errno.ETIMEDOUT:
                    _out.WriteLine(line.ToString());
                    break;
                case Errno.EMSGSIZE:
                    _out.WriteLine(line.Append($"pmtu {e.Info}").ToString());
                    _mtu = (int)e.Info;
                    progress = _mtu;
                    break;
                case Errno.ECONNREFUSED:
                    _out.WriteLine(line.Append("reached").ToString());
                    _hopsTo = sndhops < 0 ? _ttl : sndhops;
                    _hopsFrom = rethops;
                    return 0;
                case Errno.EPROTO:
                    _out.WriteLine(line.Append("!P").ToString());
                    return 0;
                case Errno.EHOSTUNREACH when e.Origin == ErrOrigin.Icmp && e.Type == Stack.Icmp.IcmpType.TimeExceeded
                    && e.Code == Stack.Icmp.IcmpCode.TtlExceeded:
                    // Return hops guessed from the TTL left: differing from the probe's TTL means an asymmetric path.
                    if (rethops >= 0 && ((sndhops >= 0 && rethops != sndhops) || (sndhops < 0 && rethops != _ttl)))
                        line.Append($"asymm {rethops,2} ");
                    _out.WriteLine(line.ToString());
                    break;
                case Errno.EHOSTUNREACH:
                    _out.WriteLine(line.Append("!H").ToString());
                    return 0;
                case Errno.ENETUNREACH:
                    _out.WriteLine(line.Append("!N").ToString());
                    return 0;
                case Errno.EACCES:
                    _out.WriteLine(line.Append("!A").ToString());
                    return 0;
                default:
                    _out.WriteLine(line.ToString());
                    _out.WriteError($"tracepath: NET ERROR: {ErrnoText.Describe(e.Errno)}");
                    return 0;
            }
        }
    }
}
