using NetLab.Lab.Running;
using NetLab.Lab.Scenarios;

namespace NetLab.Lab.Tests.Running;

/// <summary>The notes' 地址冲突: a host probes its static address three times before using it.</summary>
public class DadScenarioTests
{
    private const string Yaml = """
        name: dad
        duration: 20s
        hosts:
          a: { interfaces: { eth0: { address: 10.0.0.1/24 } } }
          b: { interfaces: { eth0: { address: 10.0.0.1/24, dad: true } } }
          c: { interfaces: { eth0: { address: 10.0.0.3/24, dad: true } } }
        switches:
          sw: {}
        links:
          - { endpoints: [ "a:eth0", "sw" ] }
          - { endpoints: [ "b:eth0", "sw" ] }
          - { endpoints: [ "c:eth0", "sw" ] }
        timeline:
          - { at: 10s, on: b, run: "ip -4 addr show dev eth0" }
          - { at: 10s, on: c, run: "ping -c 1 10.0.0.1" }
        capture: [ "c:eth0" ]
        """;

    [Fact]
    public void DuplicateAddress_IsRefused_FreeAddressIsProbedThreeTimesThenAnnounced()
    {
        var parsed = ScenarioParser.Parse(Yaml, "dad.yaml");
        Assert.True(parsed.Success, string.Join("\n", parsed.Errors));
        var dir = RepoPaths.TempDir();
        var console = new StringWriter();
        Assert.Empty(new ScenarioRunner(parsed.Scenario!, dir, console).Run());
        var t = console.ToString();

        Assert.Matches(@"b: acd: 10\.0\.0\.1 is in use by [0-9a-f:]{17}: address not configured", t);
        Assert.DoesNotContain("inet 10.0.0.1", t.Split('\n').Where(l => l.Contains("] b: ")).Aggregate("", (x, y) => x + y));
        Assert.Contains("c: acd: 10.0.0.3: 3 probes unanswered, address configured and announced", t);
        Assert.Contains("c: 1 packets transmitted, 1 received", t);

        // On the wire from c: three probes (sender IP 0.0.0.0, target 10.0.0.3), then two gratuitous requests.
        var (arps, _) = TourScenarioTests.Tshark(Path.Combine(dir, "c-eth0.pcap"),
            "-Y", "arp.src.hw_mac == eth.src && eth.dst == ff:ff:ff:ff:ff:ff && arp.dst.proto_ipv4 == 10.0.0.3",
            "-T", "fields", "-e", "arp.src.proto_ipv4", "-e", "arp.isgratuitous");
        var rows = arps.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, rows.Length);
        Assert.All(rows[..3], r => Assert.StartsWith("0.0.0.0", r));
        Assert.All(rows[3..], r => Assert.StartsWith("10.0.0.3", r));
    }
}
