using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Net;
using NetLab.Stack;
using NetLab.Stack.IPv4;
using NetLab.Stack.Sockets;
using NetLab.Stack.Tcp;

namespace NetLab.Tools.Tests;

public class TracerouteTests
{
    [Fact]
    public void ThroughTwoRouters_ThreeHops_WithVirtualTimes()
    {
        var (w, a, _, _, _) = Nets.TwoRouters();
        var (status, o) = Nets.Run(w, a, "traceroute 10.0.3.2");
        // All 16 probes leave at once, queued behind a's ARP for r1 (2 × 1.00672 ms), then back to back
        // as 74-byte frames (7.84 µs each). Probe 1: ARP, one frame and 1 ms to r1, then a 102-byte
        // time exceeded (10.08 µs + 1 ms) back: 4.03136 ms. Its neighbours queue behind it.
        Assert.Equal(4_031_360, 2 * Nets.HopNs(60) + Nets.HopNs(74) + Nets.HopNs(102));
        Assert.Equal("""
            traceroute to 10.0.3.2 (10.0.3.2), 30 hops max, 60 byte packets
             1  10.0.1.1 (10.0.1.1)  4.031 ms  4.041 ms  4.051 ms
             2  10.0.2.2 (10.0.2.2)  8.086 ms  8.096 ms  8.106 ms
             3  10.0.3.2 (10.0.3.2)  12.141 ms  12.151 ms  12.161 ms

            """, o.Text);
        Assert.Empty(o.Errors);
        Assert.Equal(0, status);
        // A hop is on the terminal as soon as its last probe is.
        Assert.Equal(4_051_000, o.All[1].At.Nanoseconds / 1000 * 1000);
    }

    [Fact]
    public void RepliesWithinTheFirstMicrosecond_StillShowTheirTimes()
    {
        // No delay at 10 Gbit/s: a's first answers arrive before virtual time reaches 1 µs. get_time() is
        // gettimeofday(), never 0, so they are answers (0 would mean "none" to print_probe()).
        var fast = new Net.LinkParameters { RateBitsPerSecond = 10_000_000_000 };
        var (w, a, _, _) = Nets.Routed(fast, fast);
        var (status, o) = Nets.Run(w, a, "traceroute -n -q 1 10.0.2.2");
        Assert.Equal([
            "traceroute to 10.0.2.2 (10.0.2.2), 30 hops max, 60 byte packets",
            " 1  10.0.1.1  0.000 ms",
            " 2  10.0.2.2  0.000 ms"], o.Lines);
        Assert.Equal(0, status);
    }

    [Fact]
    public void SilentRouter_IsStars_AndTheNextHopShortensTheWait()
    {
        var (w, a, _, r2, _) = Nets.TwoRouters();
        // r2's own ICMP leaves with TTL 1 and dies at r1: it forwards, but its time exceeded never arrives.
        r2.Sysctl.Set("net.ipv4.ip_default_ttl", "1");
        var (status, o) = Nets.Run(w, a, "traceroute -n 10.0.3.2");
        Assert.Equal("""
            traceroute to 10.0.3.2 (10.0.3.2), 30 hops max, 60 byte packets
             1  10.0.1.1  4.031 ms  4.041 ms  4.051 ms
             2  * * *
             3  10.0.3.2  12.141 ms  12.151 ms  12.161 ms

            """, o.Text);
        // Hop 2 waits NEAR (10) × (hop 3's 12.141 ms + 1 ms), not the full 5 s.
        Assert.Equal(131_410, o.All[2].At.Nanoseconds / 1000);
        Assert.Equal(0, status);
    }

    [Fact]
    public void UnresolvableLastHop_IsHostUnreachable_FromTheLastRouter()
    {
        var (w, a, _, _, _) = Nets.TwoRouters();
        var (status, o) = Nets.Run(w, a, "traceroute 10.0.3.99");
        // r2 asks for 10.0.3.99 three times; after 3 s it answers every queued probe with host unreachable.
        Assert.Equal("""
            traceroute to 10.0.3.99 (10.0.3.99), 30 hops max, 60 byte packets
             1  10.0.1.1 (10.0.1.1)  4.031 ms  4.041 ms  4.051 ms
             2  10.0.2.2 (10.0.2.2)  8.086 ms  8.096 ms  8.106 ms
             3  10.0.2.2 (10.0.2.2)  3008.109 ms !H  3008.119 ms !H  3008.129 ms !H

            """, o.Text);
        Assert.Equal(0, status);
    }

    [Fact]
    public void Icmp_UsesEchoRequests()
    {
        var (w, a, _, _, _) = Nets.TwoRouters();
        var (status, o) = Nets.Run(w, a, "traceroute -I -n -q 2 10.0.3.2");
        Assert.Equal([
            "traceroute to 10.0.3.2 (10.0.3.2), 30 hops max, 60 byte packets",
            " 1  10.0.1.1  4.031 ms  4.041 ms",
            " 2  10.0.2.2  8.078 ms  8.088 ms",
            " 3  10.0.3.2  12.118 ms  12.126 ms"], o.Lines);
        Assert.Equal(0, status);
    }

    [Fact]
    public void RateLimitedTarget_StaysSilent_RightAfterAFullRun()
    {
        var (w, a, _, _, _) = Nets.TwoRouters();
        Nets.Run(w, a, "traceroute -n 10.0.3.2");
        // Right after a full run b has spent its burst of six ICMP errors (it answered hops 3 and 4 of
        // the first run): it stays silent, and the probes that reach it expire after 5 s.
        var start = w.Now;
        var (status, o) = Nets.Run(w, a, "traceroute -n -q 1 -m 5 10.0.3.2");
        Assert.Equal([
            "traceroute to 10.0.3.2 (10.0.3.2), 5 hops max, 60 byte packets",
            " 1  10.0.1.1  2.018 ms",
            " 2  10.0.2.2  4.043 ms",
            " 3  *",
            " 4  *",
            " 5  *"], o.Lines);
        Assert.Equal((start + SimDuration.FromSeconds(5)).Nanoseconds / 1000, o.All[^1].At.Nanoseconds / 1000);
        Assert.Equal(0, status);
    }

    [Fact]
    public void NoRoute_AtTheFirstRouter_IsNetUnreachable()
    {
        var (w, a, _, _, _) = Nets.TwoRouters();
        var (status, o) = Nets.Run(w, a, "traceroute -n -q 2 -w 2 10.9.9.9");
        Assert.Equal(["traceroute to 10.9.9.9 (10.9.9.9), 30 hops max, 60 byte packets", " 1  10.0.1.1  4.031 ms !N  4.041 ms !N"], o.Lines);
        Assert.Equal(0, status);
    }

    [Fact]
    public void BadArguments()
    {
        var (w, a, _, _, _) = Nets.TwoRouters();
        Assert.Equal("no more than 10 probes per hop", Nets.Run(w, a, "traceroute -q 11 10.0.3.2").Out.Errors.Single());
        Assert.Equal("first hop out of range", Nets.Run(w, a, "traceroute -f 31 10.0.3.2").Out.Errors.Single());
        Assert.Equal("Bad option `-x' (argc 1)", Nets.Run(w, a, "traceroute -x 10.0.3.2").Out.Errors.Single());
        // No arguments at all: the whole help on stderr, and exit 0.
        var help = Nets.Run(w, a, "traceroute");
        Assert.Equal((0, "Usage:", 87), (help.Status, help.Out.Errors[0], help.Out.Errors.Count));
        w.RunFor(SimDuration.FromSeconds(1));
    }

    // ------------------------------------------------------------------ -T (mod-tcp)

    [Fact]
    public void Tcp_ClosedPort_TheTargetsResetEndsTheTrace()
    {
        var (w, a, _, _, _) = Nets.TwoRouters();
        var (status, o) = Nets.Run(w, a, "traceroute -T 10.0.3.2");
        // The SYNs are 74-byte frames like the UDP probes, so hops 1 and 2 take what they take for UDP. b's
        // RST is a 40-byte datagram, padded to a 60-byte frame: 42 bytes shorter than a port unreachable
        // quoting a whole probe, 3.36 µs less on each of the three links back (12.141 ms for UDP).
        Assert.Equal(3_360, Nets.HopNs(102) - Nets.HopNs(60));
        Assert.Equal("""
            traceroute to 10.0.3.2 (10.0.3.2), 30 hops max, 60 byte packets
             1  10.0.1.1 (10.0.1.1)  4.031 ms  4.041 ms  4.051 ms
             2  10.0.2.2 (10.0.2.2)  8.086 ms  8.096 ms  8.106 ms
             3  10.0.3.2 (10.0.3.2)  12.131 ms  12.138 ms  12.146 ms

            """, o.Text);
        Assert.Empty(o.Errors);
        Assert.Equal(0, status);
        // The six time exceeded reached traceroute through its raw socket's error queue; TCP itself found
        // no connection for them (the ports are only held by bound sockets), and counted them as errors.
        Assert.Equal(6, a.IcmpStats[IcmpMib.InErrors]);
        w.RunFor(SimDuration.FromSeconds(1));
        Assert.Empty(a.Tcp.Entries()); // every port-holding socket is closed
    }

    [Fact]
    public void Tcp_TheSyn_HasTheOptionsOfTheSysctls_AndAWindowOfFourMss()
    {
        var (w, a, _, _, b) = Nets.TwoRouters();
        using var capture = RawSocket.Open(b, IpProtocol.Tcp);
        var (status, o) = Nets.Run(w, a, "traceroute -n -T -q 1 -m 3 10.0.3.2");
        Assert.Equal(0, status);
        Assert.Equal(" 3  10.0.3.2  12.099 ms", o.Lines[^1]);
        // Only the TTL 3 probe gets as far as b, with TTL 1 left. Not DF: -F was not given.
        Assert.True(capture.TryReceive(out var d));
        Assert.False(capture.TryReceive(out _));
        var ip = Ipv4HeaderView.ForEmit(d!.Datagram);
        Assert.Equal((60, (byte)1, false), (ip.TotalLength, ip.Ttl, ip.DontFragment));
        var segment = d.Datagram.AsSpan(ip.HeaderLength);
        Assert.True(TcpRepr.TryParse(segment, ip.Source, ip.Destination, out var syn)); // the checksum is right
        // What tcpdump shows of Linux's traceroute -T: the port is an ephemeral one, seq and TS val are random.
        var line = System.Text.RegularExpressions.Regex.Replace(syn.ToString(ip.Source, ip.Destination), @"(seq|val) \d+", "$1 N");
        Assert.Equal("IP 10.0.1.2." + syn.SourcePort + " > 10.0.3.2.80: Flags [S], seq N, win 5840, options [mss 1460,sackOK,TS val N ecr 0,nop,wscale 2], length 0", line);
        Assert.InRange(syn.SourcePort, 32768, 60999);
        // mss = IP_MTU (1500) - 40; window = 4 × mss; the options in tcp_init()'s order.
        var options = segment[20..40].ToArray();
        Array.Clear(options, 8, 4); // TS val
        Assert.Equal<byte>([2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 2], options);
    }

    [Fact]
    public void Tcp_OpenPort_SynAckIsFinal_AndTheHostResetsIt()
    {
        var (w, a, _, _, b) = Nets.TwoRouters();
        var listener = b.Tcp.Open();
        Assert.Equal(Errno.None, listener.Bind(Ipv4Address.Any, 80));
        Assert.Equal(Errno.None, listener.Listen(5));
        var (status, o) = Nets.Run(w, a, "traceroute -n -T -q 1 -O info 10.0.3.2");
        Assert.Equal([
            "traceroute to 10.0.3.2 (10.0.3.2), 30 hops max, 60 byte packets",
            " 1  10.0.1.1  4.031 ms",
            " 2  10.0.2.2  8.070 ms",
            " 3  10.0.3.2 <syn,ack>  12.103 ms"], o.Lines);
        Assert.Equal(0, status);
        w.RunFor(SimDuration.FromSeconds(1));
        // Sixteen SYNs reached b: TTLs 3 to 16, and 17 and 18, sent as hops 1 and 2 were answered (16 stay in
        // flight). Each SYN-ACK came back to a port that no socket listens or connects on (held, then closed):
        // a answered each with a RST, which ended b's half-open request before any SYN-ACK retransmission.
        Assert.Equal(16, a.TcpStats[TcpMib.OutRsts]);
        Assert.Equal(0, b.TcpStats[TcpMib.RetransSegs]);
        Assert.Empty(a.Tcp.Entries());
        Assert.Equal([TcpState.Listen], b.Tcp.Entries().Select(e => e.State));
        Assert.Equal(0, b.Tcp.Entries()[0].RecvQ);
        listener.Dispose();
    }

    [Fact]
    public void Tcp_ModuleOptions_ChangeTheSegment_AndInfoShowsTheAnswersFlags()
    {
        var (w, a, _, _, _) = Nets.TwoRouters();
        string Run(string cmd)
        {
            var (status, o) = Nets.Run(w, a, cmd);
            Assert.Equal(0, status);
            return string.Join('|', o.Lines.Select(l => System.Text.RegularExpressions.Regex.Replace(l, @"  \d+\.\d{3} ms", "")));
        }
        const string Header = "traceroute to 10.0.3.2 (10.0.3.2), 3 hops max, ";
        // Timestamps only: MSS, two NOPs and the option (no SACK permitted to share the word with).
        Assert.Equal(Header + "56 byte packets| 3  10.0.3.2", Run("traceroute -nT -q 1 -f 3 -m 3 -O time 10.0.3.2"));
        // A bare ACK (no SYN, so no MSS either) is answered by a bare RST; FIN by RST-ACK.
        Assert.Equal(Header + "40 byte packets| 3  10.0.3.2 <rst>", Run("traceroute -nT -q 1 -f 3 -m 3 -O ack,info 10.0.3.2"));
        Assert.Equal(Header + "40 byte packets| 3  10.0.3.2 <rst,ack>", Run("traceroute -n -M tcp -q 1 -f 3 -m 3 -O fin -O info 10.0.3.2"));
        Assert.Equal(Header + "44 byte packets| 3  10.0.3.2 <rst>", Run("traceroute -n --module=tcp -q 1 -f 3 -m 3 -O fl=0x12,info 10.0.3.2"));
        Assert.Equal(Header + "44 byte packets| 3  10.0.3.2 <rst,ack>", Run("traceroute -nT -q 1 -f 3 -m 3 -O ecn,info -p 22 10.0.3.2"));
        // Without -O flags the sysctls decide, as check_sysctl() reads them.
        a.Sysctl.Set("net.ipv4.tcp_timestamps", "0");
        Assert.Equal(Header + "52 byte packets| 3  10.0.3.2", Run("traceroute -nT -q 1 -f 3 -m 3 10.0.3.2"));
        a.Sysctl.Set("net.ipv4.tcp_timestamps", "2"); // only "1" counts
        a.Sysctl.Set("net.ipv4.tcp_sack", "0");
        a.Sysctl.Set("net.ipv4.tcp_window_scaling", "0");
        Assert.Equal(Header + "44 byte packets| 3  10.0.3.2", Run("traceroute -nT -q 1 -f 3 -m 3 10.0.3.2"));
    }

    [Fact]
    public void Tcp_UnresolvableTarget_IsHostUnreachable_ThroughTheErrorQueue()
    {
        var (w, a, _, _, _) = Nets.TwoRouters();
        var (status, o) = Nets.Run(w, a, "traceroute -n -T -q 1 10.0.3.99");
        Assert.Equal([
            "traceroute to 10.0.3.99 (10.0.3.99), 30 hops max, 60 byte packets",
            " 1  10.0.1.1  4.031 ms",
            " 2  10.0.2.2  8.070 ms",
            " 3  10.0.2.2  3008.078 ms !H"], o.Lines);
        Assert.Equal(0, status);
    }

    [Fact]
    public void Tcp_ModuleAndOptionErrors_AreClifs_AndInitErrorsComeBeforeTheHeader()
    {
        var (w, a, r1, _, _) = Nets.TwoRouters();
        (int, string) Err(Host h, string cmd)
        {
            var (status, o) = Nets.Run(w, h, cmd);
            return (status, string.Join('|', o.Lines.Concat(o.Errors)));
        }
        Assert.Equal((2, "`bogus' (argc 1): arguments are not allowed"), Err(a, "traceroute -T -O bogus 10.0.3.2"));
        Assert.Equal((2, "`t' (argc 2): arguments are not allowed"), Err(a, "traceroute -T -O sack,t 10.0.3.2"));
        Assert.Equal((2, "Keyword `mss' (argc 1) requires an argument: `mss=NUM'"), Err(a, "traceroute -T -O mss 10.0.3.2"));
        Assert.Equal((2, "Cannot handle `mss' keyword with arg `1000x' (argc 1)"), Err(a, "traceroute -T -O mss=1000x 10.0.3.2"));
        Assert.Equal((2, "Bad option `-x' (argc 2)"), Err(a, "traceroute -T -O info,-x 10.0.3.2"));
        Assert.Equal((2, "Keyword `dgram' (argc 2): Only one of:|    raw | dgram|may be specified."), Err(a, "traceroute -I -O raw,dgram 10.0.3.2"));
        Assert.Equal((2, "Unknown traceroute module foo"), Err(a, "traceroute -M foo 10.0.3.2"));
        Assert.Equal((2, "traceroute: the udp method is not available in NetLab"), Err(a, "traceroute -M udp 10.0.3.2"));
        Assert.Equal((2, "Option `-q' (argc 1) requires an argument: `-q nqueries'"), Err(a, "traceroute -nq1 10.0.3.2"));
        Assert.Equal((2, "Option `--module' (argc 1) requires an argument: `--module=name'"), Err(a, "traceroute --module tcp 10.0.3.2"));
        Assert.Equal(0, Err(a, "traceroute -n -q 1 -m 1 -- 10.0.3.2").Item1); // "--" ends the options
        // The default module has no options: its -O words are never parsed.
        Assert.Equal(0, Err(a, "traceroute -n -q 1 -m 1 -O bogus 10.0.3.2").Item1);
        // -O help prints the module's options (on stderr) and exits, host or not.
        var help = Nets.Run(w, a, "traceroute -T -O help");
        Assert.Equal((0, 24, "  syn                         Set tcp flag SYN (default if no other tcp flags"), (help.Status, help.Out.Errors.Count, help.Out.Errors[0]));
        Assert.Equal((0, "No options for module `default'"), Err(a, "traceroute -O help -T 10.0.3.2"));
        // tcp_init() and icmp_init() fail before the header; the UDP module binds its device per probe, after it.
        Assert.Equal((1, "|setsockopt SO_BINDTODEVICE: No such device"), Err(a, "traceroute -T -i eth9 10.0.3.2"));
        Assert.Equal((1, "|socket: Permission denied"), Err(a, "traceroute -I -O dgram 10.0.3.2")); // ping_group_range "1 0"
        Assert.Equal((1, "traceroute to 10.0.3.2 (10.0.3.2), 30 hops max, 60 byte packets||setsockopt SO_BINDTODEVICE: No such device"),
            Err(a, "traceroute -i eth9 10.0.3.2"));
        Assert.Equal((1, "|connect: Network is unreachable"), Err(r1, "traceroute -T 10.9.9.9"));
    }
}
