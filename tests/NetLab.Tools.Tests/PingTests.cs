using NetLab.Core.Time;
using NetLab.Net;

namespace NetLab.Tools.Tests;

public class PingTests
{
    private static SimTime At(double seconds) => SimTime.Zero + SimDuration.FromSeconds(seconds);

    [Fact]
    public void Ping3_OverARouter_PrintsTheVirtualRtts()
    {
        var (w, a, _, _) = Nets.Routed();
        var (status, o) = Nets.Run(w, a, "ping -c 3 10.0.2.2");

        // Four crossings of a 98-byte frame: (98 + 24) * 8 bits at 100 Mbit/s = 9.76 µs, plus 1 ms each.
        long rtt = 4 * Nets.HopNs(98);
        Assert.Equal(4_039_040, rtt);
        // The first also waits for two ARP exchanges (60-byte frames), a for r and r for b: 8_065_920 ns.
        Assert.Equal(8_065_920, rtt + 4 * Nets.HopNs(60));
        // Times are whole µs of gettimeofday(); the next probe goes when the truncated ms elapsed
        // reach 1000 (1.00006592 s, then 2.00010496 s), so the third is 2000104 → 2004144 µs = 4040.
        Assert.Equal("""
            PING 10.0.2.2 (10.0.2.2) 56(84) bytes of data.
            64 bytes from 10.0.2.2: icmp_seq=1 ttl=63 time=8.07 ms
            64 bytes from 10.0.2.2: icmp_seq=2 ttl=63 time=4.04 ms
            64 bytes from 10.0.2.2: icmp_seq=3 ttl=63 time=4.04 ms

            --- 10.0.2.2 ping statistics ---
            3 packets transmitted, 3 received, 0% packet loss, time 2000ms
            rtt min/avg/max/mdev = 4.039/5.381/8.065/1.897 ms

            """, o.Text);
        Assert.Empty(o.Errors);
        Assert.Equal(0, status);
        // Each reply is printed when it arrives; the summary right after the last.
        Assert.Equal([0, 8_065_920, 1_004_104_960, 2_004_144_000], o.All.Take(4).Select(l => l.At.Nanoseconds));
        Assert.Equal(2_004_144_000, o.All[^1].At.Nanoseconds);
    }

    [Fact]
    public void UnreachableOnLinkAddress_ArpFailsAfter3s_WithHostUnreachableAndPipe()
    {
        var (w, a, _, _) = Nets.Routed();
        var (status, o) = Nets.Run(w, a, "ping -w 4 10.0.1.99");
        // ARP asks at 0, 1 and 2 s; at 3 s the entry fails and the three queued probes come back as
        // errors, just after the fourth probe went out (so pipe 4); -w stops at the first error.
        Assert.Equal("""
            PING 10.0.1.99 (10.0.1.99) 56(84) bytes of data.
            From 10.0.1.2 icmp_seq=1 Destination Host Unreachable
            From 10.0.1.2 icmp_seq=2 Destination Host Unreachable
            From 10.0.1.2 icmp_seq=3 Destination Host Unreachable

            --- 10.0.1.99 ping statistics ---
            4 packets transmitted, 0 received, +3 errors, 100% packet loss, time 3000ms
            pipe 4

            """, o.Text);
        Assert.Equal(1, status);
        Assert.All(o.All.Skip(1), l => Assert.Equal(At(3), l.At));

        (status, o) = Nets.Run(w, a, "ping -c 3 10.0.1.98");
        Assert.Equal([
            "From 10.0.1.2 icmp_seq=1 Destination Host Unreachable",
            "From 10.0.1.2 icmp_seq=2 Destination Host Unreachable",
            "From 10.0.1.2 icmp_seq=3 Destination Host Unreachable",
            "",
            "--- 10.0.1.98 ping statistics ---",
            "3 packets transmitted, 0 received, +3 errors, 100% packet loss, time 2000ms",
            "pipe 3"], o.Lines.Skip(1));
        Assert.Equal(1, status);
    }

    [Fact]
    public void DontFragment_1472_OverA1400Path_FragNeededThenLocalErrors()
    {
        var (w, a, _, _) = Nets.Routed(right: Nets.Lan with { Mtu = 1400 });
        var (status, o) = Nets.Run(w, a, "ping -M do -s 1472 -c 3 10.0.2.2");
        Assert.Equal("""
            PING 10.0.2.2 (10.0.2.2) 1472(1500) bytes of data.
            From 10.0.1.1 icmp_seq=1 Frag needed and DF set (mtu = 1400)

            --- 10.0.2.2 ping statistics ---
            3 packets transmitted, 0 received, +3 errors, 100% packet loss, time 2000ms


            """, o.Text);
        // The router's error taught a the path MTU: later probes fail locally (ip_local_error).
        Assert.Equal(["ping: local error: message too long, mtu=1400", "ping: local error: message too long, mtu=1400"], o.Errors);
        Assert.Equal(1, status);
        // ARP (2 × 1.00672 ms), the 1514-byte frame (1.12304 ms), the 590-byte error back (1.04912 ms).
        Assert.Equal(2 * Nets.HopNs(60) + Nets.HopNs(1514) + Nets.HopNs(590), o.All[1].At.Nanoseconds);
    }

    [Fact]
    public void Ping4000_IsAnsweredThroughFragmentation()
    {
        var (w, a, _, _) = Nets.Routed();
        Nets.Run(w, a, "ping -c 1 10.0.2.2"); // ARP everywhere first; it ends at 8.06592 ms
        var (status, o) = Nets.Run(w, a, "ping -c 1 -s 4000 10.0.2.2");
        // 4028 bytes leave as 1500 + 1500 + 1068 (frames 1514, 1514, 1082), back to back. The router
        // forwards each fragment as it arrives, so the second link finishes the last one 3 × 1514-byte
        // + 1 × 1082-byte serialisations after a started; with 1 ms per link that is 2.4576 ms to b,
        // and b's fragmented reply takes as long: 4.9152 ms, sent at 8065.92 µs, so 4916 whole µs.
        long oneWay = 2 * Nets.Lan.Delay.Nanoseconds + 3 * Channel.SerializationNs(1514, 100_000_000)
            + Channel.SerializationNs(1082, 100_000_000);
        Assert.Equal(4_915_200, 2 * oneWay);
        Assert.Equal([
            "PING 10.0.2.2 (10.0.2.2) 4000(4028) bytes of data.",
            "4008 bytes from 10.0.2.2: icmp_seq=1 ttl=63 time=4.92 ms",
            "",
            "--- 10.0.2.2 ping statistics ---",
            "1 packets transmitted, 1 received, 0% packet loss, time 0ms",
            "rtt min/avg/max/mdev = 4.916/4.916/4.916/0.000 ms"], o.Lines);
        Assert.Equal(0, status);
    }

    [Fact]
    public void Loss_IsPrintedWithSixSignificantDigits_AndErrorsAreCountedApart()
    {
        var (w, a, r, b) = Nets.Routed();
        // b ignores echo requests around the second probe: one in three is lost.
        w.Scheduler.At(At(0.5), () => b.Sysctl.Set("net.ipv4.icmp_echo_ignore_all", "1"));
        w.Scheduler.At(At(1.5), () => b.Sysctl.Set("net.ipv4.icmp_echo_ignore_all", "0"));
        var (status, o) = Nets.Run(w, a, "ping -c 3 10.0.2.2");
        Assert.Equal("3 packets transmitted, 2 received, 33.3333% packet loss, time 2000ms", o.Lines[^2]);
        Assert.Equal(0, status);

        // The router loses its route to b before the third probe: Net Unreachable, one error.
        var start = w.Now;
        w.Scheduler.At(start + SimDuration.FromSeconds(1.5), () => r.FindDevice("eth1")!.SetUp(false));
        (status, o) = Nets.Run(w, a, "ping -c 3 10.0.2.2");
        Assert.Equal("From 10.0.1.1 icmp_seq=3 Destination Net Unreachable", o.Lines[3]);
        Assert.Equal("3 packets transmitted, 2 received, +1 errors, 33.3333% packet loss, time 2000ms", o.Lines[^2]);
        Assert.StartsWith("rtt min/avg/max/mdev = 4.039/4.039/4.040/", o.Lines[^1]);
        Assert.Equal(0, status);
    }

    [Fact]
    public void SendFailures_WithNothingQueued_AreCountedSilently()
    {
        var (w, a, _, _) = Nets.Routed();
        // Messages over 0xFFFF fail in raw_sendmsg() and the route's loss makes the third send fail with
        // ENETUNREACH: neither queues an error, so iputils 20221126 prints nothing for them (Linux 6.18
        // did the same for `ping -s 70000` and for `ip route del default` during a ping).
        var (status, o) = Nets.Run(w, a, "ping -c 2 -s 70000 10.0.2.2");
        Assert.Equal("2 packets transmitted, 0 received, 100% packet loss, time 1000ms", o.Lines[^2]);
        Assert.Empty(o.Errors);
        Assert.Equal(1, status);

        var start = w.Now;
        w.Scheduler.At(start + SimDuration.FromSeconds(1.5), () => a.Ipv4.DeleteRoute(Core.Addressing.Ipv4Prefix.Parse("0.0.0.0/0")));
        (status, o) = Nets.Run(w, a, "ping -c 3 10.0.2.2");
        Assert.Equal("3 packets transmitted, 2 received, 33.3333% packet loss, time 2000ms", o.Lines[^2]);
        Assert.Empty(o.Errors);
        Assert.Equal(0, status);
    }

    [Fact]
    public void Ttl1_GetsTimeExceededFromTheRouter()
    {
        var (w, a, _, _) = Nets.Routed();
        var (status, o) = Nets.Run(w, a, "ping -c 2 -t 1 10.0.2.2");
        Assert.Equal("""
            PING 10.0.2.2 (10.0.2.2) 56(84) bytes of data.
            From 10.0.1.1 icmp_seq=1 Time to live exceeded
            From 10.0.1.1 icmp_seq=2 Time to live exceeded

            --- 10.0.2.2 ping statistics ---
            2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 1000ms


            """, o.Text);
        Assert.Equal(1, status);
    }

    [Fact]
    public void ZeroAddress_IsThisHost_AnsweredBy127001()
    {
        var (w, a, _, _) = Nets.Routed();
        var (status, o) = Nets.Run(w, a, "ping -c 2 0.0.0.0");
        Assert.Equal("""
            PING 0.0.0.0 (127.0.0.1) 56(84) bytes of data.
            64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.000 ms
            64 bytes from 127.0.0.1: icmp_seq=2 ttl=64 time=0.000 ms

            --- 0.0.0.0 ping statistics ---
            2 packets transmitted, 2 received, 0% packet loss, time 1000ms
            rtt min/avg/max/mdev = 0.000/0.000/0.000/0.000 ms

            """, o.Text);
        Assert.Equal(0, status);
    }

    [Fact]
    public void Interrupt_PrintsTheSummaryAtOnce()
    {
        var (w, a, _, _) = Nets.Routed();
        using var sigint = new CancellationTokenSource(TimeSpan.FromSeconds(2.5), w.Scheduler.TimeProvider);
        var (status, o) = Nets.Run(w, a, "ping 10.0.2.2", sigint.Token);
        Assert.Equal("3 packets transmitted, 3 received, 0% packet loss, time 2000ms", o.Lines[^2]);
        Assert.Equal(At(2.5), o.All[^1].At);
        Assert.Equal(0, status);
    }

    [Fact]
    public void ErrorsBeforeSending()
    {
        var (w, a, r, _) = Nets.Routed();
        Assert.Equal((2, "ping: connect: Network is unreachable"), Error(Nets.Run(w, r, "ping -c 1 192.168.9.9")));
        Assert.Equal((1, "ping: invalid argument: '300': out of range: 0 <= value <= 255"), Error(Nets.Run(w, a, "ping -t 300 10.0.2.2")));
        Assert.Equal((1, "ping: invalid argument: '-1': out of range: 0 <= value <= 2147483647"), Error(Nets.Run(w, a, "ping -s -1 10.0.2.2")));
        Assert.Equal((1, "ping: invalid argument: 'x'"), Error(Nets.Run(w, a, "ping -c x 10.0.2.2")));
        Assert.Equal((2, "ping: invalid -M argument: maybe"), Error(Nets.Run(w, a, "ping -M maybe 10.0.2.2")));
        Assert.Equal((2, "ping: invalid option -- 'z'"), Error(Nets.Run(w, a, "ping -z 10.0.2.2")));
        Assert.Equal((2, "ping: example.com: Name or service not known"), Error(Nets.Run(w, a, "ping example.com")));
        Assert.Equal((2, "ping: SO_BINDTODEVICE eth9: No such device"), Error(Nets.Run(w, a, "ping -I eth9 10.0.2.2")));
        Assert.Equal((2, "ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules"),
            Error(Nets.Run(w, a, "ping 10.0.1.255")));
    }

    [Fact]
    public void LingerAndIntervalArguments_AsIputils20221126()
    {
        // 1.4 s each way (ARP still answers within its 3 s): the echo reply takes 5.6 s, past -W 5.
        var slow = Nets.Lan with { Delay = SimDuration.FromSeconds(1.4) };
        var (w, a, _, _) = Nets.Routed(slow, slow);
        Assert.Equal(0, Nets.Run(w, a, "ping -c 1 -W 20 10.0.2.2").Status); // ARP first
        var (status, o) = Nets.Run(w, a, "ping -c 1 -W 5 10.0.2.2");
        Assert.Equal("1 packets transmitted, 0 received, 100% packet loss, time 0ms", o.Lines[^2]);
        Assert.Equal(1, status);
        w.RunFor(SimDuration.FromSeconds(15));
        // -W 0: setitimer() with zero disarms, so ping waits for its answer however long it takes.
        (status, o) = Nets.Run(w, a, "ping -c 1 -W 0 10.0.2.2");
        Assert.Equal("1 packets transmitted, 1 received, 0% packet loss, time 0ms", o.Lines[^2]);
        Assert.Equal(0, status);
        // Garbage after the number only warns; the number before it counts.
        (status, o) = Nets.Run(w, a, "ping -c 1 -W 7x 10.0.2.2");
        Assert.Equal(["ping: option argument contains garbage: x", "ping: this will become fatal error in the future"], o.Errors);
        Assert.Equal(0, status);
        Assert.Equal((2, "ping: bad linger time: "), Error(Nets.Run(w, a, "ping -c 1 -W '' 10.0.2.2")));
        Assert.Equal((2, "ping: bad linger time: -1"), Error(Nets.Run(w, a, "ping -c 1 -W -1 10.0.2.2")));
    }

    private static (int, string) Error((int Status, CapturingOutput Out) run) => (run.Status, run.Out.Errors[0]);

    [Theory]
    [InlineData(0, "0.000 ms")]
    [InlineData(999, "0.999 ms")]
    [InlineData(1000, "1.00 ms")]
    [InlineData(1404, "1.40 ms")]
    [InlineData(9994, "9.99 ms")]
    [InlineData(9995, "10.0 ms")]
    [InlineData(99949, "99.9 ms")]
    [InlineData(99950, "100 ms")]
    public void TripTime_UsesIputilsPrecisionSteps(long us, string text) => Assert.Equal(text, PingRun.FormatTriptime(us));
}
