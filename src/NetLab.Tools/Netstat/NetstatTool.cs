using System.Globalization;
using NetLab.Core.Addressing;
using NetLab.Stack;
using NetLab.Stack.Tcp;
using NetLab.Tools.Common;

namespace NetLab.Tools.Netstat;

/// <summary>
/// netstat from net-tools 2.10: the connection tables (-t -u -a -l -n, as netstat.c prints
/// /proc/net/tcp and /proc/net/udp) and -s (statistics.c over /proc/net/snmp and /proc/net/netstat).
/// The host has no unix sockets, so without -t/-u only the Internet table is printed.
/// </summary>
public sealed class NetstatTool : ITool
{
    public string Name => "netstat";

    public Task<int> RunAsync(ToolContext ctx, IReadOnlyList<string> args)
    {
        bool tcp = false, udp = false, all = false, listen = false, numeric = false, stats = false;
        var g = new Getopt("netstat", args.Select(a => a switch
        {
            "--tcp" => "-t", "--udp" => "-u", "--all" => "-a", "--listening" => "-l", "--numeric" => "-n",
            "--statistics" => "-s", "--program" => "-p", "--wide" => "-W",
            _ => a,
        }).ToList(), "tualnspW4");
        while (g.Next(out var opt, out _))
        {
            switch (opt)
            {
                case 't': tcp = true; break;
                case 'u': udp = true; break;
                case 'a': all = true; break;
                case 'l': listen = true; break;
                case 'n': numeric = true; break;
                case 's': stats = true; break;
                case 'p' or 'W' or '4': break;
                default:
                    ctx.Output.WriteError(g.Error!);
                    ctx.Output.WriteError("usage: netstat [-vWeenNcCF] [<Af>] -r         netstat {-V|--version|-h|--help}");
                    ctx.Output.WriteError("       netstat [-vWnNcaeol] [<Socket> ...]");
                    ctx.Output.WriteError("       netstat { [-vWeenNac] -i | [-cnNe] -M | -s [-6tuw] }");
                    return Task.FromResult(1);
            }
        }
        bool raw = !tcp && !udp;
        if (raw) tcp = udp = true;
        if (stats)
        {
            foreach (var line in Statistics(ctx.Host, raw, tcp, udp)) ctx.Output.WriteLine(line);
            return Task.FromResult(0);
        }
        var o = ctx.Output;
        o.WriteLine("Active Internet connections " + (all ? "(servers and established)" : listen ? "(only servers)" : "(w/o servers)"));
        o.WriteLine("Proto Recv-Q Send-Q Local Address           Foreign Address         State      ");
        var host = ctx.Host;
        if (tcp)
            foreach (var e in host.Tcp.Entries())
            {
                bool isListen = e.State == TcpState.Listen;
                if (!all && isListen != listen) continue;
                int rq = e.RecvQ, sq = isListen ? 0 : e.SendQ; // /proc/net/tcp: tx_queue 0, rx_queue sk_ack_backlog
                o.WriteLine(Line("tcp", rq, sq, Addr(e.LocalAddress, e.LocalPort, "tcp", numeric),
                    Addr(e.RemoteAddress, e.RemotePort, "tcp", numeric), TcpStateName(e.State)));
            }
        if (udp)
            foreach (var u in host.Udp.Entries())
            {
                // udp_do_one(): an unconnected socket counts as a server.
                bool server = !u.Connected;
                if (!all && server != listen) continue;
                o.WriteLine(Line("udp", u.RecvQ, u.SendQ, Addr(u.LocalAddress, u.LocalPort, "udp", numeric),
                    Addr(u.RemoteAddress, u.RemotePort, "udp", numeric), u.Connected ? "ESTABLISHED" : ""));
            }
        return Task.FromResult(0);
    }

    /// <summary>tcp_do_one(): "%-4s  %6ld %6ld %-23s %-23s %-11s".</summary>
    internal static string Line(string proto, long rq, long sq, string local, string remote, string state) =>
        $"{proto,-4}  {rq,6} {sq,6} {local,-23} {remote,-23} {state,-11}";

    /// <summary>tcp_state[] of netstat.c.</summary>
    internal static string TcpStateName(TcpState s) => s switch
    {
        TcpState.Established => "ESTABLISHED",
        TcpState.SynSent => "SYN_SENT",
        TcpState.SynRecv or TcpState.NewSynRecv => "SYN_RECV",
        TcpState.FinWait1 => "FIN_WAIT1",
        TcpState.FinWait2 => "FIN_WAIT2",
        TcpState.TimeWait => "TIME_WAIT",
        TcpState.Close => "CLOSE",
        TcpState.CloseWait => "CLOSE_WAIT",
        TcpState.LastAck => "LAST_ACK",
        TcpState.Listen => "LISTEN",
        TcpState.Closing => "CLOSING",
        _ => "UNKNOWN",
    };

    /// <summary>"host:port": names unless -n (NetLab hosts have no DNS: only /etc/hosts' localhost resolves).</summary>
    private static string Addr(Ipv4Address a, int port, string proto, bool numeric)
    {
        var hostPart = !numeric && a == Ipv4Address.Parse("127.0.0.1") ? "localhost" : a.ToString();
        var portPart = port == 0 ? "*" : !numeric && Services.NameOf(port, proto) is { } n ? n : port.ToString(CultureInfo.InvariantCulture);
        return $"{hostPart}:{portPart}";
    }

    // ------------------------------------------------------------------ -s (statistics.c)

    private enum Kind { Number, OptNumber, Forward, InpIcmp, OutpIcmp, RtoAlg }

    private const int Static = 1 << 16, Title = 1 << 17;

    private sealed record Entry(string Name, string Format, int Type);

    private sealed record Tab(string Title, Entry[]? Entries, bool Enabled);

    // The tables of net-tools 2.10 statistics.c, in its order (not quite sorted: it is searched with
    // bsearch(), and the names that sort wrongly are not found and print raw, as on Linux).
    private static readonly Entry[] IpTab =
    [
        new("DefaultTTL", "Default TTL is {0}", (int)Kind.Number | Static),
        new("Forwarding", "Forwarding is {0}", (int)Kind.Forward | Static),
        new("ForwDatagrams", "{0} forwarded", (int)Kind.Number),
        new("FragCreates", "{0} fragments created", (int)Kind.OptNumber),
        new("FragFails", "{0} outgoing packets failed fragmentation", (int)Kind.OptNumber),
        new("FragOKs", "{0} outgoing packets fragmented ok", (int)Kind.OptNumber),
        new("InAddrErrors", "{0} with invalid addresses", (int)Kind.OptNumber),
        new("InDelivers", "{0} incoming packets delivered", (int)Kind.Number),
        new("InDiscards", "{0} incoming packets discarded", (int)Kind.Number),
        new("InHdrErrors", "{0} with invalid headers", (int)Kind.OptNumber),
        new("InReceives", "{0} total packets received", (int)Kind.Number),
        new("InUnknownProtos", "{0} with unknown protocol", (int)Kind.OptNumber),
        new("OutDiscards", "{0} outgoing packets dropped", (int)Kind.OptNumber),
        new("OutNoRoutes", "{0} dropped because of missing route", (int)Kind.OptNumber),
        new("OutRequests", "{0} requests sent out", (int)Kind.Number),
        new("ReasmFails", "{0} packet reassemblies failed", (int)Kind.OptNumber),
        new("ReasmOKs", "{0} packets reassembled ok", (int)Kind.OptNumber),
        new("ReasmReqds", "{0} reassemblies required", (int)Kind.OptNumber),
        new("ReasmTimeout", "{0} fragments dropped after timeout", (int)Kind.OptNumber),
    ];

    private static readonly Entry[] IcmpTab =
    [
        new("InAddrMaskReps", "address mask replies: {0}", (int)Kind.InpIcmp | Title),
        new("InAddrMasks", "address mask request: {0}", (int)Kind.InpIcmp | Title),
        new("InDestUnreachs", "destination unreachable: {0}", (int)Kind.InpIcmp | Title),
        new("InEchoReps", "echo replies: {0}", (int)Kind.InpIcmp | Title),
        new("InEchos", "echo requests: {0}", (int)Kind.InpIcmp | Title),
        new("InErrors", "{0} input ICMP message failed", (int)Kind.Number),
        new("InMsgs", "{0} ICMP messages received", (int)Kind.Number),
        new("InParmProbs", "wrong parameters: {0}", (int)Kind.InpIcmp | Title),
        new("InRedirects", "redirects: {0}", (int)Kind.InpIcmp | Title),
        new("InSrcQuenchs", "source quenches: {0}", (int)Kind.InpIcmp | Title),
        new("InTimeExcds", "timeout in transit: {0}", (int)Kind.InpIcmp | Title),
        new("InTimestampReps", "timestamp reply: {0}", (int)Kind.InpIcmp | Title),
        new("InTimestamps", "timestamp request: {0}", (int)Kind.InpIcmp | Title),
        new("OutAddrMaskReps", "address mask replies: {0}", (int)Kind.OutpIcmp | Title),
        new("OutAddrMasks", "address mask requests: {0}", (int)Kind.OutpIcmp | Title),
        new("OutDestUnreachs", "destination unreachable: {0}", (int)Kind.OutpIcmp | Title),
        new("OutEchoReps", "echo replies: {0}", (int)Kind.OutpIcmp | Title),
        new("OutEchos", "echo requests: {0}", (int)Kind.OutpIcmp | Title),
        new("OutErrors", "{0} ICMP messages failed", (int)Kind.Number),
        new("OutMsgs", "{0} ICMP messages sent", (int)Kind.Number),
        new("OutParmProbs", "wrong parameters: {0}", (int)Kind.OutpIcmp | Title),
        new("OutRedirects", "redirect: {0}", (int)Kind.OutpIcmp | Title),
        new("OutSrcQuenchs", "source quench: {0}", (int)Kind.OutpIcmp | Title),
        new("OutTimeExcds", "time exceeded: {0}", (int)Kind.OutpIcmp | Title),
        new("OutTimestampReps", "timestamp replies: {0}", (int)Kind.OutpIcmp | Title),
        new("OutTimestamps", "timestamp requests: {0}", (int)Kind.OutpIcmp | Title),
    ];

    private static readonly Entry[] TcpTab =
    [
        new("ActiveOpens", "{0} active connection openings", (int)Kind.Number),
        new("AttemptFails", "{0} failed connection attempts", (int)Kind.Number),
        new("CurrEstab", "{0} connections established", (int)Kind.Number),
        new("EstabResets", "{0} connection resets received", (int)Kind.Number),
        new("InErrs", "{0} bad segments received", (int)Kind.Number),
        new("InSegs", "{0} segments received", (int)Kind.Number),
        new("MaxConn", "", (int)Kind.Number),
        new("OutRsts", "{0} resets sent", (int)Kind.Number),
        new("OutSegs", "{0} segments sent out", (int)Kind.Number),
        new("PassiveOpens", "{0} passive connection openings", (int)Kind.Number),
        new("RetransSegs", "{0} segments retransmitted", (int)Kind.Number),
        new("RtoAlgorithm", "RTO algorithm is {0}", (int)Kind.RtoAlg | Static),
        new("RtoMax", "", (int)Kind.Number),
        new("RtoMin", "", (int)Kind.Number),
    ];

    private static readonly Entry[] UdpTab =
    [
        new("InDatagrams", "{0} packets received", (int)Kind.Number),
        new("InErrors", "{0} packet receive errors", (int)Kind.Number),
        new("NoPorts", "{0} packets to unknown port received", (int)Kind.Number),
        new("OutDatagrams", "{0} packets sent", (int)Kind.Number),
        new("RcvbufErrors", "{0} receive buffer errors", (int)Kind.Number),
        new("SndbufErrors", "{0} send buffer errors", (int)Kind.Number),
    ];

    private static readonly Entry[] TcpExtTab =
    [
        new("DelayedACKLocked", "{0} delayed acks further delayed because of locked socket", (int)Kind.OptNumber),
        new("DelayedACKLost", "Quick ack mode was activated {0} times", (int)Kind.OptNumber),
        new("DelayedACKs", "{0} delayed acks sent", (int)Kind.OptNumber),
        new("EmbryonicRsts", "{0} resets received for embryonic SYN_RECV sockets", (int)Kind.OptNumber),
        new("ListenDrops", "{0} SYNs to LISTEN sockets dropped", (int)Kind.OptNumber),
        new("ListenOverflows", "{0} times the listen queue of a socket overflowed", (int)Kind.OptNumber),
        new("LockDroppedIcmps", "{0} ICMP packets dropped because socket was locked", (int)Kind.OptNumber),
        new("OfoPruned", "{0} packets dropped from out-of-order queue because of socket buffer overrun", (int)Kind.OptNumber),
        new("OutOfWindowIcmps", "{0} ICMP packets dropped because they were out-of-window", (int)Kind.OptNumber),
        new("PAWSActive", "{0} active connections rejected because of time stamp", (int)Kind.OptNumber),
        new("PAWSEstab", "{0} packetes rejected in established connections because of timestamp", (int)Kind.OptNumber),
        new("PAWSPassive", "{0} passive connections rejected because of time stamp", (int)Kind.OptNumber),
        new("PruneCalled", "{0} packets pruned from receive queue because of socket buffer overrun", (int)Kind.OptNumber),
        new("RcvPruned", "{0} packets pruned from receive queue", (int)Kind.OptNumber),
        new("SockMallocOOM", "Ran {0} times out of system memory during packet sending", (int)Kind.OptNumber),
        new("SyncookiesFailed", "{0} invalid SYN cookies received", (int)Kind.OptNumber),
        new("SyncookiesRecv", "{0} SYN cookies received", (int)Kind.OptNumber),
        new("SyncookiesSent", "{0} SYN cookies sent", (int)Kind.OptNumber),
        new("TCPAbortFailed", "{0} times unable to send RST due to no memory", (int)Kind.OptNumber),
        new("TCPAbortOnClose", "{0} connections reset due to early user close", (int)Kind.OptNumber),
        new("TCPAbortOnData", "{0} connections reset due to unexpected data", (int)Kind.OptNumber),
        new("TCPAbortOnLinger", "{0} connections aborted after user close in linger timeout", (int)Kind.OptNumber),
        new("TCPAbortOnMemory", "{0} connections aborted due to memory pressure", (int)Kind.OptNumber),
        new("TCPAbortOnSyn", "{0} connections reset due to unexpected SYN", (int)Kind.OptNumber),
        new("TCPAbortOnTimeout", "{0} connections aborted due to timeout", (int)Kind.OptNumber),
        new("TCPDirectCopyFromBacklog", "{0} bytes directly in process context from backlog", (int)Kind.OptNumber),
        new("TCPDirectCopyFromPrequeue", "{0} bytes directly received in process context from prequeue", (int)Kind.OptNumber),
        new("TCPDSACKOfoRecv", "{0} DSACKs for out of order packets received", (int)Kind.OptNumber),
        new("TCPDSACKOfoSent", "{0} DSACKs sent for out of order packets", (int)Kind.OptNumber),
        new("TCPDSACKOldSent", "{0} DSACKs sent for old packets", (int)Kind.OptNumber),
        new("TCPDSACKRecv", "{0} DSACKs received", (int)Kind.OptNumber),
        new("TCPDSackUndo", "{0} congestion window recovered without slow start using DSACK", (int)Kind.OptNumber),
        new("TCPDSACKUndo", "{0} congestion windows recovered without slow start by DSACK", (int)Kind.OptNumber),
        new("TCPFACKReorder", "Detected reordering {0} times using FACK", (int)Kind.OptNumber),
        new("TCPFastRetrans", "{0} fast retransmits", (int)Kind.OptNumber),
        new("TCPForwardRetrans", "{0} forward retransmits", (int)Kind.OptNumber),
        new("TCPFullUndo", "{0} congestion windows fully recovered without slow start", (int)Kind.OptNumber),
        new("TCPHPAcks", "{0} predicted acknowledgments", (int)Kind.OptNumber),
        new("TCPHPHits", "{0} packet headers predicted", (int)Kind.Number),
        new("TCPHPHitsToUser", "{0} packet headers predicted and directly queued to user", (int)Kind.OptNumber),
        new("TCPLossFailures", "{0} timeouts in loss state", (int)Kind.OptNumber),
        new("TCPLoss", "{0} TCP data loss events", (int)Kind.OptNumber),
        new("TCPLossUndo", "{0} congestion windows recovered without slow start after partial ack", (int)Kind.OptNumber),
        new("TCPLostRetransmits", "{0} retransmits lost", (int)Kind.OptNumber),
        new("TCPMemoryPressures", "TCP ran low on memory {0} times", (int)Kind.OptNumber),
        new("TCPPartialUndo", "{0} congestion windows partially recovered using Hoe heuristic", (int)Kind.OptNumber),
        new("TCPPrequeued", "{0} packets directly queued to recvmsg prequeue", (int)Kind.OptNumber),
        new("TCPPrequeueDropped", "{0} packets dropped from prequeue", (int)Kind.OptNumber),
        new("TCPPureAcks", "{0} acknowledgments not containing data payload received", (int)Kind.OptNumber),
        new("TCPRcvCollapsed", "{0} packets collapsed in receive queue due to low socket buffer", (int)Kind.OptNumber),
        new("TCPRenoFailures", "{0} timeouts after reno fast retransmit", (int)Kind.OptNumber),
        new("TCPRenoRecoveryFailed", "{0} reno fast retransmits failed", (int)Kind.OptNumber),
        new("TCPRenoRecoveryFail", "{0} classic Reno fast retransmits failed", (int)Kind.OptNumber),
        new("TCPRenoRecovery", "{0} times recovered from packet loss due to fast retransmit", (int)Kind.OptNumber),
        new("TCPRenoReorder", "Detected reordering {0} times using reno fast retransmit", (int)Kind.OptNumber),
        new("TCPSackFailures", "{0} timeouts after SACK recovery", (int)Kind.OptNumber),
        new("TCPSackRecoveryFail", "{0} SACK retransmits failed", (int)Kind.OptNumber),
        new("TCPSackRecovery", "{0} times recovered from packet loss by selective acknowledgements", (int)Kind.OptNumber),
        new("TCPSACKReneging", "{0} bad SACK blocks received", (int)Kind.OptNumber),
        new("TCPSACKReorder", "Detected reordering {0} times using SACK", (int)Kind.OptNumber),
        new("TCPSchedulerFailed", "{0} times receiver scheduled too late for direct processing", (int)Kind.OptNumber),
        new("TCPSlowStartRetrans", "{0} retransmits in slow start", (int)Kind.OptNumber),
        new("TCPTimeouts", "{0} other TCP timeouts", (int)Kind.OptNumber),
        new("TCPTSReorder", "Detected reordering {0} times using time stamp", (int)Kind.OptNumber),
        new("TWKilled", "{0} TCP sockets finished time wait in slow timer", (int)Kind.OptNumber),
        new("TW", "{0} TCP sockets finished time wait in fast timer", (int)Kind.OptNumber),
        new("TWRecycled", "{0} time wait sockets recycled by time stamp", (int)Kind.OptNumber),
    ];

    /// <summary>statesdesc[]: indent and histogram title per state.</summary>
    private static int Indent(Kind k) => k is Kind.InpIcmp or Kind.OutpIcmp ? 8 : 4;

    /// <summary>
    /// parsesnmp(): /proc/net/snmp then /proc/net/netstat, one heading per MIB and one line per value,
    /// with printval()'s state machine (the indent of a name printed raw is that of the last line).
    /// </summary>
    internal static List<string> Statistics(Host host, bool raw, bool tcp, bool udp)
    {
        var lines = new List<string>();
        var state = Kind.Number;
        foreach (var (title, names, values) in ProcFiles(host))
        {
            Tab? tab = title switch
            {
                "Ip" => new Tab(title, IpTab, raw),
                "Icmp" => new Tab(title, IcmpTab, raw),
                "Tcp" => new Tab(title, TcpTab, tcp),
                "Udp" => new Tab(title, UdpTab, udp),
                "TcpExt" => new Tab(title, TcpExtTab, tcp),
                _ => null,
            };
            // newtable(): known tables print their heading if enabled and reset the state; unknown ones
            // always print it and keep the state.
            if (tab is null) { tab = new Tab(title, null, true); lines.Add(title + ":"); }
            else
            {
                if (tab.Enabled) lines.Add(title + ":");
                state = Kind.Number;
            }
            if (!tab.Enabled) continue;
            for (int i = 0; i < names.Count; i++) PrintVal(lines, tab, names[i], values[i], ref state);
        }
        return lines;
    }

    private static void PrintVal(List<string> lines, Tab tab, string name, long value, ref Kind state)
    {
        var ent = tab.Entries is null ? null : BSearch(tab.Entries, name);
        if (ent is null)
        {
            if (value != 0) lines.Add($"{new string(' ', Indent(state))}{name}: {(ulong)value}");
            return;
        }
        int type = ent.Type;
        if ((type & Static) != 0) return; // print_static is never set
        if (ent.Format.Length == 0) return;
        if ((type & Title) != 0)
        {
            type &= ~Title;
            if (state != (Kind)type)
                lines.Add(new string(' ', Indent(state)) + ((Kind)type == Kind.InpIcmp ? "ICMP input histogram:" : "ICMP output histogram:"));
        }
        var kind = (Kind)type;
        string buf = "";
        switch (kind)
        {
            case Kind.OptNumber when value == 0: break;
            case Kind.OptNumber or Kind.Number:
                buf = string.Format(CultureInfo.InvariantCulture, ent.Format, (ulong)value);
                break;
            case Kind.InpIcmp or Kind.OutpIcmp:
                if (value > 0) buf = string.Format(CultureInfo.InvariantCulture, ent.Format, value);
                break;
        }
        if (buf.Length > 0) lines.Add(new string(' ', Indent(kind)) + buf);
        state = kind;
    }

    /// <summary>glibc bsearch() with strcmp(): a binary search that trusts the table to be sorted.</summary>
    private static Entry? BSearch(Entry[] tab, string key)
    {
        int l = 0, u = tab.Length;
        while (l < u)
        {
            int idx = (l + u) / 2;
            int c = string.CompareOrdinal(key, tab[idx].Name);
            if (c < 0) u = idx;
            else if (c > 0) l = idx + 1;
            else return tab[idx];
        }
        return null;
    }

    /// <summary>The name and value lines of /proc/net/snmp and /proc/net/netstat, as Linux 6.18 writes them.</summary>
    internal static IEnumerable<(string Title, List<string> Names, List<long> Values)> ProcFiles(Host host)
    {
        // /proc/net/snmp: Ip (Forwarding and DefaultTTL first), Icmp, IcmpMsg, Tcp, Udp, UdpLite.
        var ip = new List<(string, long)>
        {
            ("Forwarding", host.Ipv4Sysctl.IpForward != 0 ? 1 : 2),
            ("DefaultTTL", host.Ipv4Sysctl.IpDefaultTtl),
        };
        ip.AddRange(host.IpStats.All());
        yield return Section("Ip", ip);
        yield return Section("Icmp", host.IcmpStats.All());
        // icmpmsg_put(): non-zero In types then Out types, 16 per line pair.
        var msg = new List<(string, long)>();
        for (int t = 0; t < 256; t++) if (host.IcmpInTypes[t] != 0) msg.Add(($"InType{t}", host.IcmpInTypes[t]));
        for (int t = 0; t < 256; t++) if (host.IcmpOutTypes[t] != 0) msg.Add(($"OutType{t}", host.IcmpOutTypes[t]));
        for (int i = 0; i < msg.Count; i += 16) yield return Section("IcmpMsg", msg.Skip(i).Take(16));
        yield return Section("Tcp", host.TcpStats.All().Select(f => f.Name switch
        {
            // Constants of the Tcp MIB (tcp_mib_list).
            "RtoAlgorithm" => (f.Name, 1L),
            "RtoMin" => (f.Name, 200L),
            "RtoMax" => (f.Name, 120000L),
            "MaxConn" => (f.Name, -1L),
            _ => f,
        }));
        yield return Section("Udp", host.UdpStats.All());
        yield return Section("UdpLite", host.UdpStats.All().Select(f => (f.Name, 0L)));
        // /proc/net/netstat: TcpExt, IpExt (with the ECN counters NetLab does not keep apart: every packet
        // is Not-ECT), MPTcpExt (all zero).
        yield return Section("TcpExt", host.TcpExtStats.All());
        var ipExt = host.IpExtStats.All().ToList();
        int at = ipExt.FindIndex(f => f.Name == "InCsumErrors") + 1;
        long received = host.IpStats[IpMib.InReceives] - host.IpStats[IpMib.InHdrErrors];
        ipExt.InsertRange(at, [("InNoECTPkts", received), ("InECT1Pkts", 0), ("InECT0Pkts", 0), ("InCEPkts", 0)]);
        yield return Section("IpExt", ipExt);
        yield return Section("MPTcpExt", [("MPCapableSYNRX", 0L)]);
    }

    private static (string, List<string>, List<long>) Section(string title, IEnumerable<(string Name, long Value)> fields)
    {
        var list = fields.ToList();
        return (title, list.Select(f => f.Name).ToList(), list.Select(f => f.Value).ToList());
    }
}
