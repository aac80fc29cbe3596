using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using NetLab.Core.Addressing;
using NetLab.Stack;
using NetLab.Stack.IPv4;
using NetLab.Stack.Link;
using NetLab.Stack.Sockets;
using NetLab.Stack.Tcp;

namespace NetLab.Tools.Hping3;

/// <summary>
/// hping3 (Debian's hping3 3.a2.ds2, antirez's hping) in its default TCP mode: hand-built TCP segments sent
/// through a raw IPPROTO_RAW socket (IP_HDRINCL), so the source address can be forged.
/// <code>
/// hping3 [-S] [-A] [-F] [-R] [-P] [-U] [-p PORT] [-s BASEPORT] [-k] [-c COUNT] [-i X|uX] [--fast] [--faster] [--flood]
///        [-a SRC | --rand-source] [-w WIN] [-t TTL] [-d SIZE] [-q] HOST
/// </code>
/// As the real tool: every packet has a random sequence and acknowledgment number, window 512, no options, a
/// random IP ID and TTL 64; the source port starts at a random 1024..3023 and goes up by one per packet
/// (-k keeps it); the first packet leaves at once, the next after -i (1 s by default; uX is X microseconds).
/// Replies (TCP from the target port) are printed as hping3 prints them; --flood sends back to back and shows
/// none. The statistics, on stderr after the count (plus one second) or at ^C, keep hping's "tramitted".
/// NetLab reads replies from a raw TCP socket rather than libpcap, and --flood with -c stops at the count
/// (the real flood loop keeps sending until the one-second alarm). A flood is paced by the interface: sendto()
/// waits while the socket's send buffer (net.core.wmem_default, 212992 bytes of skb truesize) is in the qdisc.
/// </summary>
public sealed class Hping3Tool : ITool
{
    public string Name => "hping3";

    private const int CountReachedTimeoutSeconds = 1; // COUNTREACHED_TIMEOUT
    private const int DefaultSrcWinsize = 512;         // DEFAULT_SRCWINSIZE
    private const int DefaultTtl = 64;                 // DEFAULT_TTL
    private const int IpHeaderSize = 20, TcpHeaderSize = 20;
    private const int SkSndbuf = 212992;               // net.core.wmem_default: a raw socket's sk_sndbuf

    internal static readonly string[] Usage =
    [
        "usage: hping3 host [options]",
        "  -h  --help      show this help",
        "  -c  --count     packet count",
        "  -i  --interval  wait (uX for X microseconds, for example -i u1000)",
        "      --fast      alias for -i u10000 (10 packets for second)",
        "      --faster    alias for -i u1000 (100 packets for second)",
        "      --flood\t   sent packets as fast as possible. Don't show replies.",
        "  -q  --quiet     quiet",
        "IP",
        "  -a  --spoof      spoof source address",
        "  --rand-source    random source address mode. see the man.",
        "  -t  --ttl        ttl (default 64)",
        "TCP",
        "  -s  --baseport  base source port             (default random)",
        "  -p  --destport  [+][+]<port> destination port(default 0) ctrl+z inc/dec",
        "  -k  --keep      keep still source port",
        "  -w  --win       winsize (default 64)",
        "  -F  --fin       set FIN flag",
        "  -S  --syn       set SYN flag",
        "  -R  --rst       set RST flag",
        "  -P  --push      set PUSH flag",
        "  -A  --ack       set ACK flag",
        "  -U  --urg       set URG flag",
        "Common",
        "  -d  --data      data size                    (default is 0)",
    ];

    private sealed class Options
    {
        public string? Target;
        public TcpFlags Flags;
        public int DstPort, InitSport = -1, Count = -1, Win = DefaultSrcWinsize, Ttl = DefaultTtl, DataSize;
        public long IntervalUs = 1_000_000;
        public bool Flood, RandSource, Keep, Quiet;
        public string? Spoof;
    }

    public async Task<int> RunAsync(ToolContext ctx, IReadOnlyList<string> args)
    {
        var o = ctx.Output;
        var opt = new Options();
        if (!Parse(args, opt, o, out int status)) return status;
        if (opt.Target is null)
        {
            o.WriteLine("hping2: missing host argument");
            o.WriteLine("Try `hping2 --help' for more information.");
            return 1;
        }
        if (!Ipv4Address.TryParse(opt.Target, out var remote))
        {
            o.WriteError($"Unable to resolve '{opt.Target}'");
            return 1;
        }
        if (opt.Count is <= 0 and not -1)
        {
            o.WriteLine("Option error: count must > 0");
            return 1;
        }
        // get_if_name(): the interface the route to the target leaves by, and its address.
        var host = ctx.Host;
        var route = host.Ipv4.RouteOutput(remote, 0);
        if (route is null || route.Type is RouteType.Unreachable or RouteType.Prohibit or RouteType.Blackhole)
        {
            o.WriteLine("[main] no such device");
            return 1;
        }
        NetDevice dev = route.Type == RouteType.Local ? host.Loopback : route.Device!;
        var ifAddr = route.PreferredSource ?? host.Ipv4.SelectSourceAddress(dev, remote);
        Ipv4Address local = ifAddr;
        if (opt.Spoof is not null && !Ipv4Address.TryParse(opt.Spoof, out local))
        {
            o.WriteError($"Unable to resolve '{opt.Spoof}'");
            return 1;
        }

        using var raw = RawSocket.Open(host, IpProtocol.Raw);
        raw.Broadcast = true; // socket_broadcast()
        var rng = ctx.RandomStream("hping3");
        int rand() => rng.Next();              // glibc rand(): 0..RAND_MAX
        uint hpRand() => rng.NextUInt32();     // hp_rand(): 32 random bits
        int initSport = opt.InitSport == -1 ? 1024 + rand() % 2000 : opt.InitSport;
        int srcPort = initSport;

        var flags = FlagString(opt.Flags, "NO FLAGS are");
        o.WriteLine($"HPING {opt.Target} ({dev.Name} {remote}): {flags} set, {IpHeaderSize + TcpHeaderSize} headers + {opt.DataSize} data bytes");
        if (opt.Flood) o.WriteError("hping in flood mode, no replies will be shown");

        int sent = 0, received = 0;
        float rttMin = 0, rttMax = 0, rttAvg = 0;
        int avgCounter = 0;
        var sentAt = new Dictionary<int, (int Seq, long Ns, bool Answered)>(); // delaytable by source port
        using var done = CancellationTokenSource.CreateLinkedTokenSource(ctx.CancellationToken);

        // wait_packet(): replies from the target port, as hping3 reads them with libpcap.
        using RawSocket? rx = opt.Flood ? null : RawSocket.Open(host, IpProtocol.Tcp);
        Task receiver = Task.CompletedTask;
        if (rx is not null)
        {
            receiver = ReceiveLoop();
            async Task ReceiveLoop()
            {
                try
                {
                    while (true)
                    {
                        var d = await rx.ReceiveAsync(done.Token);
                        if (!Ipv4Repr.TryParse(d.Datagram, out var ip, verifyChecksum: false)) continue;
                        int ihl = (d.Datagram[0] & 0xF) * 4;
                        var tcp = d.Datagram.AsSpan(ihl, d.Datagram.Length - ihl);
                        if (tcp.Length < TcpHeaderSize) continue;
                        int sport = BinaryPrimitives.ReadUInt16BigEndian(tcp);
                        int dport = BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]);
                        if (sport != opt.DstPort) continue;
                        // rtt(): the sent packet whose source port this reply answers.
                        if (!sentAt.TryGetValue(dport, out var s)) continue;
                        bool dup = s.Answered;
                        sentAt[dport] = s with { Answered = true };
                        float ms = (float)((ctx.Now.Nanoseconds - s.Ns) / 1e6);
                        if (rttMin == 0 || ms < rttMin) rttMin = ms;
                        if (rttMax == 0 || ms > rttMax) rttMax = ms;
                        avgCounter++;
                        rttAvg = rttAvg * (avgCounter - 1) / avgCounter + ms / avgCounter;
                        received++;
                        if (!opt.Quiet)
                        {
                            // The length libpcap reports less the link header: Ethernet pads frames to 60 bytes.
                            int len = d.Datagram.Length;
                            if (host.Devices.FirstOrDefault(x => x.IfIndex == d.IfIndex) is EthernetDevice) len = Math.Max(len, 46);
                            var ipv = Ipv4HeaderView.ForEmit(d.Datagram);
                            var f = FlagString((TcpFlags)tcp[13], "none");
                            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                                $"{(dup ? "DUP! " : "")}len={len} ip={ip.Source} ttl={ip.Ttl} {(ipv.FlagsAndOffset != 0 ? "DF " : "")}id={ip.Identification} "
                                + $"sport={sport} flags={f} seq={s.Seq} win={BinaryPrimitives.ReadUInt16BigEndian(tcp[14..])} rtt={ms:F1} ms"));
                        }
                        if (opt.Count != -1 && received == opt.Count) { done.Cancel(); return; }
                    }
                }
                catch (OperationCanceledException) { }
            }
        }

        var packet = new byte[IpHeaderSize + TcpHeaderSize + opt.DataSize];
        try
        {
            for (int sequence = 0; ; )
            {
                if (opt.RandSource) local = new Ipv4Address(hpRand()); // select_next_random_source()
                BuildPacket(packet, local, remote, srcPort, opt, (uint)rand(), (uint)rand(), (ushort)rand());
                sentAt[srcPort] = (sequence, ctx.Now.Nanoseconds, false);
                if (opt.Flood)
                {
                    // sendto() blocks while the send buffer is full: the packets still queued on the interface.
                    while (dev.Qdisc.Count * (packet.Length + 14 + 576) >= SkSndbuf)
                        await SleepAsync(ctx, 10, done.Token);
                }
                var err = raw.SendTo(packet, remote);
                if (err != Errno.None && !opt.RandSource)
                {
                    o.WriteError($"[send_ip] sendto: {ErrnoText.Describe(err)}"); // perror(), then exit(1)
                    done.Cancel();
                    await receiver;
                    return 1;
                }
                sequence++;
                if (!opt.Keep) srcPort = (sequence + initSport) % 65536;
                sent++;
                if (opt.Count != -1 && sent == opt.Count)
                {
                    await Task.Delay(TimeSpan.FromSeconds(CountReachedTimeoutSeconds), ctx.TimeProvider, done.Token);
                    break;
                }
                if (opt.Flood) continue;
                // setitimer() with a zero interval disarms the timer: "-i u0" sends one packet and then only listens.
                await SleepAsync(ctx, opt.IntervalUs == 0 ? -1 : opt.IntervalUs, done.Token);
            }
        }
        catch (OperationCanceledException) { }
        done.Cancel();
        await receiver;

        // print_statistics()
        int lossrate = received > 0 ? 100 - received * 100 / sent : sent == 0 ? 0 : 100;
        o.WriteError("");
        o.WriteError($"--- {opt.Target} hping statistic ---");
        o.WriteError($"{sent} packets tramitted, {received} packets received, {lossrate}% packet loss");
        o.WriteError(string.Create(CultureInfo.InvariantCulture, $"round-trip min/avg/max = {rttMin:F1}/{rttAvg:F1}/{rttMax:F1} ms"));
        return received > 0 ? 0 : 1;
    }

    /// <summary>Sleeps <paramref name="us"/> microseconds of virtual time (Task.Delay with a TimeProvider counts whole milliseconds).</summary>
    private static async Task SleepAsync(ToolContext ctx, long us, CancellationToken ct)
    {
        await ctx.WaitAsync(t => Task.Delay(Timeout.InfiniteTimeSpan, ctx.TimeProvider, t), us < 0 ? -1 : us * 1000, ct); // negative: forever
        ct.ThrowIfCancellationRequested();
    }

    /// <summary>send_tcp() + send_ip(): the IP header (checksum and length left to the kernel) and the TCP segment.</summary>
    private static void BuildPacket(byte[] packet, Ipv4Address src, Ipv4Address dst, int srcPort, Options opt, uint seq, uint ack, ushort id)
    {
        Array.Clear(packet);
        var ip = Ipv4HeaderView.ForEmit(packet);
        ip.SetVersionAndHeaderLength(IpHeaderSize);
        ip.TotalLength = (ushort)packet.Length;
        ip.Identification = id;
        ip.Ttl = (byte)opt.Ttl;
        ip.Protocol = IpProtocol.Tcp;
        ip.Source = src;
        ip.Destination = dst;
        packet.AsSpan(IpHeaderSize + TcpHeaderSize).Fill((byte)'X'); // data_handler() without a file
        new TcpRepr((ushort)srcPort, (ushort)opt.DstPort, new SeqNum(seq), new SeqNum(ack), opt.Flags, (ushort)opt.Win,
            default, opt.DataSize).Emit(packet.AsSpan(IpHeaderSize), src, dst);
    }

    private static string FlagString(TcpFlags f, string none)
    {
        var sb = new StringBuilder();
        if ((f & TcpFlags.Rst) != 0) sb.Append('R');
        if ((f & TcpFlags.Syn) != 0) sb.Append('S');
        if ((f & TcpFlags.Ack) != 0) sb.Append('A');
        if ((f & TcpFlags.Fin) != 0) sb.Append('F');
        if ((f & TcpFlags.Psh) != 0) sb.Append('P');
        if ((f & TcpFlags.Urg) != 0) sb.Append('U');
        if (((int)f & 0x40) != 0) sb.Append('X');
        if (((int)f & 0x80) != 0) sb.Append('Y');
        return sb.Length == 0 ? none : sb.ToString();
    }

    /// <summary>strtol(s, NULL, 0) for the decimal case: leading digits, garbage is 0.</summary>
    private static int Strtol(string s)
    {
        int end = 0;
        if (end < s.Length && s[end] is '-' or '+') end++;
        while (end < s.Length && char.IsAsciiDigit(s[end])) end++;
        return int.TryParse(s.AsSpan(0, end), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) ? n : 0;
    }

    /// <summary>antigetopt(): short and long options, arguments attached or separate, flag letters bundled (-SA).</summary>
    private static bool Parse(IReadOnlyList<string> input, Options opt, IToolOutput o, out int status)
    {
        status = 0;
        var args = new List<string>();
        foreach (var a in input)
        {
            if (a.Length > 2 && a[0] == '-' && a[1] != '-' && a.Skip(1).All(c => "SAFRPUkq".Contains(c)))
                args.AddRange(a.Skip(1).Select(c => "-" + c));
            else args.Add(a);
        }
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            bool isLong = a.StartsWith("--", StringComparison.Ordinal);
            string name = isLong ? a[2..] : a.Length >= 2 && a[0] == '-' ? a[1..2] : "";
            string? attached = !isLong && a.Length > 2 && a[0] == '-' ? a[2..] : null;
            string Arg()
            {
                if (attached is not null) return attached;
                if (i + 1 < args.Count) return args[++i];
                throw new FormatException($"hping: option requires an argument -- '{name}'");
            }
            try
            {
                switch (name)
                {
                    case "": opt.Target = a; break;
                    case "S" or "syn": opt.Flags |= TcpFlags.Syn; break;
                    case "A" or "ack": opt.Flags |= TcpFlags.Ack; break;
                    case "F" or "fin": opt.Flags |= TcpFlags.Fin; break;
                    case "R" or "rst": opt.Flags |= TcpFlags.Rst; break;
                    case "P" or "push": opt.Flags |= TcpFlags.Psh; break;
                    case "U" or "urg": opt.Flags |= TcpFlags.Urg; break;
                    case "k" or "keep": opt.Keep = true; break;
                    case "q" or "quiet": opt.Quiet = true; break;
                    case "flood": opt.Flood = true; break;
                    case "rand-source": opt.RandSource = true; break;
                    case "fast": opt.IntervalUs = 100_000; break;
                    case "faster": opt.IntervalUs = 1; break; // parseoptions.c sets 1 us, whatever the help says
                    case "p" or "destport": opt.DstPort = Strtol(Arg().TrimStart('+')); break;
                    case "s" or "baseport": opt.InitSport = Strtol(Arg()); break;
                    case "c" or "count": opt.Count = Strtol(Arg()); break;
                    case "w" or "win": opt.Win = Strtol(Arg()); break;
                    case "t" or "ttl": opt.Ttl = Strtol(Arg()); break;
                    case "d" or "data": opt.DataSize = Strtol(Arg()); break;
                    case "a" or "spoof": opt.Spoof = Arg(); break;
                    case "i" or "interval":
                        var v = Arg();
                        opt.IntervalUs = v.StartsWith('u') ? Strtol(v[1..]) : Strtol(v) * 1_000_000L;
                        if (opt.IntervalUs < 0)
                        {
                            o.WriteLine("Option error: bad timing interval");
                            status = 1;
                            return false;
                        }
                        break;
                    case "h" or "help":
                        foreach (var line in Usage) o.WriteLine(line);
                        return false;
                    default:
                        o.WriteError(isLong ? $"hping: unrecognized option `{a}'" : $"hping: invalid option -- {name}");
                        o.WriteError("Try hping --help");
                        status = 1;
                        return false;
                }
            }
            catch (FormatException e)
            {
                o.WriteError(e.Message);
                o.WriteError("Try hping --help");
                status = 1;
                return false;
            }
        }
        if (opt.DataSize < 0 || opt.DataSize + IpHeaderSize + TcpHeaderSize > 65535)
        {
            o.WriteLine($"Option error: sorry, data size must be <= {65535 - IpHeaderSize + TcpHeaderSize}");
            status = 1;
            return false;
        }
        return true;
    }
}
