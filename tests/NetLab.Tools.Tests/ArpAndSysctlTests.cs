using NetLab.Core.Time;

namespace NetLab.Tools.Tests;

public class ArpAndSysctlTests
{
    [Fact]
    public void ArpN_ListsTheCacheInNetToolsColumns()
    {
        var (w, a, b) = Nets.Lan2();
        Assert.Empty(Nets.Run(w, a, "arp -n").Out.All); // an empty table prints nothing
        Nets.Run(w, a, "ping -c 1 10.0.0.2");
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(500), w.Scheduler.TimeProvider);
        Nets.Run(w, a, "ping 10.0.0.99", stop.Token);
        Assert.Equal(0, Nets.Run(w, a, "arp -s 10.0.0.50 02:00:00:00:00:50").Status);
        var bmac = b.FindDevice("eth0")!.Mac;
        var (status, o) = Nets.Run(w, a, "arp -n");
        Assert.Equal($"""
            Address                  HWtype  HWaddress           Flags Mask            Iface
            10.0.0.2                 ether   {bmac}   C                     eth0
            10.0.0.50                ether   02:00:00:00:00:50   CM                    eth0
            10.0.0.99                        (incomplete)                              eth0

            """, o.Text);
        Assert.Equal(0, status);
        Assert.Equal([
            $"? (10.0.0.2) at {bmac} [ether] on eth0",
            "? (10.0.0.50) at 02:00:00:00:00:50 [ether] PERM on eth0",
            "? (10.0.0.99) at <incomplete> on eth0"], Nets.Run(w, a, "arp -an").Out.Lines);
        Assert.Equal(0, Nets.Run(w, a, "arp -d 10.0.0.50").Status);
        var gone = Nets.Run(w, a, "arp -d 10.0.0.50");
        Assert.Equal((255, "No ARP entry for 10.0.0.50"), (gone.Status, gone.Out.Lines.Single()));
        Assert.Equal("10.0.0.50 (10.0.0.50) -- no entry", Nets.Run(w, a, "arp -n 10.0.0.50").Out.Lines.Single());
        var bad = Nets.Run(w, a, "arp -x");
        Assert.Equal((3, "arp: invalid option -- 'x'", "Usage:"), (bad.Status, bad.Out.Errors[0], bad.Out.Errors[1]));
        w.RunFor(SimDuration.FromSeconds(5));
    }

    [Fact]
    public void Sysctl_ReadsWritesAndReportsErrorsAsProcps()
    {
        var (w, a, _) = Nets.Lan2();
        var (status, o) = Nets.Run(w, a, "sysctl net.ipv4.ip_forward net.ipv4.ip_local_port_range");
        Assert.Equal(["net.ipv4.ip_forward = 0", "net.ipv4.ip_local_port_range = 32768\t60999"], o.Lines);
        Assert.Equal(0, status);
        Assert.Equal(["0"], Nets.Run(w, a, "sysctl -n net/ipv4/ip_forward").Out.Lines);

        (status, o) = Nets.Run(w, a, "sysctl -w net.ipv4.ip_forward=1");
        Assert.Equal((0, "net.ipv4.ip_forward = 1"), (status, o.Lines.Single()));
        Assert.Equal(1, a.Ipv4Sysctl.IpForward);
        (status, o) = Nets.Run(w, a, "sysctl net.ipv4.ip_local_port_range=\"1024 65000\"");
        Assert.Equal((0, "net.ipv4.ip_local_port_range = 1024 65000"), (status, o.Lines.Single()));
        Assert.Equal([1024, 65000], a.Ipv4Sysctl.IpLocalPortRange);

        // Unknown keys: one message each, and the exit status adds up.
        (status, o) = Nets.Run(w, a, "sysctl net.ipv4.foo net.ipv4.bar net.ipv4.ip_default_ttl");
        Assert.Equal([
            "sysctl: cannot stat /proc/sys/net/ipv4/foo: No such file or directory",
            "sysctl: cannot stat /proc/sys/net/ipv4/bar: No such file or directory"], o.Errors);
        Assert.Equal(["net.ipv4.ip_default_ttl = 64"], o.Lines);
        Assert.Equal(2, status);
        Assert.Equal(0, Nets.Run(w, a, "sysctl -e net.ipv4.foo").Status);
        (status, o) = Nets.Run(w, a, "sysctl -w net.ipv4.ip_default_ttl=300");
        Assert.Equal((1, "sysctl: setting key \"net.ipv4.ip_default_ttl\": Invalid argument"), (status, o.Errors.Single()));
        (status, o) = Nets.Run(w, a, "sysctl -w net.ipv4.ip_default_ttl");
        Assert.Equal((1, "sysctl: command line(0): invalid syntax, continuing..."), (status, o.Errors.Single()));
        // Write failures are ORed, read failures added (procps 4.0.2).
        Assert.Equal(1, Nets.Run(w, a, "sysctl -w net.ipv4.foo=1 net.ipv4.bar=2").Status);
        Assert.Equal(2, Nets.Run(w, a, "sysctl net.ipv4.foo=1 net.ipv4.bar").Status);
        // ipv4_local_port_range(): the low end may not reach below ip_unprivileged_port_start (1024).
        (status, o) = Nets.Run(w, a, "sysctl -w net.ipv4.ip_local_port_range=\"1000 2000\"");
        Assert.Equal((1, "sysctl: setting key \"net.ipv4.ip_local_port_range\": Invalid argument"), (status, o.Errors.Single()));
        Assert.Equal(1, Nets.Run(w, a, "sysctl -w net.ipv4.ip_local_port_range=\"3000 2000\"").Status);
        Assert.Equal(1, Nets.Run(w, a, "sysctl -w net.ipv4.ip_unprivileged_port_start=1025").Status);
        Assert.Equal(0, Nets.Run(w, a, "sysctl -w net.ipv4.ip_unprivileged_port_start=1000").Status);
        Assert.Equal(0, Nets.Run(w, a, "sysctl -w net.ipv4.ip_local_port_range=\"1000 2000\"").Status);

        var all = Nets.Run(w, a, "sysctl -a").Out.Lines;
        Assert.Equal(all.Order(StringComparer.Ordinal), all);
        Assert.Contains("net.ipv4.conf.eth0.forwarding = 1", all);
        Assert.Contains("net.ipv4.neigh.eth0.base_reachable_time_ms = 30000", all);
        Assert.Equal(["net.ipv4.neigh.default.gc_thresh1 = 128", "net.ipv4.neigh.default.gc_thresh2 = 512", "net.ipv4.neigh.default.gc_thresh3 = 1024"],
            Nets.Run(w, a, "sysctl net.ipv4.neigh.default").Out.Lines.Where(l => l.Contains("thresh", StringComparison.Ordinal)));
    }

    [Fact]
    public void UnknownCommand_Is127()
    {
        var (w, a, _) = Nets.Lan2();
        var (status, o) = Nets.Run(w, a, "tcpdump -i eth0");
        Assert.Equal((127, "bash: tcpdump: command not found"), (status, o.Errors.Single()));
        Assert.Equal(0, Nets.Run(w, a, "   ").Status);
        Assert.Equal(2, Nets.Run(w, a, "ping 'unterminated").Status);
    }

    [Theory]
    [InlineData("ping -c 3 10.0.0.1", new[] { "ping", "-c", "3", "10.0.0.1" })]
    [InlineData("sysctl k='a b'  x=\"c \\\"d\\\"\"", new[] { "sysctl", "k=a b", "x=c \"d\"" })]
    [InlineData("a\\ b ''", new[] { "a b", "" })]
    public void CommandLines_SplitLikeAShell(string line, string[] words)
    {
        Assert.True(ToolRunner.TrySplit(line, out var actual, out _));
        Assert.Equal(words, actual);
    }
}
