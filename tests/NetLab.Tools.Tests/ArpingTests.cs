namespace NetLab.Tools.Tests;

public class ArpingTests
{
    [Fact]
    public void Dad_FindsTheDuplicate_AndExits1()
    {
        var (w, a, b) = Nets.Lan2();
        var (status, o) = Nets.Run(w, a, "arping -D -c 2 -I eth0 10.0.0.2");
        var bmac = b.FindDevice("eth0")!.Mac.ToString().ToUpperInvariant();
        // The probe (sender 0.0.0.0, RFC 5227) and b's reply each cross two 60-byte hops: 4.02688 ms,
        // which arping prints rounded up by half a millisecond.
        Assert.Equal(4_026_880, 4 * Nets.HopNs(60));
        Assert.Equal($"""
            ARPING 10.0.0.2 from 0.0.0.0 eth0
            Unicast reply from 10.0.0.2 [{bmac}]  4.527ms
            Sent 1 probes (1 broadcast(s))
            Received 1 response(s)

            """, o.Text);
        Assert.Equal(1, status);
        Assert.Equal(4_026_880, o.All[^1].At.Nanoseconds);
    }

    [Fact]
    public void Dad_OnAFreeAddress_SendsCountProbesASecondApart_AndExits0()
    {
        var (w, a, _) = Nets.Lan2();
        var (status, o) = Nets.Run(w, a, "arping -D -c 2 -I eth0 10.0.0.77");
        Assert.Equal("""
            ARPING 10.0.0.77 from 0.0.0.0 eth0
            Sent 2 probes (2 broadcast(s))
            Received 0 response(s)

            """, o.Text);
        Assert.Equal(0, status);
        Assert.Equal(2_000_000_000, o.All[^1].At.Nanoseconds); // the third timer tick ends it
    }

    [Fact]
    public void Plain_GoesUnicastAfterTheFirstReply()
    {
        var (w, a, b) = Nets.Lan2();
        var (status, o) = Nets.Run(w, a, "arping -c 2 10.0.0.2");
        var bmac = b.FindDevice("eth0")!.Mac.ToString().ToUpperInvariant();
        Assert.Equal([
            "ARPING 10.0.0.2 from 10.0.0.1 eth0",
            $"Unicast reply from 10.0.0.2 [{bmac}]  4.527ms",
            $"Unicast reply from 10.0.0.2 [{bmac}]  4.527ms",
            "Sent 2 probes (1 broadcast(s))",
            "Received 2 response(s)"], o.Lines);
        Assert.Equal(0, status);
    }

    [Fact]
    public void Unsolicited_AnnouncesAndStopsAfterCount()
    {
        var (w, a, _) = Nets.Lan2();
        var (status, o) = Nets.Run(w, a, "arping -U -c 2 -I eth0 10.0.0.1");
        Assert.Equal(["ARPING 10.0.0.1 from 10.0.0.1 eth0", "Sent 2 probes (2 broadcast(s))", "Received 0 response(s)"], o.Lines);
        Assert.Equal(0, status);
        Assert.Equal(1_000_000_000, o.All[^1].At.Nanoseconds);
    }

    [Fact]
    public void Errors()
    {
        var (w, a, _) = Nets.Lan2();
        var run = Nets.Run(w, a, "arping -I eth9 10.0.0.2");
        Assert.Equal((2, "arping: Device eth9 not available."), (run.Status, run.Out.Errors.Single()));
        a.FindDevice("eth0")!.SetUp(false);
        run = Nets.Run(w, a, "arping -I eth0 10.0.0.2");
        Assert.Equal((2, "Interface \"eth0\" is down"), (run.Status, run.Out.Lines.Single()));
    }
}
