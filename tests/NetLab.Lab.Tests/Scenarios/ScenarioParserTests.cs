using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Lab.Scenarios;
using Xunit;

namespace NetLab.Lab.Tests.Scenarios;

public class ScenarioParserTests
{
    // The example of the scenario file format, verbatim.
    private const string Tour = """
        name: tour
        description: Two LANs joined by a router; ping, traceroute, tracepath, fragmentation.
        seed: 1
        duration: 30s
        hosts:
          a:  { interfaces: { eth0: { address: 10.0.1.2/24 } }, routes: [ "default via 10.0.1.1" ] }
          r1: { forward: true, interfaces: { eth0: { address: 10.0.1.1/24 }, eth1: { address: 10.0.2.1/24 } } }
          b:  { interfaces: { eth0: { address: 10.0.2.2/24 } }, routes: [ "default via 10.0.2.1" ],
                sysctl: { net.ipv4.icmp_echo_ignore_all: 0 } }
        switches:
          sw1: {}
        links:
          - { endpoints: [ "a:eth0", "sw1" ], rate: 1Gbit, delay: 1ms }
          - { endpoints: [ "sw1", "r1:eth0" ], rate: 1Gbit, delay: 1ms }
          - { endpoints: [ "r1:eth1", "b:eth0" ], rate: 100Mbit, delay: 5ms, mtu: 1400, loss: 0% }
        timeline:
          - { at: 1s, on: a, run: "ping -c 3 10.0.2.2" }
          - { at: 5s, on: a, run: "tracepath 10.0.2.2" }
        capture: [ "a:eth0", "r1:eth1" ]
        """;

    private static Scenario ParseOk(string yaml, string file = "test.yaml")
    {
        var result = ScenarioParser.Parse(yaml, file);
        Assert.True(result.Success, string.Join("\n", result.Errors));
        Assert.Empty(result.Errors);
        return result.Scenario;
    }

    [Fact]
    public void Tour_ParsesToTheModel()
    {
        var s = ParseOk(Tour, "scenarios/tour.yaml");

        Assert.Equal("scenarios/tour.yaml", s.File);
        Assert.Equal("tour", s.Name);
        Assert.Equal("Two LANs joined by a router; ping, traceroute, tracepath, fragmentation.", s.Description);
        Assert.Equal(1UL, s.Seed);
        Assert.Equal(30_000_000_000L, s.Duration.Nanoseconds);

        Assert.Equal(["a", "r1", "b"], s.Hosts.Select(h => h.Name));
        var a = s.Hosts[0];
        Assert.False(a.Forward);
        Assert.Equal("eth0", Assert.Single(a.Interfaces).Name);
        Assert.Equal(Ipv4Prefix.Parse("10.0.1.2/24"), Assert.Single(a.Interfaces[0].Addresses));
        Assert.Null(a.Interfaces[0].Mac);
        Assert.Null(a.Interfaces[0].Mtu);
        var route = Assert.Single(a.Routes);
        Assert.Equal("default via 10.0.1.1", route.Text);
        Assert.Equal(new SourceLocation("scenarios/tour.yaml", 6, 67), route.Location);
        Assert.Equal("hosts.a.routes[0]", route.Path);
        Assert.Empty(a.Sysctls);

        var r1 = s.Hosts[1];
        Assert.True(r1.Forward);
        Assert.Equal(["eth0", "eth1"], r1.Interfaces.Select(i => i.Name));
        Assert.Equal(Ipv4Prefix.Parse("10.0.2.1/24"), Assert.Single(r1.Interfaces[1].Addresses));

        var sysctl = Assert.Single(s.Hosts[2].Sysctls);
        Assert.Equal(("net.ipv4.icmp_echo_ignore_all", "0"), (sysctl.Key, sysctl.Value));
        Assert.Equal(new SourceLocation("scenarios/tour.yaml", 9, 19), sysctl.Location);
        Assert.Equal(new SourceLocation("scenarios/tour.yaml", 9, 50), sysctl.ValueLocation);
        Assert.Equal("hosts.b.sysctl.net.ipv4.icmp_echo_ignore_all", sysctl.Path);

        var sw1 = Assert.Single(s.Switches);
        Assert.Equal("sw1", sw1.Name);
        Assert.Equal(SwitchSpec.DefaultAgeing, sw1.Ageing);
        Assert.Null(sw1.Mtu);

        Assert.Equal(3, s.Links.Length);
        Assert.Equal(new HostInterfaceEndpoint("a", "eth0"), s.Links[0].A);
        Assert.Equal(new SwitchEndpoint("sw1"), s.Links[0].B);
        Assert.Equal(new SwitchEndpoint("sw1"), s.Links[1].A);
        Assert.Equal(new HostInterfaceEndpoint("r1", "eth0"), s.Links[1].B);
        Assert.Equal(1_000_000_000L, s.Links[0].RateBitsPerSecond);
        Assert.Equal(1_000_000L, s.Links[0].Delay.Nanoseconds);
        Assert.Equal(1500, s.Links[0].Mtu);
        var wan = s.Links[2];
        Assert.Equal("r1:eth1 b:eth0", $"{wan.A} {wan.B}");
        Assert.Equal(100_000_000L, wan.RateBitsPerSecond);
        Assert.Equal(5_000_000L, wan.Delay.Nanoseconds);
        Assert.Equal(SimDuration.Zero, wan.Jitter);
        Assert.Equal(1400, wan.Mtu);
        Assert.Equal(0.0, wan.Loss);
        Assert.Equal(("links[2]", 15, 5), (wan.Path, wan.Location.Line, wan.Location.Column));

        Assert.Equal(["ping -c 3 10.0.2.2", "tracepath 10.0.2.2"], s.Timeline.Select(e => e.Command));
        Assert.Equal([1_000_000_000L, 5_000_000_000L], s.Timeline.Select(e => e.At.Nanoseconds));
        Assert.All(s.Timeline, e => Assert.Equal("a", e.Host));
        Assert.Equal(("timeline[1]", 18, 5, 27), (s.Timeline[1].Path, s.Timeline[1].Location.Line, s.Timeline[1].Location.Column, s.Timeline[1].CommandLocation.Column));

        Assert.Equal(["a:eth0", "r1:eth1"], s.Captures.Select(c => $"{c.Host}:{c.Interface}"));
    }

    [Fact]
    public void Defaults_FillWhatTheFileLeavesOut()
    {
        var s = ParseOk("""
            hosts:
              a: { interfaces: { eth0: } }
            switches:
              sw1:
            links:
              - endpoints: [ "a:eth0", sw1 ]
            """, "dir/minimal.scenario.yaml");

        Assert.Equal("minimal.scenario", s.Name);   // the file name without its extension
        Assert.Null(s.Description);
        Assert.Equal(Scenario.DefaultSeed, s.Seed);
        Assert.Equal(60_000_000_000L, s.Duration.Nanoseconds);
        Assert.Empty(s.Hosts[0].Interfaces[0].Addresses);
        Assert.Equal(300_000_000_000L, s.Switches[0].Ageing.Nanoseconds);
        var link = s.Links[0];
        Assert.Equal(
            (1_000_000_000L, 0L, 0L, 0.0, 1500),
            (link.RateBitsPerSecond, link.Delay.Nanoseconds, link.Jitter.Nanoseconds, link.Loss, link.Mtu));
        Assert.Empty(s.Timeline);
        Assert.Empty(s.Captures);
    }

    [Fact]
    public void Routers_MergeIntoHostsWithForwardingOnByDefault()
    {
        var s = ParseOk("""
            routers:
              r1: { interfaces: { eth0: {} } }
              r2: { forward: false }
            hosts:
              h: {}
            """);

        Assert.Equal(["h", "r1", "r2"], s.Hosts.Select(h => h.Name));   // hosts first, then routers
        Assert.Equal([false, true, false], s.Hosts.Select(h => h.Forward));
        Assert.Equal("routers.r1", s.Hosts[1].Path);
    }

    [Fact]
    public void Interfaces_TakeAnAddressListMacAndMtu()
    {
        var s = ParseOk("""
            hosts:
              a:
                interfaces:
                  eth0: { address: [ 10.0.0.1/24, 192.168.1.1/255.255.255.0 ], mac: "02:00:00:00:00:01", mtu: 9000 }
                  veth-x.1: { address: 10.9.9.9 }
            """);

        var eth0 = s.Hosts[0].Interfaces[0];
        Assert.Equal(["10.0.0.1/24", "192.168.1.1/24"], eth0.Addresses.Select(p => p.ToString()));
        Assert.Equal(MacAddress.Parse("02:00:00:00:00:01"), eth0.Mac);
        Assert.Equal(9000, eth0.Mtu);
        Assert.Equal("10.9.9.9/32", s.Hosts[0].Interfaces[1].Addresses.Single().ToString());   // a bare address is a /32, as in ip addr add
    }

    [Fact]
    public void Links_MayJoinTwoSwitches_AndInterfacesMayStayUnlinked()
    {
        var s = ParseOk("""
            hosts: { a: { interfaces: { eth0: {}, eth1: {} } } }
            switches: { sw1: {}, sw2: { ageing: 10s, mtu: 9000 } }
            links:
              - { endpoints: [ sw1, sw2 ], jitter: 2ms, loss: 0.5% }
              - { endpoints: [ "a:eth0", sw2 ], rate: 2.5kbit }
            """);

        Assert.Equal(new SwitchEndpoint("sw2"), s.Links[0].B);
        Assert.Equal(2_000_000L, s.Links[0].Jitter.Nanoseconds);
        Assert.Equal(0.005, s.Links[0].Loss, 12);
        Assert.Equal(2_500L, s.Links[1].RateBitsPerSecond);
        Assert.Equal((10_000_000_000L, 9000), (s.Switches[1].Ageing.Nanoseconds, s.Switches[1].Mtu));
    }

    [Fact]
    public void Links_TakeNetemImpairments_ReorderDuplicateCorrupt_AndTheWorldGetsThem()
    {
        var s = ParseOk("""
            hosts: { a: { interfaces: { eth0: { address: 10.0.0.1/24 } } }, b: { interfaces: { eth0: { address: 10.0.0.2/24 } } } }
            links:
              - { endpoints: [ "a:eth0", "b:eth0" ], reorder: 2%, reorder_delay: 3ms, duplicate: 0.5%, corrupt: 0.1% }
            """);
        var l = s.Links[0];
        Assert.Equal((0.02, 3_000_000L, 0.005, 0.001), (l.Reorder, l.ReorderDelay.Nanoseconds, l.Duplicate, l.Corrupt));
        var (world, errors, _) = NetLab.Lab.Running.ScenarioBuilder.Build(s);
        Assert.Empty(errors);
        var p = world!.Links.Single().AToB.Parameters;
        Assert.Equal((0.02, 3_000_000L, 0.005, 0.001), (p.Reorder, p.ReorderDelay.Nanoseconds, p.Duplicate, p.Corrupt));
    }

    [Fact]
    public void Links_RejectAnImpairmentThatIsNotAPercentage()
    {
        var result = ScenarioParser.Parse("""
            hosts: { a: { interfaces: { eth0: {} } }, b: { interfaces: { eth0: {} } } }
            links:
              - { endpoints: [ "a:eth0", "b:eth0" ], duplicate: lots }
            """, "t.yaml");
        var error = Assert.Single(result.Errors).ToString();
        Assert.Contains("links[0].duplicate", error, StringComparison.Ordinal);
        Assert.Contains("not a percentage", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Timeline_KeepsFileOrder_AndSortsStablyByTime()
    {
        var s = ParseOk("""
            hosts: { a: {}, b: {} }
            timeline:
              - { at: 5s, on: a, run: "third" }
              - { at: 1s, on: b, run: "first" }
              - { at: 5s, on: b, run: "fourth" }
              - { at: 1s, on: a, run: "second" }
            """);

        Assert.Equal(["third", "first", "fourth", "second"], s.Timeline.Select(e => e.Command));
        Assert.Equal(["first", "second", "third", "fourth"], s.TimelineByTime.Select(e => e.Command));
    }

    [Fact]
    public void ErrorAt_FormatsLaterStagesErrorsLikeTheParsers()
    {
        var route = ParseOk(Tour, "tour.yaml").Hosts[0].Routes[0];

        var error = Scenario.ErrorAt(route.Location, route.Path, "Error: inet prefix is expected rather than \"defualt\".");

        Assert.Equal("tour.yaml:6:67: hosts.a.routes[0]: Error: inet prefix is expected rather than \"defualt\".", error.ToString());
    }

    [Fact]
    public void Errors_AreAllReported_InFileOrder()
    {
        var result = ScenarioParser.Parse("""
            hosts:
              a: { interfaces: { eth0: { address: 10.0.0.1/33 } } }
            switches: { sw1: {} }
            links:
              - { endpoints: [ "a:eth0", sw1 ] }
              - { endpoints: [ "a:eth0", sw1 ] }
              - { endpoints: [ "sw1", "a:eth1" ], rate: 1Gbit, mtu: 10 }
            """, "scenarios/bad.yaml");

        Assert.False(result.Success);
        Assert.Null(result.Scenario);
        Assert.Equal(
            [
                "scenarios/bad.yaml:2:39: hosts.a.interfaces.eth0.address: prefix length /33 is out of range 0-32",
                "scenarios/bad.yaml:6:20: links[1].endpoints[0]: a:eth0 is already connected by links[0]",
                "scenarios/bad.yaml:7:27: links[2].endpoints[1]: host 'a' has no interface 'eth1'; it declares eth0",
                "scenarios/bad.yaml:7:57: links[2].mtu: 10 is out of range 68-65535",
            ],
            result.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void ParseFile_NamesThePathInErrors()
    {
        string dir = Directory.CreateTempSubdirectory("netlab-scenario-").FullName;
        try
        {
            string path = Path.Combine(dir, "lan.yaml");
            File.WriteAllText(path, "hosts: { a: {} }\nseed: -1\n");

            var error = Assert.Single(ScenarioParser.ParseFile(path).Errors);

            Assert.Equal($"{path}:2:7: seed: '-1' is not an unsigned 64-bit integer", error.ToString());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("1bit", 1L)]
    [InlineData("10kbit", 10_000L)]            // unit case does not matter, as in tc
    [InlineData("1.5MBIT", 1_500_000L)]
    [InlineData("100Mbit", 100_000_000L)]
    [InlineData("40Gbit", 40_000_000_000L)]
    [InlineData("1Tbit", 1_000_000_000_000L)]
    public void Rates_UseTcUnitsWithDecimalMultipliers(string text, long expected)
    {
        Assert.True(ScenarioValues.TryParseRate(text, out long bps, out _));
        Assert.Equal(expected, bps);
    }

    [Theory]
    [InlineData("0%", 0.0)]
    [InlineData("0.5%", 0.005)]
    [InlineData("100%", 1.0)]
    public void Losses_ArePercentages(string text, double expected)
    {
        Assert.True(ScenarioValues.TryParseLoss(text, out double p, out _));
        Assert.Equal(expected, p, 12);
    }
}
