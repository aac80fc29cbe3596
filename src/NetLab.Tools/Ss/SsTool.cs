using System.Globalization;
using System.Text;
using NetLab.Core.Addressing;
using NetLab.Stack;
using NetLab.Stack.Tcp;
using NetLab.Stack.Udp;
using NetLab.Tools.Common;

namespace NetLab.Tools.Ss;

/// <summary>
/// ss from iproute2 6.1 (misc/ss.c) over the host's TCP and UDP tables (what inet_diag would dump):
/// -t -u -a -l -n -i -o -e -m -p -s -H, "state NAME" / "exclude NAME" filters and simple
/// "sport|dport OP :PORT" expressions. The output is what ss prints to a pipe (compact columns, see
/// <see cref="SsColumns"/>). The host has no netlink, packet or unix sockets, so "ss -a" lists udp and
/// tcp only.
/// </summary>
public sealed class SsTool : ITool
{
    public string Name => "ss";

    // ss.c's SS_* states are the TCP_* numbers.
    private const int SsAll = (1 << 12) - 1;
    private const int SsConn = SsAll & ~((1 << 10) | (1 << 7) | (1 << 6) | (1 << 3)); // not LISTEN, CLOSE, TIME_WAIT, SYN_RECV
    private const int Estab = 1, SynRecv = 3, TimeWait = 6, Close = 7, Listen = 10;

    private sealed class Options
    {
        public bool Tcp, Udp, Numeric, Info, Timers, Details, Memory, Summary, Processes, NoHeader;
        public int StateFilter;  // 0: the protocols' defaults
        public List<Func<int, int, bool>> PortFilters = []; // (sport, dport) → keep
    }

    public Task<int> RunAsync(ToolContext ctx, IReadOnlyList<string> args)
    {
        var o = new Options();
        var words = new List<string>();
        foreach (var a in args)
        {
            var mapped = a switch
            {
                "--tcp" => "-t", "--udp" => "-u", "--all" => "-a", "--listening" => "-l", "--numeric" => "-n",
                "--info" => "-i", "--options" => "-o", "--extended" => "-e", "--memory" => "-m", "--summary" => "-s",
                "--processes" => "-p", "--no-header" => "-H", "--ipv4" => "-4", "--resolve" => "-r",
                _ => a,
            };
            words.Add(mapped);
        }
        // ss's getopt stops at the first operand (the filter), as glibc does with "+" semantics here:
        // the filter words follow the options.
        int i = 0;
        for (; i < words.Count; i++)
        {
            var w = words[i];
            if (w == "--") { i++; break; }
            if (w.Length < 2 || w[0] != '-') break;
            foreach (char c in w[1..])
            {
                switch (c)
                {
                    case 't': o.Tcp = true; break;
                    case 'u': o.Udp = true; break;
                    case 'a': o.StateFilter = SsAll; break;
                    case 'l': o.StateFilter = (1 << Listen) | (1 << Close); break;
                    case 'n': o.Numeric = true; break;
                    case 'i': o.Info = true; break;
                    case 'o': o.Timers = true; break;
                    case 'e': o.Details = true; break;
                    case 'm': o.Memory = true; break;
                    case 's': o.Summary = true; break;
                    case 'p': o.Processes = true; break;
                    case 'H': o.NoHeader = true; break;
                    case '4' or 'r': break;
                    default:
                        ctx.Output.WriteError($"ss: invalid option -- '{c}'");
                        foreach (var line in Usage) ctx.Output.WriteError(line);
                        return Task.FromResult(255);
                }
            }
        }
        bool sawStates = false;
        for (; i < words.Count; i++)
        {
            var w = words[i];
            if (w is "state" or "exclude" or "excl")
            {
                if (i + 1 >= words.Count)
                {
                    ctx.Output.WriteError("ss: missing argument");
                    return Task.FromResult(255);
                }
                int st = ScanState(words[++i]);
                if (st < 0)
                {
                    ctx.Output.WriteError($"ss: wrong state name: {words[i]}");
                    return Task.FromResult(255);
                }
                if (w == "state")
                {
                    if (!sawStates) o.StateFilter = 0;
                    o.StateFilter |= st;
                }
                else
                {
                    if (!sawStates) o.StateFilter = SsAll;
                    o.StateFilter &= ~st;
                }
                sawStates = true;
                continue;
            }
            break;
        }
        if (i < words.Count && !ParseFilter(words.Skip(i).ToList(), o))
        {
            ctx.Output.WriteError("ss: bad filter expression");
            return Task.FromResult(255);
        }

        if (o.Summary)
        {
            PrintSummary(ctx);
            if (!o.Tcp && !o.Udp && i == args.Count) return Task.FromResult(0);
        }

        // filter_db_set() / filter_default_dbs(): the states are one mask for every protocol.
        bool all = !o.Tcp && !o.Udp;
        bool showTcp = all || o.Tcp, showUdp = all || o.Udp;
        int states = o.StateFilter;
        if (states == 0) states = (showTcp ? SsConn : 0) | (showUdp ? 1 << Estab : 0);
        var table = new SsColumns();
        // One protocol: no Netid column; one state: no State column.
        if (!(showTcp && showUdp)) table.Disable(SsColumns.Col.Netid);
        if ((states & (states - 1)) == 0) table.Disable(SsColumns.Col.State);
        if (!o.NoHeader) table.AddHeader();

        var host = ctx.Host;
        if (showUdp)
            foreach (var u in host.Udp.Entries())
            {
                int state = u.Connected ? Estab : Close;
                if ((states & (1 << state)) == 0 || !PortsMatch(o, u.LocalPort, u.RemotePort)) continue;
                var ext = new StringBuilder();
                if (o.Processes) ext.Append(Users(host, u.LocalPort, "udp"));
                if (o.Details) ext.Append(" ino:0 sk:0");
                if (o.Memory) ext.Append($"\n\t skmem:(r{u.RecvQ},rb{u.ReceiveBuffer},t0,tb{host.Core.RmemDefault},f0,w0,o0,bl0,d0)");
                table.AddRow("udp", StateName(state), u.RecvQ, u.SendQ,
                    u.LocalAddress + ":", Port(u.LocalPort, "udp", o.Numeric, host),
                    u.RemoteAddress + ":", Port(u.RemotePort, "udp", o.Numeric, host), ext.ToString());
            }
        if (showTcp)
            foreach (var e in host.Tcp.Entries())
            {
                int state = e.State == TcpState.NewSynRecv ? SynRecv : (int)e.State;
                if ((states & (1 << state)) == 0 || !PortsMatch(o, e.LocalPort, e.RemotePort)) continue;
                table.AddRow("tcp", StateName(state), e.RecvQ, e.SendQ,
                    e.LocalAddress + ":", Port(e.LocalPort, "tcp", o.Numeric, host),
                    e.RemoteAddress + ":", Port(e.RemotePort, "tcp", o.Numeric, host), TcpExt(host, e, o));
            }
        foreach (var line in table.Render()) ctx.Output.WriteLine(line);
        return Task.FromResult(0);
    }

    /// <summary>sstate_name[] in ss.c.</summary>
    private static string StateName(int state) => ((TcpState)state).SsName();

    /// <summary>What inet_show_sock() appends after the addresses: timer, details, then "\n\t" and -m/-i.</summary>
    private static string TcpExt(Host host, TcpSocketEntry e, Options o)
    {
        var sb = new StringBuilder();
        if (o.Processes) sb.Append(Users(host, e.LocalPort, "tcp", e));
        if (o.Timers)
        {
            // idiag_timer: 0 off (not printed), 1 on, 2 keepalive, 3 timewait, 4 persist.
            if (e.Timer != "off")
                sb.Append($" timer:({e.Timer},{MsTimer(e.TimerRemainingUs)},{e.TimerCount})");
        }
        bool full = e.State is not (TcpState.TimeWait or TcpState.NewSynRecv);
        if (o.Details)
        {
            sb.Append(full ? $" ino:{e.SocketId} sk:{e.SocketId:x}" : " ino:0 sk:0");
            if (full) sb.Append($" {((e.ShutdownMask & 1) != 0 ? '-' : '<')}-{((e.ShutdownMask & 2) != 0 ? '-' : '>')}");
        }
        if (o.Memory || o.Info)
        {
            sb.Append("\n\t");
            if (full && e.Info is { } info)
            {
                if (o.Memory)
                    sb.Append($" skmem:(r{(e.State == TcpState.Listen ? 0 : e.RecvQ)},rb{info.RcvBuf},t0,tb{info.SndBuf},f0,w{(e.State == TcpState.Listen ? 0 : e.SendQ)},o0,bl0,d0)");
                if (o.Info) sb.Append(TcpInfoText(info, o.Timers, o.Numeric, e.State == TcpState.Listen, e.RecvQ));
            }
        }
        return sb.ToString();
    }

    /// <summary>
    /// tcp_show_info() + tcp_stats_print() (iproute2 6.1): every item with its leading space, printed
    /// only when non-zero; "ts sack" only with -o. A listener reports only its congestion control,
    /// cwnd and accept queue (tcp_get_info() returns early for TCP_LISTEN).
    /// </summary>
    internal static string TcpInfoText(TcpInfo t, bool options, bool numeric, bool listen = false, int acceptQueue = 0)
    {
        var sb = new StringBuilder();
        void Out(string s) => sb.Append(s);
        if (listen)
        {
            if (t.Congestion.Length > 0) Out(" " + t.Congestion);
            Out(" cwnd:10"); // TCP_INIT_CWND, set by tcp_init_sock() on every socket
            if (acceptQueue > 0) Out($" unacked:{acceptQueue}");
            return sb.ToString();
        }
        if (options)
        {
            if ((t.Options & 1) != 0) Out(" ts");
            if ((t.Options & 2) != 0) Out(" sack");
        }
        if (t.Congestion.Length > 0) Out(" " + t.Congestion);
        if ((t.Options & 4) != 0) Out($" wscale:{t.SndWscale},{t.RcvWscale}");
        if (t.RtoUs != 0 && t.RtoUs != 3_000_000) Out($" rto:{G(t.RtoUs / 1000.0)}");
        if (t.Backoff != 0) Out($" backoff:{t.Backoff}");
        if (t.RttUs != 0) Out($" rtt:{G(t.RttUs / 1000.0)}/{G(t.RttVarUs / 1000.0)}");
        if (t.AtoUs != 0) Out($" ato:{G(t.AtoUs / 1000.0)}");
        if (t.SndMss != 0) Out($" mss:{t.SndMss}");
        if (t.Pmtu != 0) Out($" pmtu:{t.Pmtu}");
        if (t.RcvMss != 0) Out($" rcvmss:{t.RcvMss}");
        if (t.Advmss != 0) Out($" advmss:{t.Advmss}");
        if (t.SndCwnd != 0) Out($" cwnd:{t.SndCwnd}");
        if (t.SndSsthresh < 0xFFFF && t.SndSsthresh != 0) Out($" ssthresh:{t.SndSsthresh}");
        if (t.BytesSent != 0) Out($" bytes_sent:{t.BytesSent}");
        if (t.BytesRetrans != 0) Out($" bytes_retrans:{t.BytesRetrans}");
        if (t.BytesAcked != 0) Out($" bytes_acked:{t.BytesAcked}");
        if (t.BytesReceived != 0) Out($" bytes_received:{t.BytesReceived}");
        if (t.SegsOut != 0) Out($" segs_out:{t.SegsOut}");
        if (t.SegsIn != 0) Out($" segs_in:{t.SegsIn}");
        if (t.DataSegsOut != 0) Out($" data_segs_out:{t.DataSegsOut}");
        if (t.DataSegsIn != 0) Out($" data_segs_in:{t.DataSegsIn}");
        if (t.RttUs > 0 && t.SndMss != 0 && t.SndCwnd != 0)
            Out($" send {SprintBw((double)t.SndCwnd * t.SndMss * 8_000_000.0 / t.RttUs, numeric)}bps");
        if (t.LastDataSentMs != 0) Out($" lastsnd:{t.LastDataSentMs}");
        if (t.LastDataRecvMs != 0) Out($" lastrcv:{t.LastDataRecvMs}");
        if (t.LastAckRecvMs != 0) Out($" lastack:{t.LastAckRecvMs}");
        if (t.PacingRate != 0) Out($" pacing_rate {SprintBw(t.PacingRate * 8.0, numeric)}bps");
        if (t.DeliveryRateBps != 0) Out($" delivery_rate {SprintBw(t.DeliveryRateBps, numeric)}bps");
        if (t.Delivered != 0) Out($" delivered:{t.Delivered}");
        if (t.DeliveryRateAppLimited) Out(" app_limited");
        if (t.Unacked != 0) Out($" unacked:{t.Unacked}");
        if (t.Retrans != 0 || t.TotalRetrans != 0) Out($" retrans:{t.Retrans}/{t.TotalRetrans}");
        if (t.Lost != 0) Out($" lost:{t.Lost}");
        if (t.Sacked != 0) Out($" sacked:{t.Sacked}");
        if (t.DsackDups != 0) Out($" dsack_dups:{t.DsackDups}");
        if (t.Reordering != 3) Out($" reordering:{t.Reordering}");
        if (t.RcvRttUs != 0) Out($" rcv_rtt:{G(t.RcvRttUs / 1000.0)}");
        if (t.RcvSpace != 0) Out($" rcv_space:{t.RcvSpace}");
        if (t.RcvSsthresh != 0) Out($" rcv_ssthresh:{t.RcvSsthresh}");
        if (t.NotsentBytes != 0) Out($" notsent:{t.NotsentBytes}");
        if (t.MinRttUs != 0) Out($" minrtt:{G(t.MinRttUs / 1000.0)}");
        if (t.SndWnd != 0) Out($" snd_wnd:{t.SndWnd}");
        return sb.ToString();
    }

    private static string G(double v) => CFormat.G(v);

    /// <summary>sprint_bw(): "%.0f" with -n, else 3 significant digits and T, G, M or k.</summary>
    internal static string SprintBw(double bw, bool numeric)
    {
        if (numeric) return bw.ToString("F0", CultureInfo.InvariantCulture);
        if (bw >= 1e12) return CFormat.G(bw / 1e12, 3) + "T";
        if (bw >= 1e9) return CFormat.G(bw / 1e9, 3) + "G";
        if (bw >= 1e6) return CFormat.G(bw / 1e6, 3) + "M";
        if (bw >= 1e3) return CFormat.G(bw / 1e3, 3) + "k";
        return CFormat.G(bw);
    }

    /// <summary>print_ms_timer(): "1min30sec", "2.500ms" (seconds, then milliseconds), "59sec", "200ms".</summary>
    internal static string MsTimer(long remainingUs)
    {
        // idiag_expires is in ms (jiffies_delta_to_msecs), rounded up as the kernel's jiffies are.
        uint timeout = (uint)((remainingUs + 999) / 1000);
        uint secs = timeout / 1000, minutes = secs / 60, msecs = timeout % 1000;
        secs %= 60;
        var sb = new StringBuilder();
        if (minutes != 0)
        {
            msecs = 0;
            sb.Append(minutes).Append("min");
            if (minutes > 9) secs = 0;
        }
        if (secs != 0)
        {
            if (secs > 9) msecs = 0;
            sb.Append(secs).Append(msecs != 0 ? "." : "sec");
        }
        if (msecs != 0) sb.Append(msecs.ToString("000", CultureInfo.InvariantCulture)).Append("ms");
        return sb.ToString();
    }

    /// <summary>resolve_service(): "*" for 0; a name from /etc/services unless -n or the port is ephemeral.</summary>
    private static string Port(int port, string proto, bool numeric, Host host)
    {
        if (port == 0) return "*";
        if (!numeric)
        {
            var range = host.Ipv4Sysctl.IpLocalPortRange;
            bool ephemeral = port >= range[0] && port <= range[1];
            if (!ephemeral && Services.NameOf(port, proto) is { } name) return name;
        }
        return port.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>-p: users:(("name",pid=N,fd=N)) of the processes that opened the socket.</summary>
    private static string Users(Host host, int localPort, string proto, TcpSocketEntry? e = null)
    {
        var owners = e is not null ? SocketOwners.Of(host, e.SocketId) : SocketOwners.OfUdp(host, localPort);
        if (owners.Count == 0) return "";
        return " users:(" + string.Join(",", owners.Select(w => $"(\"{w.Name}\",pid={w.Pid},fd={w.Fd})")) + ")";
    }

    /// <summary>scan_state() of ss.c.</summary>
    private static int ScanState(string s)
    {
        string[] names = ["UNKNOWN", "established", "syn-sent", "syn-recv", "fin-wait-1", "fin-wait-2", "time-wait",
            "unconnected", "close-wait", "last-ack", "listening", "closing"];
        var l = s.ToLowerInvariant();
        switch (l)
        {
            case "close" or "closed": return 1 << Close;
            case "syn-rcv": return 1 << SynRecv;
            case "all": return SsAll;
            case "connected": return SsAll & ~((1 << Close) | (1 << Listen));
            case "synchronized": return SsAll & ~((1 << Close) | (1 << Listen) | (1 << 2));
            case "bucket": return (1 << SynRecv) | (1 << TimeWait);
            case "big": return SsAll & ~((1 << SynRecv) | (1 << TimeWait));
        }
        int at = Array.IndexOf(names, l);
        return at >= 0 ? 1 << at : -1;
    }

    /// <summary>The subset of ss's filter language NetLab reads: [sport|dport] OP [:]PORT, joined by "and".</summary>
    private static bool ParseFilter(List<string> words, Options o)
    {
        var w = words.SelectMany(x => x.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(x => x is not "(" and not ")").ToList();
        int i = 0;
        while (i < w.Count)
        {
            if (w[i] is "and" or "&&" or "&") { i++; continue; }
            if (w[i] is not ("sport" or "dport") || i + 1 >= w.Count) return false;
            bool src = w[i] == "sport";
            string op = "=";
            int j = i + 1;
            if (w[j] is "=" or "==" or "eq" or "!=" or "ne" or "neq" or ">=" or "ge" or "geq" or "<=" or "le" or "leq" or ">" or "gt" or "<" or "lt")
            {
                op = w[j];
                j++;
            }
            if (j >= w.Count) return false;
            var text = w[j].TrimStart(':');
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port))
            {
                if (Services.PortOf(text, "tcp") is not { } p) return false;
                port = p;
            }
            Func<int, bool> test = op switch
            {
                "!=" or "ne" or "neq" => v => v != port,
                ">=" or "ge" or "geq" => v => v >= port,
                "<=" or "le" or "leq" => v => v <= port,
                ">" or "gt" => v => v > port,
                "<" or "lt" => v => v < port,
                _ => v => v == port,
            };
            o.PortFilters.Add(src ? (s, _) => test(s) : (_, d) => test(d));
            i = j + 1;
        }
        return true;
    }

    private static bool PortsMatch(Options o, int sport, int dport) => o.PortFilters.All(f => f(sport, dport));

    /// <summary>
    /// print_summary(): /proc/net/sockstat numbers. "TCP:" is tcp_sockets_allocated plus TIME_WAIT;
    /// closed = allocated − (hashed − timewait), ss's own arithmetic.
    /// </summary>
    private static void PrintSummary(ToolContext ctx)
    {
        var host = ctx.Host;
        var entries = host.Tcp.Entries();
        int tw = host.Tcp.TimeWaitCount;
        int inuse = entries.Count(e => e.State is not (TcpState.TimeWait or TcpState.NewSynRecv));
        int alloc = host.Tcp.AllocatedCount;
        int udp = host.Udp.Entries().Count;
        int estab = (int)host.TcpStats[TcpMib.CurrEstab];
        var w = ctx.Output;
        w.WriteLine($"Total: {alloc + udp}");
        w.WriteLine($"TCP:   {alloc + tw} (estab {estab}, closed {alloc - (inuse - tw)}, orphaned {host.Tcp.OrphanCount}, timewait {tw})");
        w.WriteLine("");
        w.WriteLine("Transport Total     IP        IPv6");
        w.WriteLine($"RAW\t  {0,-9} {0,-9} {0,-9}");
        w.WriteLine($"UDP\t  {udp,-9} {udp,-9} {0,-9}");
        w.WriteLine($"TCP\t  {inuse,-9} {inuse,-9} {0,-9}");
        w.WriteLine($"INET\t  {udp + inuse,-9} {udp + inuse,-9} {0,-9}");
        w.WriteLine($"FRAG\t  {0,-9} {0,-9} {0,-9}");
        w.WriteLine("");
    }

    private static readonly string[] Usage =
    [
        "Usage: ss [ OPTIONS ]",
        "       ss [ OPTIONS ] [ FILTER ]",
        "   -h, --help          this message",
        "   -V, --version       output version information",
        "   -n, --numeric       don't resolve service names",
        "   -r, --resolve       resolve host names",
        "   -a, --all           display all sockets",
        "   -l, --listening     display listening sockets",
        "   -o, --options       show timer information",
        "   -e, --extended      show detailed socket information",
        "   -m, --memory        show socket memory usage",
        "   -p, --processes     show process using socket",
        "   -i, --info          show internal TCP information",
        "   -s, --summary       show socket usage summary",
        "   -t, --tcp           display only TCP sockets",
        "   -u, --udp           display only UDP sockets",
    ];
}
