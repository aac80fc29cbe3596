using NetLab.Core.Time;

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
    public void Tcp_IsNotAvailableYet()
    {
        var (w, a, _, _, _) = Nets.TwoRouters();
        var (status, o) = Nets.Run(w, a, "traceroute -T 10.0.3.2");
        Assert.Equal((2, "traceroute: TCP method needs TCP, which NetLab does not have yet"), (status, o.Errors.Single()));
        Assert.Empty(o.Lines);
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
}
