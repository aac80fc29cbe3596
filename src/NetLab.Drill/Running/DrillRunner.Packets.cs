using NetLab.Drill.Parsing;
using NetLab.Stack.IPv4;

namespace NetLab.Drill.Running;

public sealed partial class DrillRunner
{
    private const ushort DefaultInboundWindow = 65535;
    private const byte InboundTtl = 64;
    private const byte IcmpDestUnreach = 3; // ICMP_DEST_UNREACH (RFC 792)

    // ------------------------------------------------------------------ outbound

    /// <summary>
    /// Waits for the host's next packet until the end of the event's window plus the tolerance, then checks it against
    /// <paramref name="spec"/>: fields first, then time. Returns when it was sent, or null after a failure.
    /// </summary>
    private long? ExpectOutbound(PacketSpec spec, TimeKind kind, long startNs, long? endNs)
    {
        long tol = _opt.ToleranceUs * 1000;
        long lastNs = kind == TimeKind.Any ? startNs + AnyTimeLimitNs : (endNs ?? startNs) + tol;
        RunTo(lastNs, () => _sent.Count > 0);
        if (_failure is not null) return null;
        string scriptLine = $"script packet: {Sec(startNs),10} {Format(spec)}";
        if (!_sent.TryDequeue(out var live))
        {
            Fail(spec.Pos.Line, $"error handling packet: Timed out waiting for packet\n{scriptLine}");
            return null;
        }
        if (spec is TcpPacketSpec { Length: > 0 } want && !_opt.StrictSegments && live.Tcp is { PayloadLength: > 0 } first
            && first.PayloadLength < want.Length)
        {
            live = AggregateSegments(live, want.Length, lastNs, out string? fragmentError);
            if (fragmentError is not null)
            {
                Fail(spec.Pos.Line, $"error handling packet: {fragmentError}\n{scriptLine}\n{ActualLine(live)}");
                return null;
            }
        }
        string? mismatch = spec switch
        {
            TcpPacketSpec t => CompareTcp(t, live),
            UdpPacketSpec u => live.UdpLength == u.Length ? null : $"expected a UDP datagram of {u.Length} bytes",
            IcmpPacketSpec => live.Icmp is null ? "expected an ICMP message" : null,
            _ => null,
        };
        mismatch ??= CompareIp(spec.Ip, live.Ip);
        if (mismatch is not null)
        {
            Fail(spec.Pos.Line, $"error handling packet: {mismatch}\n{scriptLine}\n{ActualLine(live)}");
            return null;
        }
        _opt.Log?.WriteLine($"{Sec(live.TimeNs)} matched  line {spec.Pos.Line}: {Format(spec)}");
        if (kind != TimeKind.Any && (live.TimeNs < startNs - tol || live.TimeNs > (endNs ?? startNs) + tol))
        {
            string expected = endNs is { } e ? $"between {Sec(startNs)} and {Sec(e)} sec" : $"at {Sec(startNs)} sec";
            Fail(spec.Pos.Line, $"timing error: expected outbound packet {expected} but happened at {Sec(live.TimeNs)} sec; tolerance {Sec(tol)} sec\n{scriptLine}\n{ActualLine(live)}");
            return null;
        }
        return live.TimeNs;
    }

    /// <summary>
    /// packetdrill's aggregation of outbound segments (do_outbound_script_packet, verify_packet_fragments): take the
    /// host's next segments until their payload reaches <paramref name="expectedPayload"/>. Each must continue the
    /// previous one (sequence, ports, ack, window, flags but FIN, PSH and CWR, option kinds) and every one but the last
    /// must be as long as the one before. The aggregate has the first segment's header with the last one's FIN and
    /// PSH, and its time.
    /// </summary>
    private LivePacket AggregateSegments(LivePacket first, int expectedPayload, long lastNs, out string? error)
    {
        error = null;
        var prev = first;
        int total = first.Tcp!.PayloadLength;
        while (total < expectedPayload)
        {
            RunTo(lastNs, () => _sent.Count > 0);
            if (_failure is not null || !_sent.TryPeek(out var next)) break; // too little: the length check reports it
            var a = prev.Tcp!;
            if (next.Tcp is not { } b) break;
            const ushort loose = DrillFlags.Fin | DrillFlags.Psh | DrillFlags.Cwr;
            if (b.SrcPort != a.SrcPort || b.DstPort != a.DstPort || b.Seq != a.Seq + (uint)a.PayloadLength || b.Ack != a.Ack
                || b.Window != a.Window || (b.Flags & ~loose) != (a.Flags & ~loose)
                || !b.Options.Select(o => o.Kind).SequenceEqual(a.Options.Select(o => o.Kind)))
            {
                error = "aggregate candidate does not continue the previous segment";
                break;
            }
            _sent.Dequeue();
            if (b.PayloadLength < expectedPayload - total && b.PayloadLength != a.PayloadLength)
            {
                error = $"fragment payload: expected {a.PayloadLength} bytes vs actual {b.PayloadLength} bytes; total payload: expected {expectedPayload} bytes vs actual {total + b.PayloadLength} bytes";
                prev = next;
                break;
            }
            total += b.PayloadLength;
            prev = next;
        }
        if (ReferenceEquals(prev, first)) return first;
        var f = first.Tcp!;
        ushort flags = (ushort)((f.Flags & ~(DrillFlags.Fin | DrillFlags.Psh)) | (prev.Tcp!.Flags & (DrillFlags.Fin | DrillFlags.Psh)));
        return first with { Tcp = f with { Flags = flags, PayloadLength = total } };
    }

    /// <summary>packetdrill's verify_outbound_live_packet() for TCP, field by field; null when everything matches.</summary>
    private string? CompareTcp(TcpPacketSpec s, LivePacket live)
    {
        if (live.Tcp is not { } t) return "live packet is not TCP";
        // Packets belong to a connection by their ports; the host's SYN opens a new one (unless it retransmits the
        // last SYN), and its SYN or SYN-ACK fixes the ISN its sequence numbers count from.
        var flow = FindFlow(t.SrcPort, t.DstPort);
        if ((t.Flags & (DrillFlags.Syn | DrillFlags.Ack)) == DrillFlags.Syn && (flow is null || flow.LocalIsn != t.Seq))
        {
            flow = new Flow { LocalPort = t.SrcPort, RemotePort = t.DstPort };
            _flows.Add(flow);
            _flow = flow;
        }
        if (flow is not null && (t.Flags & DrillFlags.Syn) != 0) flow.LocalIsn = t.Seq;
        ushort want = DrillFlags.Parse(s.Flags);
        if ((t.Flags & 0xFF) != want)
            return $"live packet field tcp_flags: expected: {DrillFlags.Format(want)} vs actual: {DrillFlags.Format(t.Flags)}";
        if (flow?.LocalIsn is not { } isn)
            return $"the host sent a segment on a connection without a SYN in the script (ports {t.SrcPort} > {t.DstPort}): its sequence numbers cannot be made relative";
        uint seq = t.Seq - isn;
        if (seq != s.Seq) return Field("tcp_seq", s.Seq, seq);
        if (t.PayloadLength != s.Length) return Field("tcp_data_len", (uint)s.Length, (uint)t.PayloadLength);
        if (s.Ack is { } ack)
        {
            if (flow.RemoteIsn is not { } risn) return "the script expects an ack before the remote end sent a SYN";
            if (t.Ack - risn != ack) return Field("tcp_ack_seq", ack, t.Ack - risn);
        }
        if (s.Window is { } win && t.Window != win) return Field("tcp_window", (uint)win, t.Window);
        if (s.Urgent is { } urg && t.Urgent != urg) return Field("tcp_urg_ptr", (uint)urg, t.Urgent);
        if (s.AnyOptions) return null;
        return CompareOptions(s.Options ?? [], t.Options, flow);
    }

    private static string Field(string name, uint expected, uint actual) =>
        $"live packet field {name}: expected: {expected} (0x{expected:x}) vs actual: {actual} (0x{actual:x})";

    private string? CompareOptions(IReadOnlyList<TcpOptionSpec> want, LiveOption[] got, Flow flow)
    {
        if (want.Count != got.Length || !want.Select(o => o.Kind).SequenceEqual(got.Select(o => o.Kind)))
            return $"bad outbound TCP options: expected <{string.Join(',', want.Select(FormatOption))}>";
        for (int i = 0; i < want.Count; i++)
        {
            var w = want[i];
            var g = got[i];
            switch (w.Kind)
            {
                case TcpOptionKind.Mss when g.Value != w.Value:
                    return Field("tcp_option mss", (uint)w.Value, (uint)g.Value);
                case TcpOptionKind.WindowScale when g.Value != w.Value:
                    return Field("tcp_option wscale", (uint)w.Value, (uint)g.Value);
                case TcpOptionKind.Sack:
                {
                    uint risn = flow.RemoteIsn ?? 0;
                    var live = g.Blocks!.Select(b => (b.Start - risn, b.End - risn)).ToArray();
                    if (!live.SequenceEqual(w.Blocks!))
                        return $"bad outbound TCP options: expected sack {string.Join(' ', w.Blocks!.Select(b => $"{b.Start}:{b.End}"))} vs actual sack {string.Join(' ', live.Select(b => $"{b.Item1}:{b.Item2}"))}";
                    break;
                }
                case TcpOptionKind.Timestamp:
                {
                    if (CheckTsVal((uint)w.Value, (uint)g.Value) is { } tsError) return tsError;
                    // The remote end's TS val go out verbatim, so the echo must match the script exactly.
                    if ((uint)g.Value2 != (uint)w.Value2) return Field("tcp_option TS ecr", (uint)w.Value2, (uint)g.Value2);
                    break;
                }
                case TcpOptionKind.FastOpen or TcpOptionKind.FastOpenExp when w.Cookie is not null && !g.Cookie!.AsSpan().SequenceEqual(w.Cookie):
                    return $"bad outbound TCP options: expected FO cookie {Convert.ToHexStringLower(w.Cookie)} vs actual {Convert.ToHexStringLower(g.Cookie!)}";
            }
        }
        return null;
    }

    /// <summary>
    /// Outbound TS val: the first one fixes the script-to-live offset. Later ones are checked only with
    /// --tcp_ts_tick_usecs, as a clock of that tick within the tolerance (packetdrill's rule); otherwise any value passes.
    /// </summary>
    private string? CheckTsVal(uint script, uint live)
    {
        _tsScriptToLive[script] = live;
        if (_tsBase is not { } b)
        {
            _tsBase = (script, live);
            return null;
        }
        if (_opt.TsTickUs is not { } tick) return null;
        long expectedTicks = (int)(script - b.Script), actualTicks = (int)(live - b.Live);
        long slack = _opt.ToleranceUs / tick + 1;
        return Math.Abs(expectedTicks - actualTicks) <= slack ? null
            : $"live packet field tcp_option TS val: expected: {script} vs actual: {ScriptTsVal(live)} (ticks of {tick} us since the first TS val: expected {expectedTicks}, actual {actualTicks})";
    }

    private static string? CompareIp(IpInfo? want, Ipv4Repr ip)
    {
        if (want is null) return null;
        if (want.Ecn is { } ecn && (ip.Tos & 3) != ecn) return $"live packet field ip_ecn: expected: {EcnName(ecn)} vs actual: {EcnName((byte)(ip.Tos & 3))}";
        if (want.Tos is { } tos && ip.Tos != tos) return $"live packet field ip_tos: expected: 0x{tos:x} vs actual: 0x{ip.Tos:x}";
        if (want.Ttl is { } ttl && ip.Ttl != ttl) return $"live packet field ip_ttl: expected: {ttl} vs actual: {ip.Ttl}";
        return null;
    }

    private static string EcnName(byte ecn) => ecn switch { 0 => "noecn", 1 => "ect1", 2 => "ect0", _ => "ce" };

    // ------------------------------------------------------------------ inbound

    /// <summary>Injects the remote end's packet, its numbers mapped from the script's relative ones.</summary>
    private void Inject(PacketSpec spec)
    {
        if (_sent.TryDequeue(out var unexpected))
        {
            Fail(spec.Pos.Line, $"error handling packet: unexpected outbound packet (sent before this inbound packet, which the script does not expect)\n{ActualLine(unexpected)}");
            return;
        }
        byte tos = (byte)((spec.Ip?.Tos ?? 0) | (spec.Ip?.Ecn ?? 0));
        byte ttl = spec.Ip?.Ttl ?? InboundTtl;
        byte[] frame;
        switch (spec)
        {
            case TcpPacketSpec t:
                if (BuildInboundTcp(t, tos, ttl) is not { } f) return;
                frame = f;
                break;
            case IcmpPacketSpec i:
                if (BuildInboundIcmp(i) is not { } icmp) return;
                frame = icmp;
                break;
            case UdpPacketSpec u:
                frame = DrillPackets.BuildUdp(_dev.Mac, RemoteMac, _opt.RemoteIp, _opt.LocalIp, tos, ttl, _nextRemotePort, _opt.BindPort, u.Length);
                break;
            default: return;
        }
        _opt.Log?.WriteLine($"{Sec(NowNs)} inject   line {spec.Pos.Line}: {Format(spec)}");
        _dev.Inject(_pool.RentCopy(frame));
    }

    private byte[]? BuildInboundTcp(TcpPacketSpec t, byte tos, byte ttl)
    {
        ushort flags = DrillFlags.Parse(t.Flags);
        bool syn = (flags & DrillFlags.Syn) != 0, ack = (flags & DrillFlags.Ack) != 0;
        if (t.AnyOptions)
        {
            Fail(t.Pos.Line, "an inbound packet needs its options spelled out; <...> only matches outbound packets");
            return null;
        }
        if (syn && !ack)
        {
            // A SYN starts a new passive flow (a new remote port), unless it repeats the current flow's SYN.
            if (_flow is not { Passive: true, SawInboundNonSyn: false } f || f.RemoteIsn != t.Seq)
            {
                _flow = new Flow { LocalPort = _boundPort ?? _opt.BindPort, RemotePort = _nextRemotePort++, Passive = true };
                _flows.Add(_flow);
            }
        }
        var flow = _flow;
        if (flow is null)
        {
            Fail(t.Pos.Line, "an inbound packet before any SYN: there is no connection to send it on");
            return null;
        }
        // The first SYN's sequence number is the remote ISN; later packets count from it.
        if (syn) flow.RemoteIsn = t.Seq;
        else flow.SawInboundNonSyn = true;
        if (flow.RemoteIsn is not { } risn)
        {
            Fail(t.Pos.Line, "an inbound segment before the remote end's SYN: its sequence number cannot be mapped");
            return null;
        }
        uint seq = syn ? risn : risn + t.Seq;
        uint ackNum = 0;
        if (t.Ack is { } a)
        {
            if (flow.LocalIsn is not { } lisn)
            {
                if (a != 0)
                {
                    Fail(t.Pos.Line, "an inbound ack before the host sent its SYN: the ack number cannot be mapped");
                    return null;
                }
            }
            else ackNum = lisn + a;
        }
        var options = new List<LiveOption>();
        foreach (var o in t.Options ?? [])
        {
            if (o.Kind is TcpOptionKind.FastOpen or TcpOptionKind.FastOpenExp && o.Cookie is null)
            {
                Fail(t.Pos.Line, "an inbound Fast Open option needs a hex cookie; a symbolic one (TFO_COOKIE) is not defined");
                return null;
            }
            options.Add(o.Kind switch
            {
                TcpOptionKind.Sack => new LiveOption(o.Kind, Blocks: o.Blocks!.Select(b => (b.Start + (flow.LocalIsn ?? 0), b.End + (flow.LocalIsn ?? 0))).ToArray()),
                TcpOptionKind.Timestamp => new LiveOption(o.Kind, o.Value, LiveTsEcr((uint)o.Value2)),
                _ => new LiveOption(o.Kind, o.Value, o.Value2, Cookie: o.Cookie),
            });
        }
        return DrillPackets.BuildTcp(_dev.Mac, RemoteMac, _opt.RemoteIp, _opt.LocalIp, tos, ttl, flow.RemotePort, flow.LocalPort,
            seq, ackNum, flags, (ushort)(t.Window ?? DefaultInboundWindow), (ushort)(t.Urgent ?? 0), DrillPackets.EncodeOptions(options), t.Length);
    }

    /// <summary>The remote end echoes a TS val the host sent: the live value of that script value.</summary>
    private uint LiveTsEcr(uint script)
    {
        if (script == 0) return 0;
        if (_tsScriptToLive.TryGetValue(script, out uint live)) return live;
        return _tsBase is { } b ? script - b.Script + b.Live : script;
    }

    /// <summary>An ICMP destination unreachable quoting the flow's segment at the script's sequence number.</summary>
    private byte[]? BuildInboundIcmp(IcmpPacketSpec i)
    {
        if (i.Type != "unreachable")
        {
            Fail(i.Pos.Line, $"inbound ICMP '{i.Type}' is not supported (only unreachable)");
            return null;
        }
        byte code = i.Code switch
        {
            null or "net_unreachable" => 0,
            "host_unreachable" => 1,
            "protocol_unreachable" => 2,
            "port_unreachable" => 3,
            "frag_needed" => 4,
            "net_unknown" => 6,
            "host_unknown" => 7,
            "net_prohibited" => 9,
            "host_prohibited" => 10,
            "admin_prohibited" => 13,
            _ => byte.MaxValue,
        };
        if (code == byte.MaxValue)
        {
            Fail(i.Pos.Line, $"unknown ICMP unreachable code '{i.Code}'");
            return null;
        }
        if (_flow is not { LocalIsn: { } lisn } flow)
        {
            Fail(i.Pos.Line, "an inbound ICMP error before the host sent a TCP segment: nothing to quote");
            return null;
        }
        // RFC 792: the quoted datagram is the host's IP header and the first 8 bytes of its TCP header.
        var quoted = DrillPackets.BuildTcp(RemoteMac, _dev.Mac, _opt.LocalIp, _opt.RemoteIp, 0, 64, flow.LocalPort, flow.RemotePort,
            lisn + (i.EchoedSeq ?? 0), 0, 0, 0, 0, [], 0).AsSpan(14, Ipv4Repr.HeaderLength + 8);
        return DrillPackets.BuildIcmp(_dev.Mac, RemoteMac, _opt.RemoteIp, _opt.LocalIp, IcmpDestUnreach, code, (ushort)(i.Mtu ?? 0), quoted);
    }
}
