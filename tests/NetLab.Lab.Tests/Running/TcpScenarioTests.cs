using System.Globalization;
using System.Text.RegularExpressions;
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

    /// <summary>tshark -T fields rows, split into columns.</summary>
    private static string[][] Rows(string pcap, string filter, params string[] fields)
    {
        var args = new List<string> { "-Y", filter, "-T", "fields" };
        foreach (var f in fields) { args.Add("-e"); args.Add(f); }
        var (rows, exit) = TourScenarioTests.Tshark(pcap, [.. args]);
        Assert.Equal(0, exit);
        return rows.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(r => r.Split('\t')).ToArray();
    }

    private static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    /// <summary>The lines a host printed, without the time stamp and host prefix.</summary>
    private static string[] Lines(string transcript, string host) =>
        transcript.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Contains($"] {host}: "))
            .Select(l => l[(l.IndexOf($"] {host}: ", StringComparison.Ordinal) + host.Length + 4)..]).ToArray();

    /// <summary>The value netstat -s printed as "N description" (or "Name: N") in the block that starts at <paramref name="at"/>.</summary>
    private static long Netstat(string transcript, string host, string at, string what)
    {
        var block = transcript[transcript.IndexOf($"[{at}] {host}$ netstat -st", StringComparison.Ordinal)..];
        block = block[..block.IndexOf("MPTcpExt:", StringComparison.Ordinal)];
        var m = Regex.Match(block, $@"{host}:\s+(\d+) {Regex.Escape(what)}\n");
        if (!m.Success) m = Regex.Match(block, $@"{host}:\s+{Regex.Escape(what)}: (\d+)\n");
        return m.Success ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
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

    [Fact]
    public void AcceptQueueOverflow_DropsTheFinalAck_OrResetsWithAbortOnOverflow()
    {
        var (t, dir) = Run("tcp-accept-queue-overflow.yaml");
        // Backlog 2 admits 3: ss shows the listener's accept queue as Recv-Q 3, its limit as Send-Q 2.
        Assert.Matches(@"\[   5\.000000\] a: LISTEN 3      2            0\.0\.0\.0:80", t);
        Assert.Matches(@"\[   5\.000000\] b: LISTEN 3      2            0\.0\.0\.0:80", t);
        // All five clients of each server believe they are connected...
        Assert.Equal(5, Lines(t, "client").Count(l => l.StartsWith("tcprr: 10.0.0.2 port 80,", StringComparison.Ordinal)));
        Assert.Equal(5, Lines(t, "client").Count(l => l.StartsWith("tcprr: 10.0.0.3 port 80,", StringComparison.Ordinal)));
        // ...and on a the last two are request socks whose final ACKs overflowed (SYN-RECV, their request unacknowledged).
        var at5 = t[t.IndexOf("[   5.000000] a$ ss -tan", StringComparison.Ordinal)..t.IndexOf("[   5.000000] client$", StringComparison.Ordinal)];
        Assert.Equal(3, Regex.Matches(at5, @"a: ESTAB    100 ").Count);
        Assert.Equal(2, Regex.Matches(at5, @"a: SYN-RECV 0 ").Count);
        // Their clients are ESTABLISHED with the request unacknowledged (b's two were reset at once: see below).
        Assert.Equal(2, Regex.Matches(t, @"\[   5\.000000\] client: ESTAB 0      100 +10\.0\.0\.1:\d+ +10\.0\.0\.2:80").Count);

        // tcp_abort_on_overflow=0: a retransmits the two SYN-ACKs at 1, 3, 7, 15, 31 s and drops each ACK they provoke
        // (ListenOverflows and ListenDrops grow); the request socks expire at 63 s and the clients' next retransmission
        // of their request is reset.
        var synAcks = Rows(Path.Combine(dir, "a-eth0.pcap"), "tcp.flags.syn == 1 && tcp.flags.ack == 1", "frame.time_epoch", "tcp.stream")
            .GroupBy(r => r[1]).Where(g => g.Count() > 1).ToArray();
        Assert.Equal(2, synAcks.Length);
        foreach (var g in synAcks)
        {
            double first = D(g.First()[0]);
            Assert.Equal([0, 1, 3, 7, 15, 31], g.Select(r => Math.Round(D(r[0]) - first, 3)).ToArray());
        }
        Assert.Equal(32, Netstat(t, "a", "  70.000000", "times the listen queue of a socket overflowed"));
        Assert.Equal(32, Netstat(t, "a", "  70.000000", "SYNs to LISTEN sockets dropped"));
        Assert.Equal(10, Netstat(t, "a", "  70.000000", "TCPSynRetrans"));
        Assert.DoesNotContain("SYN-RECV", t[t.IndexOf("[  70.000000] a$ ss -tan", StringComparison.Ordinal)..]);
        // At 70 s a's clients still hold their unacknowledged requests: they learn nothing until they retransmit.
        Assert.Equal(2, Regex.Matches(t[t.IndexOf("[  70.000000] client$", StringComparison.Ordinal)..],
            @"client: ESTAB 0      100 +10\.0\.0\.1:\d+ +10\.0\.0\.2:80").Count);
        Assert.Equal(2, Regex.Matches(t, @"\[ 105\.97\d{4}\] client: tcprr: Connection reset by peer").Count);

        // tcp_abort_on_overflow=1: b answers the overflowing ACK with a RST (seq = its ack number, no ACK flag), and the
        // client's request that follows it meets the listener and is reset too; the clients fail one round trip later.
        Assert.Equal(2, Regex.Matches(t, @"\[   2\.01\d{4}\] client: tcprr: Connection reset by peer").Count);
        Assert.Equal(2, Netstat(t, "b", "   5.000000", "times the listen queue of a socket overflowed"));
        Assert.Equal(2, Netstat(t, "b", "   5.000000", "resets received for embryonic SYN_RECV sockets"));
        Assert.Equal(4, Netstat(t, "b", "   5.000000", "resets sent"));
        var rsts = Rows(Path.Combine(dir, "b-eth0.pcap"), "tcp.flags.reset == 1 && frame.time_epoch < 3", "tcp.flags.str", "tcp.seq_raw", "tcp.stream");
        Assert.Equal(4, rsts.Length);
        Assert.All(rsts, r => Assert.Equal("·········R··", r[0]));
    }

    [Fact]
    public void TimeWait_HoldsAThousandConnectionsFor60s_AndTwReuseRecyclesPorts()
    {
        var (t, dir) = Run("tcp-time-wait.yaml");
        // The client closed each of its 1000 connections first: 1000 TIME_WAITs, none on the server.
        Assert.Contains("client: 1000 transactions, latency", t);
        Assert.Contains("[  15.000000] client: TCP:   1000 (estab 0, closed 1000, orphaned 0, timewait 1000)", t);
        Assert.Contains("[  15.000000] server: TCP:   1 (estab 0, closed 0, orphaned 0, timewait 0)", t);
        // Each TIME_WAIT starts when the server's FIN arrives and lasts TCP_TIMEWAIT_LEN: at 65 s exactly those that
        // started after 5 s remain; at 70 s none.
        double[] fins = Rows(Path.Combine(dir, "client-eth0.pcap"), "ip.src == 10.0.0.2 && tcp.flags.fin == 1", "frame.time_epoch")
            .Select(r => D(r[0])).ToArray();
        Assert.Equal(1000, fins.Length);
        Assert.True(fins[0] > 1 && fins[^1] < 10, $"connections closed between {fins[0]} and {fins[^1]} s");
        int left = fins.Count(f => f + 60 > 65);
        Assert.InRange(left, 1, 999);
        Assert.Contains($"[  65.000000] client: TCP:   {left} (estab 0, closed {left}, orphaned 0, timewait {left})", t);
        Assert.Contains("[  70.000000] client: TCP:   0 (estab 0, closed 0, orphaned 0, timewait 0)", t);
        Assert.Single(Lines(t, "client").SkipWhile(l => !l.StartsWith("Recv-Q Send-Q", StringComparison.Ordinal)));

        // Ten local ports: without tcp_tw_reuse the eleventh connect() finds them all in TIME_WAIT.
        Assert.Contains("[   3.084111] noreuse: tcprr: connection 11: connect to 10.0.0.2 port 80: Cannot assign requested address", t);
        Assert.Equal(10, Lines(t, "noreuse").Count(l => Regex.IsMatch(l, @"^0      0           10\.0\.0\.3:400\d\d     10\.0\.0\.2:80")));
        // With tcp_tw_reuse=1 connect() takes over TIME_WAITs older than a second: 20 connections on 5 (even) ports.
        Assert.Contains("reuse: 20 transactions, latency", t);
        Assert.Equal(15, Netstat(t, "reuse", "   6.000000", "time wait sockets recycled by time stamp"));
        var ports = Lines(t, "reuse").Select(l => Regex.Match(l, @"local port (\d+)")).Where(m => m.Success).Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(20, ports.Length);
        Assert.Equal(5, ports.Distinct().Count());
        // A reused port's new SYN starts at the TIME_WAIT's snd_nxt + 65535 + 2 (tcp_twsk_unique), above the old sequence space.
        var syns = Rows(Path.Combine(dir, "reuse-eth0.pcap"), "tcp.flags.syn == 1 && tcp.flags.ack == 0", "tcp.srcport", "tcp.seq_raw");
        var fin = Rows(Path.Combine(dir, "reuse-eth0.pcap"), "ip.src == 10.0.0.4 && tcp.flags.fin == 1", "tcp.srcport", "tcp.seq_raw");
        var firstFin = fin.First();
        var reusedSyn = syns.Where(r => r[0] == firstFin[0]).Skip(1).First();
        Assert.Equal(unchecked(uint.Parse(firstFin[1], CultureInfo.InvariantCulture) + 1u + 65535u + 2u), uint.Parse(reusedSyn[1], CultureInfo.InvariantCulture));
    }

    [Fact]
    public void SynFlood_FillsTheSynQueue_CookiesKeepTheServerReachable()
    {
        var (t, dir) = Run("tcp-syn-flood.yaml");
        Assert.Contains("attacker: HPING 10.0.2.2 (eth0 10.0.2.2): S set, 40 headers + 0 data bytes", t);
        Assert.Contains("[   6.999000] attacker: 5000 packets tramitted, 0 packets received, 100% packet loss", t);
        // The spoofed SYNs come from thousands of addresses; a's SYN queue holds backlog + 1 = 9 of them, SYN_RECV.
        var syns = Rows(Path.Combine(dir, "a-eth0.pcap"), "tcp.flags.syn == 1 && tcp.flags.ack == 0 && ip.src != 10.0.1.3", "ip.src");
        Assert.InRange(syns.Length, 4500, 5000); // martian sources (multicast, 0/8, 127/8) die at the router
        Assert.True(syns.Select(r => r[0]).Distinct().Count() > 4400);
        var synRecv = t[t.IndexOf("[   2.000000] a$ ss -tan state syn-recv", StringComparison.Ordinal)..t.IndexOf("[   2.000000] client$", StringComparison.Ordinal)];
        Assert.Equal(9, Regex.Matches(synRecv, @"a: 0      0           10\.0\.2\.2:80 ").Count);

        // a (tcp_syncookies=0): every SYN beyond the queue is dropped, the client's three included; connect() fails.
        long dropped = Netstat(t, "a", "   7.000000", "TCPReqQFullDrop");
        Assert.Equal(syns.Length + 3 - 9, dropped);
        Assert.Equal(dropped, Netstat(t, "a", "   7.000000", "SYNs to LISTEN sockets dropped"));
        Assert.Equal(0, Netstat(t, "a", "   7.000000", "passive connection openings"));
        Assert.Contains("[   5.000000] client: tcprr: connect to 10.0.2.2 port 80: Connection timed out", t);
        var clientSyns = Rows(Path.Combine(dir, "client-eth0.pcap"), "ip.dst == 10.0.2.2 && tcp.flags.syn == 1", "frame.time_epoch");
        Assert.Equal([2, 3, 4], clientSyns.Select(r => Math.Round(D(r[0]))).ToArray());
        Assert.Contains("a: [    2.013002] TCP: request_sock_TCP: Possible SYN flooding on port 0.0.0.0:80. Dropping request.", t);

        // b (tcp_syncookies=1): cookies for everything beyond the queue; the client's ACK returns one and it connects.
        Assert.Contains("[   2.020023] client: 1 transactions, latency min/avg/max = 8.014/8.014/8.014 ms", t);
        Assert.True(Netstat(t, "b", "   7.000000", "SYN cookies sent") > 4400);
        Assert.Equal(Netstat(t, "b", "   7.000000", "SYN cookies sent"), Netstat(t, "b", "   7.000000", "TCPReqQFullDoCookies"));
        Assert.Equal(1, Netstat(t, "b", "   7.000000", "SYN cookies received"));
        Assert.Equal(1, Netstat(t, "b", "   7.000000", "passive connection openings"));
        Assert.Contains("b: [    2.013003] TCP: request_sock_TCP: Possible SYN flooding on port 0.0.0.0:80. Sending cookies.", t);
        // Nothing ever answers a SYN-ACK: the router's blackhole default route swallows them.
        Assert.Empty(Rows(Path.Combine(dir, "b-eth0.pcap"), "ip.dst == 10.0.2.3 && tcp.flags.ack == 1 && ip.src != 10.0.1.3", "frame.number"));
    }

    [Fact]
    public void ZeroWindow_PersistProbesBackOffFromTheRto_AndTheWindowReopens()
    {
        var (t, dir) = Run("tcp-zero-window.yaml");
        var pcap = Path.Combine(dir, "client-eth0.pcap");
        // The server advertises a zero window once 73424 unread bytes fill its buffer (ss: Recv-Q).
        Assert.Contains("server: ESTAB 73424  0           10.0.0.2:5002", t);
        Assert.Matches(@"client: ESTAB 0      \d+ +10\.0\.0\.1:\d+ +10\.0\.0\.2:5002 timer:\(persist,", t);
        var zero = Rows(pcap, "ip.src == 10.0.0.2 && tcp.window_size_value == 0", "frame.time_epoch", "tcp.ack_raw");
        // Probes: bare ACKs with seq = snd_una - 1, the byte the receiver already acknowledged.
        var probes = Rows(pcap, "ip.src == 10.0.0.1 && tcp.len == 0 && tcp.analysis.keep_alive", "frame.time_epoch", "tcp.seq_raw");
        Assert.Equal(4, probes.Length);
        Assert.All(probes, p => Assert.Equal(uint.Parse(zero[0][1], CultureInfo.InvariantCulture) - 1, uint.Parse(p[1], CultureInfo.InvariantCulture)));
        // Each probe leaves a persist timeout after the latest event that (re)armed the timer: the zero-window ACK or
        // a probe's answer, or the previous probe when its answer was rate limited (tcp_invalid_ratelimit, 500 ms).
        double[] zeroTimes = zero.Select(z => D(z[0])).ToArray();
        double[] probeTimes = probes.Select(p => D(p[0])).ToArray();
        var gaps = probeTimes.Select((p, i) =>
            p - Math.Max(zeroTimes.Where(z => z < p).Max(), i > 0 ? probeTimes[i - 1] : 0)).ToArray();
        double rto = gaps[0];
        Assert.InRange(rto, 0.200, 0.215); // max(RTO, TCP_RTO_MIN): 200 ms plus the 2 ms round trip
        Assert.Equal([1, 2, 4, 8], gaps.Select(g => Math.Round(g / rto, 2)).ToArray());
        Assert.Equal(1, Netstat(t, "server", "   3.000000", "TCPToZeroWindowAdv"));
        // The reader starts 5 s after accept(): a window update reopens the window and the transfer completes.
        var update = Rows(pcap, "ip.src == 10.0.0.2 && tcp.analysis.window_update", "frame.time_epoch");
        Assert.Equal(6.006, Math.Round(D(update[0][0]), 3));
        Assert.Matches(@"client: transaction 1: 508\d\.\d{3} ms", t); // the 5 s read delay, the window reopening and 1 MB at 100 Mbit/s
    }

    [Fact]
    public void Keepalive_ProbesAtIdlePlusIntervals_AndTimesOutAfterTheLastOne()
    {
        var (t, dir) = Run("tcp-keepalive.yaml");
        (string Host, string Address, int Idle, int Intvl, int Count)[] servers =
            [("s1", "10.0.0.2", 10, 5, 3), ("s2", "10.0.0.3", 600, 15, 3), ("s3", "10.0.0.4", 7200, 75, 9)];
        foreach (var (host, addr, idle, intvl, cnt) in servers)
        {
            var pcap = Path.Combine(dir, $"{host}-eth0.pcap");
            // Idle from the last segment the client sent (its ACK of the response); probes are bare ACKs at snd_una - 1.
            // (!icmp: the router's host-unreachable errors quote the probes, and tshark dissects the quoted TCP header.)
            double last = Rows(pcap, $"ip.dst == {addr} && tcp && !icmp", "frame.time_epoch").Select(r => D(r[0])).Max();
            var probes = Rows(pcap, $"ip.src == {addr} && tcp.analysis.keep_alive && !icmp", "frame.time_epoch").Select(r => Math.Round(D(r[0]) - last, 3)).ToArray();
            Assert.Equal(Enumerable.Range(0, cnt).Select(k => (double)(idle + k * intvl)).ToArray(), probes);
            // After the cnt-th unanswered probe, one interval later: RST and ETIMEDOUT (idle + cnt x intvl).
            var rst = Rows(pcap, $"ip.src == {addr} && tcp.flags.reset == 1 && !icmp", "frame.time_epoch").Single();
            Assert.Equal(idle + cnt * intvl, Math.Round(D(rst[0]) - last, 3));
            var died = Regex.Match(t, $@"\[ *([0-9.]+)\] {host}: tcprr: connection from 10\.0\.1\.2 port \d+: Connection timed out");
            Assert.True(died.Success, $"{host} reported no timeout");
            Assert.Equal(Math.Round(D(rst[0]), 6), D(died.Groups[1].Value));
        }
        // 7200 + 9 x 75 = 7875 s, the notes' number.
        Assert.Matches(@"\[7876\.0\d+\] s3: tcprr: connection from", t);
        Assert.Equal(3, Netstat(t, "s1", "7890.000000", "TCPKeepAlive"));
        Assert.Equal(9, Netstat(t, "s3", "7890.000000", "TCPKeepAlive"));
        Assert.Equal(1, Netstat(t, "s3", "7890.000000", "connections aborted due to timeout"));
        Assert.Contains("[  22.000000] s1: ESTAB 0      0           10.0.0.2:80       10.0.1.2:", t);
        Assert.Matches(@"\[  22\.000000\] s1: .*timer:\(keepalive,4\.0\d\dms,3\)", t);
    }

    [Fact]
    public void Throughput_ReachesTheLineRateWithoutLoss_AndAFractionWithOnePercentLoss()
    {
        var (t, _) = Run("tcp-throughput-loss.yaml");
        double Receiver(string host)
        {
            var m = Regex.Match(t, $@"\] {host}: \[  5\]   0\.00-\S+ +sec +\S+ MBytes +([0-9.]+) Mbits/sec +receiver");
            Assert.True(m.Success, $"no receiver line from {host}");
            return D(m.Groups[1].Value);
        }
        double clean = Receiver("a"), lossy = Receiver("c");
        // 1448 bytes of data per 1538 on the wire: 941 Mbit/s of goodput at 1 Gbit/s.
        Assert.True(clean >= 0.95 * 941, $"loss-free: {clean} Mbit/s");
        Assert.Matches(@"a: \[  5\]   4\.00-5\.00   sec   112 MBytes   941 Mbits/sec    0 ", t);
        Assert.Matches(@"a: \[  5\]   0\.00-5\.00   sec +\S+ MBytes +\d+ Mbits/sec    0 +sender", t);
        Assert.True(lossy < 0.5 * clean, $"1% loss: {lossy} Mbit/s against {clean}");
        Assert.InRange(lossy, 1, 50);
    }
}
