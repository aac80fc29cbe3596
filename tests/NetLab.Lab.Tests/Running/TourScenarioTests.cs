using System.Diagnostics;
using NetLab.Lab.Running;
using NetLab.Lab.Scenarios;

namespace NetLab.Lab.Tests.Running;

/// <summary>The acceptance criteria of the foundation issue, on scenarios/tour.yaml.</summary>
public class TourScenarioTests
{
    private static (string Transcript, string OutDir) RunTour(ulong? seed = null, string? yaml = null)
    {
        var parsed = yaml is null ? ScenarioParser.ParseFile(RepoPaths.Scenario("tour.yaml")) : ScenarioParser.Parse(yaml, "t.yaml");
        Assert.True(parsed.Success, string.Join("\n", parsed.Errors));
        var dir = RepoPaths.TempDir();
        var console = new StringWriter();
        var errors = new ScenarioRunner(parsed.Scenario!, dir, console).Run(seed);
        Assert.Empty(errors);
        return (console.ToString(), dir);
    }

    [Fact]
    public void Ping_HasNoLoss_AndRttsExactlyAsTheLinksPredict()
    {
        var (t, _) = RunTour();
        // Per direction: a→sw (1 Gbit, 1 ms), sw→r1 (1 Gbit, 1 ms), r1→b (100 Mbit, 5 ms); 98-byte frames.
        // Serialisation (98 + 24) · 8 bits: 976 ns at 1 Gbit/s, 9760 ns at 100 Mbit/s. RTT = 2 · 7.011712 ms.
        Assert.Contains("a: 64 bytes from 10.0.2.2: icmp_seq=2 ttl=63 time=14.0 ms", t);
        Assert.Contains("a: 64 bytes from 10.0.2.2: icmp_seq=3 ttl=63 time=14.0 ms", t);
        Assert.Contains("a: 3 packets transmitted, 3 received, 0% packet loss, time 2000ms", t);
        // ARP on two segments delays the first reply: a↔r1 over two 1 ms links, r1↔b over one 5 ms link.
        Assert.Matches(@"\[ +1\.0\d+\] a: 64 bytes from 10\.0\.2\.2: icmp_seq=1 ttl=63 time=\d+\.\d ms", t);
    }

    [Fact]
    public void Traceroute_ListsTheRouterThenTheDestination()
    {
        var (t, _) = RunTour();
        Assert.Matches(@"a:  1  10\.0\.1\.1 \(10\.0\.1\.1\)  \d+\.\d{3} ms", t);
        Assert.Matches(@"a:  2  10\.0\.2\.2 \(10\.0\.2\.2\)  \d+\.\d{3} ms", t);
    }

    [Fact]
    public void Tracepath_ReportsPmtu1400()
    {
        var (t, _) = RunTour();
        Assert.Contains("pmtu 1400", t);
        Assert.Contains("reached", t);
        Assert.Matches(@"Resume: pmtu 1400 hops 2 back 2", t);
    }

    [Fact]
    public void FourThousandBytePing_IsAnsweredThroughFragmentation()
    {
        var (t, _) = RunTour();
        Assert.Contains("a: 4008 bytes from 10.0.2.2: icmp_seq=1 ttl=63", t);
        Assert.Contains("a: 2 packets transmitted, 2 received, 0% packet loss", t);
    }

    [Fact]
    public void NeighbourStates_ChangeAsLinuxWould()
    {
        var (t, _) = RunTour();
        // At 4 s the gateway was just confirmed by ARP (REACHABLE); by 50 s, with no confirmation since, it is STALE.
        Assert.Matches(@"\[ +4\.000000\] a: 10\.0\.1\.1 dev eth0 lladdr [0-9a-f:]{17} REACHABLE", t);
        Assert.Matches(@"\[ +50\.000000\] a: 10\.0\.1\.1 dev eth0 lladdr [0-9a-f:]{17} STALE", t);
        // Sending through a STALE entry moves it to DELAY.
        Assert.Matches(@"\[ +56\.000000\] a: 10\.0\.1\.1 dev eth0 lladdr [0-9a-f:]{17} DELAY", t);
    }

    [Fact]
    public void SameSeed_ByteIdenticalPcaps()
    {
        var (_, d1) = RunTour();
        var (_, d2) = RunTour();
        foreach (var f in new[] { "a-eth0.pcap", "r1-eth1.pcap" })
        {
            var b1 = File.ReadAllBytes(Path.Combine(d1, f));
            Assert.True(b1.Length > 1000, f);
            Assert.Equal(b1, File.ReadAllBytes(Path.Combine(d2, f)));
        }
    }

    [Fact]
    public void DifferentSeed_WithRandomLoss_GivesDifferentPcaps()
    {
        var yaml = File.ReadAllText(RepoPaths.Scenario("tour.yaml")).Replace("mtu: 1400, loss: 0%", "mtu: 1400, loss: 20%");
        var (_, d1) = RunTour(1, yaml);
        var (_, d2) = RunTour(1, yaml);
        var (_, d3) = RunTour(2, yaml);
        var p1 = File.ReadAllBytes(Path.Combine(d1, "r1-eth1.pcap"));
        Assert.Equal(p1, File.ReadAllBytes(Path.Combine(d2, "r1-eth1.pcap")));
        Assert.NotEqual(p1, File.ReadAllBytes(Path.Combine(d3, "r1-eth1.pcap")));
    }

    [Fact]
    public void EveryPcap_OpensInTshark_WithNoMalformedPacketOrBadChecksum()
    {
        var (_, dir) = RunTour();
        foreach (var pcap in Directory.GetFiles(dir, "*.pcap"))
        {
            var (frames, exit) = Tshark(pcap, "-T", "fields", "-e", "frame.number");
            Assert.Equal(0, exit);
            Assert.True(frames.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length > 20, pcap);
            // Checksum validation on for IP, ICMP and UDP; any expert error (malformed, bad checksum) is listed.
            var (bad, _) = Tshark(pcap, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
                "-Y", "_ws.malformed || _ws.expert.severity == error || ip.checksum.status == 0 || udp.checksum.status == 0 || icmp.checksum.status == 0",
                "-T", "fields", "-e", "frame.number", "-e", "_ws.expert.message");
            Assert.True(bad.Trim().Length == 0, $"{Path.GetFileName(pcap)}:\n{bad}");
        }
    }

    internal static (string Stdout, int ExitCode) Tshark(string pcap, params string[] args)
    {
        var psi = new ProcessStartInfo("tshark") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-n");
        psi.ArgumentList.Add("-r");
        psi.ArgumentList.Add(pcap);
        foreach (var a in args) psi.ArgumentList.Add(a);
        Process p;
        try { p = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new InvalidOperationException("tshark is not installed: run ./test as root, which installs it with apt");
        }
        var stdout = p.StandardOutput.ReadToEnd();
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (stdout, p.ExitCode);
    }
}
