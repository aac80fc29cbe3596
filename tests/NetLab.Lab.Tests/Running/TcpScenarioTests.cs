using NetLab.Lab.Running;
using NetLab.Lab.Scenarios;

namespace NetLab.Lab.Tests.Running;

/// <summary>The TCP phenomena of the notes, reproduced by the bundled scenarios, with their numbers.</summary>
public class TcpScenarioTests
{
    private static (string Transcript, string OutDir) Run(string file)
    {
        var parsed = ScenarioParser.ParseFile(RepoPaths.Scenario(file));
        Assert.True(parsed.Success, string.Join("\n", parsed.Errors));
        var dir = RepoPaths.TempDir();
        var console = new StringWriter();
        Assert.Empty(new ScenarioRunner(parsed.Scenario!, dir, console).Run());
        return (console.ToString(), dir);
    }

    private static double[] Times(string pcap, string filter)
    {
        var (rows, exit) = TourScenarioTests.Tshark(pcap, "-Y", filter, "-T", "fields", "-e", "frame.time_relative");
        Assert.Equal(0, exit);
        return rows.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(r => double.Parse(r, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    }

    [Fact]
    public void SynRetries_FollowTheNotesScheduleWithLinearTimeoutsOff_AndLinux618sByDefault()
    {
        var (t, dir) = Run("tcp-connect-failures.yaml");
        // The first SYN leaves at 1 s; connect() gives up 127 s (notes, Linux < 6.5) or 131 s (Linux 6.18) later.
        Assert.Contains("[ 128.000000] old: tcprr: connect to 10.0.0.99 port 80: Connection timed out", t);
        Assert.Contains("[ 132.000000] new: tcprr: connect to 10.0.0.99 port 80: Connection timed out", t);
        double[] old = Times(Path.Combine(dir, "old-eth0.pcap"), "ip.src == 10.0.0.1 && tcp.flags.syn == 1 && tcp.dstport == 80");
        Assert.Equal([0, 1, 3, 7, 15, 31, 63], old.Select(x => x - old[0]).Select(x => Math.Round(x)).ToArray());
        double[] @new = Times(Path.Combine(dir, "new-eth0.pcap"), "ip.src == 10.0.0.2 && tcp.flags.syn == 1");
        Assert.Equal([0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67], @new.Select(x => x - @new[0]).Select(x => Math.Round(x)).ToArray());
    }

    [Fact]
    public void ClosedPort_AnswersRstAck_AndConnectFailsAfterOneRoundTrip()
    {
        var (t, dir) = Run("tcp-connect-failures.yaml");
        // old → switch → server and back: 4 links of 1 ms plus serialisation of 74- and 60-byte frames.
        Assert.Matches(@"\[   1\.00\d{4}\] old: tcprr: connect to 10\.0\.0\.3 port 81: Connection refused", t);
        var (rows, _) = TourScenarioTests.Tshark(Path.Combine(dir, "old-eth0.pcap"), "-Y", "ip.src == 10.0.0.3 && tcp",
            "-T", "fields", "-e", "tcp.flags.str", "-e", "tcp.seq_raw", "-e", "tcp.window_size_value", "-e", "tcp.len");
        var fields = rows.Trim().Split('\t');
        Assert.Equal("·······A·R··", fields[0]);
        Assert.Equal("0", fields[1]); // RST|ACK with seq 0, window 0, no data (tcp_v4_send_reset)
        Assert.Equal("0", fields[2]);
        Assert.Equal("0", fields[3]);
    }

    [Fact]
    public void NagleWithDelayedAck_StallsTheSecondWriteBy40ms_AndNodelayRemovesIt()
    {
        var (t, _) = Run("tcp-nagle-delayed-ack.yaml");
        // RTT is 2 ms. The first exchange runs in quick-ACK mode (4 ms: header, its ACK, body, reply); once the
        // server answers quickly it is interactive (pingpong) and delays its ACK of the header by TCP_DELACK_MIN.
        Assert.Contains("client: transaction 1: 4.007 ms", t);
        Assert.Contains("client: transaction 2: 44.006 ms", t);
        Assert.Contains("client: 20 transactions, latency min/avg/max = 4.007/42.006/44.006 ms", t);
        Assert.Contains("client: 20 transactions, latency min/avg/max = 2.005/2.005/2.006 ms", t);
    }

    [Fact]
    public void SlowStart_DoublesTheFlightEachRoundTrip()
    {
        var (_, dir) = Run("tcp-slow-start.yaml");
        var (rows, _) = TourScenarioTests.Tshark(Path.Combine(dir, "server-eth0.pcap"), "-Y", "tcp.srcport == 5002 && tcp.len > 0",
            "-T", "fields", "-e", "frame.time_relative", "-e", "tcp.len");
        var segs = rows.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(r => r.Split('\t'))
            .Select(f => (T: double.Parse(f[0], System.Globalization.CultureInfo.InvariantCulture), Len: int.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        double t0 = segs[0].T;
        long Flight(int rtt) => segs.Where(s => (int)((s.T - t0) / 0.1 + 1e-6) == rtt).Sum(s => (long)s.Len);
        // IW10 of 1448-byte segments (MSS 1460 less 12 bytes of timestamps), doubling every 100 ms round trip.
        Assert.Equal(14480, Flight(0));
        Assert.Equal(28960, Flight(1));
        Assert.Equal(57920, Flight(2));
    }
}
