using NetLab.Core.Addressing;
using NetLab.Core.Packets;
using NetLab.Stack;
using NetLab.Stack.IPv4;
using NetLab.Stack.Link;
using NetLab.Stack.Neighbour;
using NetLab.Stack.Sockets;
using NetLab.Tools.Common;

namespace NetLab.Tools;

/// <summary>
/// arping from iputils (arping.c): ARP requests through a packet socket, replies from what the
/// device receives. -D (duplicate address detection, RFC 5227), -U (unsolicited), -A (replies),
/// -c, -w, -i, -I, -s, -b, -f, -q.
/// </summary>
public sealed class ArpingTool : ITool
{
    public string Name => "arping";

    public Task<int> RunAsync(ToolContext ctx, IReadOnlyList<string> args) => new ArpingRun(ctx).RunAsync(args);
}

internal sealed class ArpingRun(ToolContext ctx)
{
    private const int FinalPacks = 2;

    private readonly IToolOutput _out = ctx.Output;
    private readonly Queue<(ArpRepr Arp, PacketType Type)> _packets = new();
    private readonly WaitQueue _readable = new(ctx.Host.Scheduler);

    private int _count = -1, _timeout;
    private int _interval = 1;
    private string? _deviceName, _source;
    private bool _advert, _broadcastOnly, _dad, _quiet, _quitOnReply, _unicasting, _unsolicited;

    private NetDevice _dev = null!;
    private Ipv4Address _gsrc, _gdst;
    private MacAddress _he = MacAddress.Broadcast; // where probes go: broadcast until someone answers
    private int _sent, _brdSent, _receivedCount, _brdRecv, _reqRecv;
    private long _lastNs;

    private long MonotonicNs => ToolContext.MonotonicNs(ctx.Now.Nanoseconds);

    public async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        int status = Setup(args);
        if (status >= 0) return status;
        void OnArp(NetDevice dev, ArpRepr arp, PacketType type)
        {
            if (dev != _dev) return;
            _packets.Enqueue((arp, type));
            _readable.WakeAll();
        }
        ctx.Host.Neighbours.ArpReceived += OnArp;
        try
        {
            await EventLoop();
        }
        finally
        {
            ctx.Host.Neighbours.ArpReceived -= OnArp;
        }
        return Finish();
    }

    /// <summary>main(): options, the device, the source address, the header line; -1 to go on.</summary>
    private int Setup(IReadOnlyList<string> args)
    {
        var g = new Getopt("arping", args, "h?bfDUAqc:w:i:s:I:V");
        while (g.Next(out var opt, out var arg))
        {
            long v;
            switch (opt)
            {
                case 'b': _broadcastOnly = true; break;
                case 'D': _dad = _quitOnReply = true; break;
                case 'U': _unsolicited = true; break;
                case 'A': _advert = _unsolicited = true; break;
                case 'q': _quiet = true; break;
                case 'c':
                    if (!Iputils.StrtolOrErr(_out, "arping", arg!, "invalid argument", 1, int.MaxValue, out v)) return 1;
                    _count = (int)v;
                    break;
                case 'w':
                    if (!Iputils.StrtolOrErr(_out, "arping", arg!, "invalid argument", 0, int.MaxValue, out v)) return 1;
                    _timeout = (int)v;
                    break;
                case 'i':
                    if (!Iputils.StrtolOrErr(_out, "arping", arg!, "invalid argument", 0, int.MaxValue, out v)) return 1;
                    _interval = (int)v;
                    break;
                case 'I': _deviceName = arg; break;
                case 'f': _quitOnReply = true; break;
                case 's': _source = arg; break;
                default:
                    if (g.Error is not null) _out.WriteError(g.Error);
                    Usage();
                    return 2;
            }
        }
        if (g.Operands.Count != 1)
        {
            Usage();
            return 2;
        }
        var target = g.Operands[0];
        if (!Ipv4Address.TryParse(target, out _gdst))
        {
            _out.WriteError($"arping: {target}: Name or service not known");
            return 2;
        }
        var host = ctx.Host;
        // guess_device(): the device of the route to the target.
        var dev = _deviceName is not null ? host.FindDevice(_deviceName) : host.Ipv4.RouteOutput(_gdst)?.Device;
        if (dev is null)
        {
            _out.WriteError(_deviceName is not null
                ? $"arping: Device {_deviceName} not available."
                : "arping: Suitable device could not be determined. Please, use option -I.");
            return 2;
        }
        // check_ifflags()
        if (!dev.IsUp)
        {
            if (!_quiet) _out.WriteLine($"Interface \"{dev.Name}\" is down");
            return 2;
        }
        if (dev.IsLoopback || dev.NoArp)
        {
            if (!_quiet) _out.WriteLine($"Interface \"{dev.Name}\" is not ARPable");
            return _dad ? 0 : 2;
        }
        _dev = dev;
        if (_source is not null && !Ipv4Address.TryParse(_source, out _gsrc))
        {
            _out.WriteError($"arping: invalid source {_source}");
            return 2;
        }
        if (!_dad && _unsolicited && _source is null) _gsrc = _gdst;
        if (!_dad || _source is not null)
        {
            // A UDP probe socket on the device: bind() checks the source, connect() with
            // SO_DONTROUTE (on-link only) picks one.
            if (_source is not null || !_gsrc.IsUnspecified)
            {
                if (!host.Ipv4.IsLocalAddress(_gsrc) && host.Ipv4Sysctl.IpNonlocalBind == 0)
                {
                    _out.WriteError("arping: bind: Cannot assign requested address");
                    return 2;
                }
            }
            else if (!_unsolicited)
            {
                var route = host.Ipv4.RouteOutput(_gdst, dev.IfIndex);
                if (route is null || route.Gateway is not null)
                {
                    _out.WriteError("arping: connect: Network is unreachable");
                    return 2;
                }
                _gsrc = route.PreferredSource ?? host.Ipv4.SelectSourceAddress(dev, _gdst);
            }
        }
        if (!_quiet) _out.WriteLine($"ARPING {_gdst} from {_gsrc} {dev.Name}");
        if (_source is null && _gsrc.IsUnspecified && !_dad)
        {
            _out.WriteError("arping: no source address in not-DAD mode");
            return 2;
        }
        return -1;
    }

    private void Usage()
    {
        _out.WriteError("");
        _out.WriteError("Usage:");
        _out.WriteError("  arping [options] <destination>");
    }

    /// <summary>
    /// event_loop(): a probe now and on every interval tick (timerfd), -w as a deadline, and the
    /// packet socket; one poll round handles the ready sources in that order.
    /// </summary>
    private async Task EventLoop()
    {
        long startNs = ctx.Now.Nanoseconds;
        long intervalNs = _interval * 1_000_000_000L;
        long nextTickNs = intervalNs > 0 ? startNs + intervalNs : long.MaxValue; // it_value 0 disarms the timer
        long timeoutAtNs = _timeout > 0 ? startNs + _timeout * 1_000_000_000L : long.MaxValue;
        long totalExpires = 1;
        SendPack();
        bool exit = false;
        while (!exit)
        {
            if (_sent == _count && _unsolicited) break;
            long now = ctx.Now.Nanoseconds;
            long until = Math.Min(nextTickNs, timeoutAtNs);
            if (_packets.Count == 0 && until > now)
                await ctx.WaitAsync(_readable.WaitAsync, until == long.MaxValue ? -1 : until - now, ctx.CancellationToken);
            now = ctx.Now.Nanoseconds;
            if (ctx.CancellationToken.IsCancellationRequested) break; // SIGINT through the signalfd
            if (now >= nextTickNs)
            {
                long expirations = (now - nextTickNs) / intervalNs + 1;
                nextTickNs += expirations * intervalNs;
                totalExpires += expirations;
                if (_count > 0 && _count < totalExpires) exit = true;
                else SendPack();
            }
            if (now >= timeoutAtNs) exit = true;
            if (_packets.TryDequeue(out var packet) && RecvPack(packet.Arp, packet.Type) == FinalPacks) exit = true;
        }
    }

    /// <summary>send_pack(): a request (or with -A a reply) from our MAC and source to the target.</summary>
    private void SendPack()
    {
        var me = _dev.Mac;
        _lastNs = MonotonicNs;
        ctx.Host.Neighbours.SendArp(_dev, _advert ? ArpOp.Reply : ArpOp.Request, _gsrc, _gdst, _he, _advert ? me : _he);
        _sent++;
        if (!_unicasting) _brdSent++;
    }

    /// <summary>recv_pack(): filter what the packet socket saw, print it, decide whether to stop.</summary>
    private int RecvPack(ArpRepr arp, PacketType type)
    {
        long ts = MonotonicNs;
        if (type is not (PacketType.Host or PacketType.Broadcast or PacketType.Multicast)) return 0;
        var me = _dev.Mac;
        if (!_dad)
        {
            if (arp.SenderIp != _gdst || _gsrc != arp.TargetIp || arp.TargetMac != me) return 0;
        }
        else
        {
            // DAD (RFC 5227 §2.1.1): anyone else claiming the address; with a source set, also for it.
            if (arp.SenderIp != _gdst || arp.SenderMac == me) return 0;
            if (!_gsrc.IsUnspecified && _gsrc != arp.TargetIp) return 0;
        }
        if (!_quiet)
        {
            var line = $"{(type == PacketType.Host ? "Unicast" : "Broadcast")} {(arp.Operation == ArpOp.Reply ? "reply" : "request")} from {arp.SenderIp} [{Upper(arp.SenderMac)}] ";
            bool forPrinted = false;
            if (arp.TargetIp != _gsrc)
            {
                line += $"for {arp.TargetIp} ";
                forPrinted = true;
            }
            if (arp.TargetMac != me) line += (forPrinted ? "" : "for ") + $"[{Upper(arp.TargetMac)}]";
            // The time since the last probe, plus half a millisecond from arping's own rounding.
            long secs = ts / 1_000_000_000 - _lastNs / 1_000_000_000;
            long usecs = secs * 1_000_000 + (ts % 1_000_000_000 - _lastNs % 1_000_000_000 + 500) / 1000;
            long msecs = (usecs + 500) / 1000;
            usecs -= msecs * 1000 - 500;
            _out.WriteLine(line + $" {msecs}.{usecs:000}ms");
        }
        _receivedCount++;
        if (_timeout != 0 && _receivedCount == _count) return FinalPacks;
        if (type != PacketType.Host) _brdRecv++;
        if (arp.Operation == ArpOp.Request) _reqRecv++;
        if (_quitOnReply || (_count == 0 && _receivedCount == _sent)) return FinalPacks;
        if (!_broadcastOnly)
        {
            _he = arp.SenderMac;
            _unicasting = true;
        }
        return 1;
    }

    private static string Upper(MacAddress mac) => mac.ToString().ToUpperInvariant();

    /// <summary>finish(): the counts; with -D exit 1 when someone has the address.</summary>
    private int Finish()
    {
        if (!_quiet)
        {
            _out.WriteLine($"Sent {_sent} probes ({_brdSent} broadcast(s))");
            var line = $"Received {_receivedCount} response(s)";
            if (_brdRecv != 0 || _reqRecv != 0)
            {
                line += " (";
                if (_reqRecv != 0) line += $"{_reqRecv} request(s)";
                if (_brdRecv != 0) line += $"{(_reqRecv != 0 ? ", " : "")}{_brdRecv} broadcast(s)";
                line += ")";
            }
            _out.WriteLine(line);
        }
        if (_dad) return _receivedCount != 0 ? 1 : 0;
        if (_unsolicited) return 0;
        if (_timeout != 0 && _count > 0 && !_quitOnReply) return _count <= _receivedCount ? 0 : 1;
        return _receivedCount == 0 ? 1 : 0;
    }
}
