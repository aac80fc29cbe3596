namespace NetLab.Tools.Tests;

public class TracepathTests
{
    [Fact]
    public void AcrossA1400Link_FindsThePmtu_AndTheHopsBothWays()
    {
        var (w, a, _, _, _) = Nets.TwoRouters(middle: Nets.Lan with { Mtu = 1400 });
        var (status, o) = Nets.Run(w, a, "tracepath 10.0.3.2");
        // 65535-byte probes fail locally against eth0's 1500 (IP_PMTUDISC_PROBE), 1500-byte ones are
        // refused by r1 (mtu 1400); TTL 1 is probed again after each MTU change. A 1514-byte frame
        // and the 590-byte ICMP error back take 1.12304 + 1.04912 ms; ARP adds 2.01344 ms per hop once.
        Assert.Equal(2_172_160, Nets.HopNs(1514) + Nets.HopNs(590));
        Assert.Equal("""
             1?: [LOCALHOST]                      pmtu 1500
             1:  10.0.1.1                                              4.185ms 
             1:  10.0.1.1                                              2.172ms 
             2:  10.0.1.1                                              2.172ms pmtu 1400
             2:  10.0.2.2                                              6.341ms 
             3:  10.0.3.2                                              8.505ms reached
                 Resume: pmtu 1400 hops 3 back 3 

            """, o.Text);
        Assert.Equal(0, status);
    }

    [Fact]
    public void SecondRun_StartsFromTheLearnedPathMtu()
    {
        var (w, a, _, _, _) = Nets.TwoRouters(middle: Nets.Lan with { Mtu = 1400 });
        Nets.Run(w, a, "tracepath -n 10.0.3.2");
        // IP_PMTUDISC_DO: the first 65535-byte probe fails locally against the learned 1400, not eth0's 1500.
        var (status, o) = Nets.Run(w, a, "tracepath -n 10.0.3.2");
        Assert.Equal(" 1?: [LOCALHOST]                      pmtu 1400", o.Lines[0]);
        Assert.DoesNotContain(o.Lines, l => l.EndsWith("pmtu 1400", StringComparison.Ordinal) && !l.Contains("LOCALHOST", StringComparison.Ordinal));
        Assert.Equal(0, status);
    }

    [Fact]
    public void MaxHops_EndsWithTooManyHops_AndBothNames()
    {
        var (w, a, _, _, _) = Nets.TwoRouters();
        var (status, o) = Nets.Run(w, a, "tracepath -b -m 2 10.0.3.2");
        Assert.Equal([
            " 1?: [LOCALHOST]                      pmtu 1500",
            " 1:  10.0.1.1 (10.0.1.1)                                   4.185ms ",
            " 1:  10.0.1.1 (10.0.1.1)                                   2.172ms ",
            " 2:  10.0.2.2 (10.0.2.2)                                   6.357ms ",
            "     Too many hops: pmtu 1500",
            "     Resume: pmtu 1500 "], o.Lines);
        Assert.Equal(0, status);
    }

    [Fact]
    public void SilentHop_IsNoReply_ThenTheLateHostUnreachableIsReported()
    {
        var (w, a, _, _, _) = Nets.TwoRouters();
        var (status, o) = Nets.Run(w, a, "tracepath -n 10.0.3.99");
        // r2 queues the TTL-3 probes while it ARPs for 10.0.3.99; three 1 s waits pass without news,
        // then its host unreachable for the first probe arrives and ends the trace.
        Assert.Equal([
            " 3:  no reply",
            " 3:  10.0.2.2                                            3004.344ms !H",
            "     Resume: pmtu 1500 "], o.Lines.Skip(4));
        Assert.Equal(0, status);
    }

    [Fact]
    public void Arguments()
    {
        var (w, a, _, _, _) = Nets.TwoRouters();
        Assert.Equal((1, "tracepath: pktlen must be within: 28 < value <= 2147483647"), Err(Nets.Run(w, a, "tracepath -l 20 10.0.3.2")));
        Assert.Equal((1, "tracepath: invalid argument: '300': out of range: 0 <= value <= 255"), Err(Nets.Run(w, a, "tracepath -m 300 10.0.3.2")));
        Assert.Equal(255, Nets.Run(w, a, "tracepath").Status);
    }

    private static (int, string) Err((int Status, CapturingOutput Out) run) => (run.Status, run.Out.Errors[0]);
}
