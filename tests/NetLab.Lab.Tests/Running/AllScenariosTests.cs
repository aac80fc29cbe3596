using NetLab.Lab.Running;
using NetLab.Lab.Scenarios;

namespace NetLab.Lab.Tests.Running;

/// <summary>Every bundled scenario parses, builds, runs, and writes pcaps tshark reads cleanly.</summary>
public class AllScenariosTests
{
    public static TheoryData<string> Scenarios() =>
        new(Directory.GetFiles(Path.Combine(RepoPaths.Root, "scenarios"), "*.yaml").Select(Path.GetFileName).Order()!);

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Runs_WithCleanPcaps(string file)
    {
        var parsed = ScenarioParser.ParseFile(RepoPaths.Scenario(file));
        Assert.True(parsed.Success, string.Join("\n", parsed.Errors));
        var dir = RepoPaths.TempDir();
        var runner = new ScenarioRunner(parsed.Scenario!, dir, TextWriter.Null);
        Assert.Empty(runner.Run());
        Assert.All(runner.Results, r => Assert.NotNull(r.ExitCode)); // every command finished
        // Every capture the scenario asks for is written. A scenario may ask for none: tcp-throughput-loss, whose
        // 1 Gbit/s transfer would fill half a gigabyte and whose lossy link the checks below would rightly flag.
        Assert.Equal(parsed.Scenario!.Captures.Length, runner.Pcaps.Count);
        foreach (var pcap in runner.Pcaps)
        {
            var (bad, exit) = TourScenarioTests.Tshark(pcap, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
                "-o", "tcp.check_checksum:TRUE",
                // Loss-free scenarios: tshark's TCP analysis must find no segment ACKed unseen or missing.
                "-Y", "_ws.malformed || _ws.expert.severity == error || ip.checksum.status == 0 || udp.checksum.status == 0 || icmp.checksum.status == 0"
                    + " || tcp.checksum.status == 0 || tcp.analysis.ack_lost_segment || tcp.analysis.lost_segment",
                "-T", "fields", "-e", "frame.number");
            Assert.Equal(0, exit);
            Assert.True(bad.Trim().Length == 0, $"{file} {Path.GetFileName(pcap)}: bad frames {bad}");
        }
    }

    [Fact]
    public void Fragmentation_PutsTheNotesFragmentsOnTheWire()
    {
        var parsed = ScenarioParser.ParseFile(RepoPaths.Scenario("fragmentation.yaml"));
        var dir = RepoPaths.TempDir();
        Assert.Empty(new ScenarioRunner(parsed.Scenario!, dir, TextWriter.Null).Run());
        var (rows, _) = TourScenarioTests.Tshark(Path.Combine(dir, "a-eth0.pcap"),
            "-Y", "ip.src == 10.0.0.1 && icmp.type == 8 || (ip.src == 10.0.0.1 && ip.flags.mf == 1) || (ip.src == 10.0.0.1 && ip.frag_offset > 0)",
            "-T", "fields", "-e", "ip.len", "-e", "ip.frag_offset", "-e", "ip.flags.mf");
        Assert.Equal(["1500\t0\t1", "1500\t185\t1", "1500\t370\t1", "700\t555\t0"], // offsets in 8-byte units, as the notes give them
            rows.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
