using System.Globalization;
using System.Text;
using NetLab.Core.Addressing;
using NetLab.Core.Packets;
using NetLab.Core.Randomness;
using NetLab.Core.Time;
using NetLab.Drill.Parsing;
using NetLab.Stack;
using NetLab.Stack.IPv4;

namespace NetLab.Drill.Running;

/// <summary>
/// Runs a packetdrill script against a fresh NetLab host in virtual time, as packetdrill runs one against the kernel
/// through a tun device: inbound packets are injected at their script time, outbound packets are checked (fields and
/// time, within the tolerance) as the host sends them, system calls run at their time (blocking ones in the
/// background, checked when they return), and <c>%{ }%</c> blocks assert over TCP_INFO. The first difference ends
/// the run with packetdrill's kind of message.
/// </summary>
public sealed partial class DrillRunner
{
    /// <summary>How long a <c>*</c> packet is waited for.</summary>
    private const long AnyTimeLimitNs = 600_000_000_000;
    private const ushort FirstRemotePort = 48000; // the remote end's ports for passive opens, one per connection

    private static readonly MacAddress RemoteMac = MacAddress.Parse("02:00:00:00:00:02");

    private readonly DrillScript _script;
    private readonly string _path;
    private readonly DrillOptions _opt;
    private readonly Scheduler _scheduler = new();
    private readonly PacketPool _pool = new();
    private readonly Host _host;
    private readonly TunDevice _dev;
    private readonly Queue<LivePacket> _sent = new();
    private readonly List<string> _warnings = [];
    private readonly CodeEvaluator _code = new();

    private DrillOutcome? _failure;
    private int _currentLine;
    private long _baseNs; // the time relative times count from: the previous event's
    private readonly List<Flow> _flows = [];
    private Flow? _flow; // the connection inbound packets go to: the one opened last
    private ushort _nextRemotePort = FirstRemotePort;
    // TCP timestamps: live value = script value + offset, learned from the first outbound TS option.
    private (uint Script, uint Live)? _tsBase;
    private readonly Dictionary<uint, uint> _tsScriptToLive = [];

    /// <summary>One connection's numbering: ports, and the ISNs that make the script's sequence numbers relative.</summary>
    private sealed class Flow
    {
        public ushort LocalPort, RemotePort;
        public uint? LocalIsn, RemoteIsn;
        public bool Passive;
        public bool SawInboundNonSyn;
    }

    private DrillRunner(DrillScript script, string path, DrillOptions options)
    {
        _script = script;
        _path = path;
        _opt = options;
        _host = new Host("drill", _scheduler, new RandomStreams(1), _pool);
        _dev = _host.AddDevice(i => new TunDevice(_host, i, MacAddress.Parse("02:00:00:00:00:01"), options.Mtu));
        _dev.Transmitted = OnTransmit;
        _dev.SetUp(true);
        // tun0 holds the local address; the remote end sits behind the gateway, as in packetdrill's netdev setup.
        _host.Ipv4.AddAddress(_dev, new Ipv4Prefix(options.LocalIp, 16));
        if (!new Ipv4Prefix(options.LocalIp, 16).Contains(options.GatewayIp) || options.GatewayIp == options.LocalIp)
            _host.Ipv4.AddRoute(new Ipv4Prefix(options.RemoteIp, 32), null, _dev);
        else
            _host.Ipv4.AddRoute(new Ipv4Prefix(options.RemoteIp, 32), options.GatewayIp, _dev);
        _host.Neighbours.SetStatic(_dev, options.GatewayIp, RemoteMac);
        _host.Neighbours.SetStatic(_dev, options.RemoteIp, RemoteMac);
        _code.Lookup = LookupName;
    }

    /// <summary>Reads, parses and runs the script at <paramref name="path"/>.</summary>
    public static DrillOutcome RunFile(string path, long? toleranceUs = null, TextWriter? log = null)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new DrillOutcome(DrillStatus.InvalidScript, 0, $"{path}: {e.Message}", []);
        }
        return RunText(text, path, toleranceUs, log);
    }

    /// <summary>Parses and runs script text; <paramref name="path"/> names it in messages and resolves its commands' paths.</summary>
    public static DrillOutcome RunText(string text, string path, long? toleranceUs = null, TextWriter? log = null)
    {
        var parsed = ScriptParser.Parse(text);
        if (!parsed.Success)
        {
            var e = parsed.Error!;
            return new DrillOutcome(DrillStatus.InvalidScript, e.Pos.Line, $"{path}:{e.Pos.Line}:{e.Pos.Column}: syntax error: {e.Message}", []);
        }
        var script = parsed.Script!;
        var options = new DrillOptions { Log = log };
        foreach (var o in script.Options)
        {
            var (applied, error) = ApplyOption(options, o);
            if (error is not null) return new DrillOutcome(DrillStatus.InvalidScript, o.Pos.Line, $"{path}:{o.Pos.Line}: {error}", []);
            options = applied;
        }
        // The command line's --tolerance-usecs overrides the script's, as packetdrill's command line does.
        if (toleranceUs is { } tol) options = options with { ToleranceUs = tol };
        DrillRunner? runner = null;
        try
        {
            runner = new DrillRunner(script, path, options);
            return runner.Run();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NetLabSocketException or KeyNotFoundException)
        {
            // An exception here is a NetLab bug or a configuration the stack refuses (--local_ip equal to --remote_ip):
            // report it against the event that was running rather than crash the command.
            int line = runner?._currentLine ?? 0;
            return new DrillOutcome(DrillStatus.Failed, line, $"{path}:{line}: NetLab raised {e.GetType().Name}: {e.Message}", []);
        }
    }

    private static (DrillOptions, string?) ApplyOption(DrillOptions o, DrillOption opt)
    {
        string v = opt.Value ?? "";
        switch (opt.Name)
        {
            case "tolerance_usecs" when long.TryParse(v, CultureInfo.InvariantCulture, out long t) && t >= 0:
                return (o with { ToleranceUs = t }, null);
            case "tcp_ts_tick_usecs" when long.TryParse(v, CultureInfo.InvariantCulture, out long tick) && tick > 0:
                return (o with { TsTickUs = tick }, null);
            case "local_ip" when Ipv4Address.TryParse(v, out var l): return (o with { LocalIp = l }, null);
            case "remote_ip" when Ipv4Address.TryParse(v, out var r): return (o with { RemoteIp = r }, null);
            case "gateway_ip" when Ipv4Address.TryParse(v, out var g): return (o with { GatewayIp = g }, null);
            case "bind_port" when ushort.TryParse(v, CultureInfo.InvariantCulture, out var bp): return (o with { BindPort = bp }, null);
            case "connect_port" when ushort.TryParse(v, CultureInfo.InvariantCulture, out var cp): return (o with { ConnectPort = cp }, null);
            case "mtu" when int.TryParse(v, CultureInfo.InvariantCulture, out int mtu) && mtu is >= 576 and <= 65535:
                return (o with { Mtu = mtu }, null);
            case "ip_version" when v is "ipv4": return (o, null);
            case "strict_segments": return (o with { StrictSegments = true }, null);
            case "tcp_ts_ecr_scaled" or "non_fatal" or "dry_run" or "verbose" or "wire_client" or "speed" or "netmask_ip"
                or "init_scripts" or "send_omit_free":
                return (o, null);
            case "tolerance_usecs" or "tcp_ts_tick_usecs" or "local_ip" or "remote_ip" or "gateway_ip" or "bind_port"
                or "connect_port" or "mtu" or "ip_version":
                return (o, $"invalid value for --{opt.Name}: '{v}'");
            default:
                return (o, $"unknown option --{opt.Name}");
        }
    }

    // ------------------------------------------------------------------ the event loop

    private DrillOutcome Run()
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(_scheduler.SynchronizationContext);
        try
        {
            if (_script.InitCommand is { } init) RunCommand(init);
            foreach (var ev in _script.Events)
            {
                if (_failure is not null) break;
                RunEvent(ev);
            }
            if (_failure is null) Finish();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
        return _failure ?? new DrillOutcome(DrillStatus.Passed, 0, $"{_path}: passed", _warnings);
    }

    private void RunEvent(DrillEvent ev)
    {
        _currentLine = ev.Pos.Line;
        // Relative times, the end of a range and a blocking call's end time all count from the previous event.
        long origin = ev.Time.Kind == TimeKind.Absolute ? 0 : _baseNs;
        long start = ev.Time.Kind == TimeKind.Any ? _baseNs : origin + ev.Time.StartUs * 1000;
        long? end = ev.Time.EndUs is { } e ? origin + e * 1000 : null;
        if (ev.Time.Kind == TimeKind.Absolute && start < _baseNs && ev.Action is not PacketSpec { Direction: Direction.Outbound })
        {
            Fail(ev.Pos.Line, $"time {Sec(start)} is before the previous event's time {Sec(_baseNs)}");
            return;
        }
        switch (ev.Action)
        {
            case PacketSpec { Direction: Direction.Outbound } p:
            {
                long? seen = ExpectOutbound(p, ev.Time.Kind, start, end);
                // After a range or "*", relative times count from when the packet was seen (packetdrill does the same).
                _baseNs = seen is { } s && (end is not null || ev.Time.Kind == TimeKind.Any) ? s : start;
                return;
            }
            case PacketSpec p:
                AdvanceTo(start);
                _baseNs = start;
                if (_failure is null) Inject(p);
                return;
            case SyscallSpec call:
                AdvanceTo(start);
                _baseNs = start;
                if (_failure is null) StartSyscall(call, start, call.EndUs is { } callEnd ? origin + callEnd * 1000 : null);
                return;
            case CodeSpec code:
                AdvanceTo(start);
                _baseNs = start;
                if (_failure is null) RunCode(code);
                return;
            case CommandSpec cmd:
                AdvanceTo(start);
                _baseNs = start;
                if (_failure is null) RunCommand(cmd);
                return;
        }
    }

    /// <summary>
    /// After the last event: wait for a blocking call still running. Packets sent after the last event are not
    /// checked: packetdrill stops reading at the end of the script, and the kernel goes on (delayed ACKs, FINs).
    /// </summary>
    private void Finish()
    {
        if (_pending is not null) RunTo(long.MaxValue, () => _pending is null);
    }

    /// <summary>Runs the world to <paramref name="timeNs"/>, checking blocking calls as they return.</summary>
    private void AdvanceTo(long timeNs) => RunTo(timeNs, () => false);

    /// <summary>
    /// Runs events due by <paramref name="limitNs"/> until <paramref name="stop"/> holds or a check fails. A blocking
    /// call that returns is checked at once; one still blocked past its deadline (its end time plus the tolerance) fails.
    /// The clock ends at <paramref name="limitNs"/> unless the run stopped early.
    /// </summary>
    private void RunTo(long limitNs, Func<bool> stop)
    {
        while (_failure is null && !stop())
        {
            long cap = limitNs;
            if (_pending is { } p && p.DeadlineNs < cap) cap = p.DeadlineNs;
            if (!_scheduler.Step(new SimTime(cap)))
            {
                if (_pending is { } late && cap == late.DeadlineNs && cap < long.MaxValue)
                {
                    if (_scheduler.Now.Nanoseconds < cap) _scheduler.RunUntil(new SimTime(cap));
                    Fail(late.Spec.Pos.Line,
                        $"timing error: expected {late.Spec.Name}() to return by {Sec(late.ExpectedEndNs)} sec, but it is still blocked at {Sec(cap)} sec; tolerance {Sec(_opt.ToleranceUs * 1000)} sec");
                    return;
                }
                if (limitNs != long.MaxValue && _scheduler.Now.Nanoseconds < limitNs) _scheduler.RunUntil(new SimTime(limitNs));
                return;
            }
            CheckPending();
        }
    }

    private long NowNs => _scheduler.Now.Nanoseconds;

    /// <summary>The latest connection with these ports (as the host sees them), if the script opened one.</summary>
    private Flow? FindFlow(ushort localPort, ushort remotePort)
    {
        for (int i = _flows.Count - 1; i >= 0; i--)
            if (_flows[i].LocalPort == localPort && _flows[i].RemotePort == remotePort) return _flows[i];
        return null;
    }

    private void OnTransmit(Packet frame)
    {
        bool ok = DrillPackets.TryDecode(frame.Data, NowNs, out var packet);
        frame.Dispose();
        if (!ok) return; // ARP and anything not IPv4: never part of a script
        _opt.Log?.WriteLine($"{Sec(NowNs)} sent     {Format(packet!)}");
        _sent.Enqueue(packet!);
    }

    private void Fail(int line, string message)
    {
        _failure ??= new DrillOutcome(DrillStatus.Failed, line, $"{_path}:{line}: {message}", _warnings);
    }

    private void Warn(string message)
    {
        _warnings.Add(message);
        _opt.Log?.WriteLine($"warning: {message}");
    }

    // ------------------------------------------------------------------ commands and code

    private void RunCommand(CommandSpec cmd)
    {
        _opt.Log?.WriteLine($"{Sec(NowNs)} command  `{cmd.Text.Trim()}`");
        var shell = new ShellCommands(_host.Sysctl, m => Warn($"line {cmd.Pos.Line}: {m}"));
        string dir = Path.GetDirectoryName(Path.GetFullPath(_path)) ?? ".";
        if (shell.Run(cmd.Text, dir) is { } error) Fail(cmd.Pos.Line, $"command failed: {error}");
    }

    private void RunCode(CodeSpec code)
    {
        _opt.Log?.WriteLine($"{Sec(NowNs)} code     %{{{code.Text.Trim()}}}%");
        if (_code.Run(code.Text) is { } failure) Fail(code.Pos.Line, $"assertion failed: {failure}");
    }

    // ------------------------------------------------------------------ formatting

    /// <summary>Seconds with microseconds, as packetdrill prints times.</summary>
    internal static string Sec(long ns) => (ns / 1000 / 1e6).ToString("0.000000", CultureInfo.InvariantCulture);

    private string ActualLine(LivePacket p) => $"actual packet: {Sec(p.TimeNs),10} {Format(p)}";

    /// <summary>A live packet in the script's notation, with numbers made relative to the flow's ISNs where known.</summary>
    private string Format(LivePacket p)
    {
        var sb = new StringBuilder();
        sb.Append("> ");
        if (p.Tcp is not { } t)
        {
            if (p.Icmp is { } icmp) return sb.Append($"icmp type {icmp.Type} code {icmp.Code}").ToString();
            return sb.Append($"udp ({p.UdpLength})").ToString();
        }
        var flow = FindFlow(t.SrcPort, t.DstPort);
        // A SYN not yet matched counts from itself: it is the ISN the next check will learn.
        uint seqBase = flow?.LocalIsn ?? ((t.Flags & DrillFlags.Syn) != 0 ? t.Seq : 0), ackBase = flow?.RemoteIsn ?? 0;
        uint seq = t.Seq - seqBase;
        sb.Append(DrillFlags.Format(t.Flags)).Append(' ').Append(seq).Append(':').Append(seq + (uint)t.PayloadLength)
          .Append('(').Append(t.PayloadLength).Append(')');
        if ((t.Flags & DrillFlags.Ack) != 0) sb.Append(" ack ").Append(t.Ack - ackBase);
        sb.Append(" win ").Append(t.Window);
        if ((t.Flags & DrillFlags.Urg) != 0) sb.Append(" urg ").Append(t.Urgent);
        if (t.Options.Length > 0)
        {
            sb.Append(" <");
            for (int i = 0; i < t.Options.Length; i++)
            {
                if (i > 0) sb.Append(',');
                var o = t.Options[i];
                sb.Append(o.Kind switch
                {
                    TcpOptionKind.Nop => "nop",
                    TcpOptionKind.Eol => "eol",
                    TcpOptionKind.Mss => $"mss {o.Value}",
                    TcpOptionKind.WindowScale => $"wscale {o.Value}",
                    TcpOptionKind.SackPermitted => "sackOK",
                    TcpOptionKind.Timestamp => $"TS val {ScriptTsVal((uint)o.Value)} ecr {o.Value2}",
                    TcpOptionKind.Sack => "sack " + string.Join(' ', o.Blocks!.Select(b => $"{b.Start - ackBase}:{b.End - ackBase}")),
                    TcpOptionKind.FastOpen => ("FO " + Convert.ToHexStringLower(o.Cookie!)).TrimEnd(),
                    TcpOptionKind.FastOpenExp => ("FOEXP " + Convert.ToHexStringLower(o.Cookie!)).TrimEnd(),
                    TcpOptionKind.Md5 => "md5",
                    _ => $"kind {o.Value}",
                });
            }
            sb.Append('>');
        }
        return sb.ToString();
    }

    /// <summary>A live TS val in script terms (live minus the learned offset), for messages.</summary>
    private uint ScriptTsVal(uint live) => _tsBase is { } b ? live - b.Live + b.Script : live;

    private static string Format(PacketSpec p)
    {
        var sb = new StringBuilder(p.Direction == Direction.Inbound ? "< " : "> ");
        switch (p)
        {
            case TcpPacketSpec t:
                sb.Append(t.Flags).Append(' ').Append(t.Seq).Append(':').Append(t.EndSeq).Append('(').Append(t.Length).Append(')');
                if (t.Ack is { } a) sb.Append(" ack ").Append(a);
                if (t.Window is { } w) sb.Append(" win ").Append(w);
                if (t.Urgent is { } u) sb.Append(" urg ").Append(u);
                if (t.AnyOptions) sb.Append(" <...>");
                else if (t.Options is { } opts)
                    sb.Append(" <").Append(string.Join(',', opts.Select(FormatOption))).Append('>');
                break;
            case UdpPacketSpec udp: sb.Append($"udp ({udp.Length})"); break;
            case IcmpPacketSpec i: sb.Append($"icmp {i.Type} {i.Code}".TrimEnd()); break;
        }
        return sb.ToString();
    }

    private static string FormatOption(TcpOptionSpec o) => o.Kind switch
    {
        TcpOptionKind.Nop => "nop",
        TcpOptionKind.Eol => "eol",
        TcpOptionKind.Mss => $"mss {o.Value}",
        TcpOptionKind.WindowScale => $"wscale {o.Value}",
        TcpOptionKind.SackPermitted => "sackOK",
        TcpOptionKind.Timestamp => $"TS val {o.Value} ecr {o.Value2}",
        TcpOptionKind.Sack => "sack " + string.Join(' ', o.Blocks!.Select(b => $"{b.Start}:{b.End}")),
        TcpOptionKind.FastOpen => ("FO " + Convert.ToHexStringLower(o.Cookie!)).TrimEnd(),
        TcpOptionKind.FastOpenExp => ("FOEXP " + Convert.ToHexStringLower(o.Cookie!)).TrimEnd(),
        _ => "md5",
    };
}
