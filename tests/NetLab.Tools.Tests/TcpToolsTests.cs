using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Net;
using NetLab.Stack;
using NetLab.Stack.Tcp;
using NetLab.Tools.Iperf;
using NetLab.Tools.Ss;

namespace NetLab.Tools.Tests;

/// <summary>ss, netstat, nc, iperf3 and the inetd servers on a — sw — b (10.0.0.1, 10.0.0.2, 100 Mbit/s, 1 ms).</summary>
public class TcpToolsTests
{
    private static readonly Ipv4Address B = Ipv4Address.Parse("10.0.0.2");

    /// <summary>Starts a command that keeps running (a server) and lets the world run a little.</summary>
    private static (Task<int> Task, CapturingOutput Out, CancellationTokenSource Stop) Start(World w, Host h, string cmd, string? stdin = null)
    {
        var output = new CapturingOutput(w.Scheduler);
        var stop = new CancellationTokenSource();
        var task = ToolRunner.RunAsync(h, cmd, output, stop.Token, stdin);
        w.RunFor(SimDuration.FromMilliseconds(10));
        return (task, output, stop);
    }

    /// <summary>Starts <paramref name="f"/> on the world's scheduler (so its awaits resume there) and runs it to completion.</summary>
    private static T InWorld<T>(World w, Func<Task<T>> f)
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(w.Scheduler.SynchronizationContext);
        try { return w.Scheduler.Run(f()); }
        finally { SynchronizationContext.SetSynchronizationContext(previous); }
    }

    private static (int Status, CapturingOutput Out) Run(World w, Host h, string cmd, string? stdin = null)
    {
        var output = new CapturingOutput(w.Scheduler);
        int status = w.Scheduler.Run(ToolRunner.RunAsync(h, cmd, output, CancellationToken.None, stdin));
        return (status, output);
    }

    [Fact]
    public void Nc_TransfersStdinToTheListener_AndBothExitWithN()
    {
        var (w, a, b) = Nets.Lan2();
        using (w)
        {
            var server = Start(w, b, "nc -lvn 5000");
            var client = Run(w, a, "nc -vN 10.0.0.2 5000", "hello\nworld\n");
            w.RunFor(SimDuration.FromMilliseconds(100));
            Assert.Equal(0, client.Status);
            Assert.Equal(["Connection to 10.0.0.2 5000 port [tcp/*] succeeded!"], client.Out.Errors);
            Assert.True(server.Task.IsCompleted);
            Assert.Equal(0, w.Scheduler.Run(server.Task));
            Assert.Equal(["hello", "world"], server.Out.Lines);
            Assert.Equal("Listening on 0.0.0.0 5000", server.Out.Errors[0]);
            Assert.StartsWith("Connection received on 10.0.0.1 ", server.Out.Errors[1]);
        }
    }

    [Fact]
    public void Nc_HereStringAndEchoPipe_FeedStdin()
    {
        var (w, a, b) = Nets.Lan2();
        using (w)
        {
            var echo = Start(w, b, "echo-server");
            var r1 = Run(w, a, "nc -N 10.0.0.2 7 <<< ping");
            var r2 = Run(w, a, "echo -n no newline | nc -N 10.0.0.2 7");
            Assert.Equal(["ping"], r1.Out.Lines);
            Assert.Equal(["no newline"], r2.Out.Lines);
            echo.Stop.Cancel();
            w.RunFor(SimDuration.FromMilliseconds(10));
            Assert.Equal(ToolRunner.InterruptedStatus, w.Scheduler.Run(echo.Task));
        }
    }

    [Fact]
    public void Nc_Scan_ReportsOpenAndClosedPorts()
    {
        var (w, a, b) = Nets.Lan2();
        using (w)
        {
            Start(w, b, "nc -lk 5000");
            var r = Run(w, a, "nc -zv 10.0.0.2 4999-5001");
            Assert.Equal(0, r.Status);
            Assert.Equal([
                "nc: connect to 10.0.0.2 port 4999 (tcp) failed: Connection refused",
                "Connection to 10.0.0.2 5000 port [tcp/*] succeeded!",
                "nc: connect to 10.0.0.2 port 5001 (tcp) failed: Connection refused"], r.Out.Errors);
            Assert.Equal(1, Run(w, a, "nc -z 10.0.0.2 22").Status);
            var t = Run(w, a, "nc -zv -w 1 10.0.0.9 80");
            Assert.Equal(["nc: connect to 10.0.0.9 port 80 (tcp) timed out: Operation now in progress"], t.Out.Errors);
        }
    }

    [Fact]
    public void Nc_Usage()
    {
        var (w, a, _) = Nets.Lan2();
        using (w)
        {
            var r = Run(w, a, "nc");
            Assert.Equal(1, r.Status);
            Assert.Equal("usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]", r.Out.Errors[0]);
        }
    }

    [Fact]
    public void Ss_ListenEstabTimeWait_WithQueues()
    {
        var (w, a, b) = Nets.Lan2();
        using (w)
        {
            // A listener with backlog 5: one connection accepted, two waiting in the accept queue.
            var l = b.Tcp.Open();
            Assert.Equal(Errno.None, l.Bind(Ipv4Address.Any, 5001));
            Assert.Equal(Errno.None, l.Listen(5));
            var clients = new List<TcpSocket>();
            for (int i = 0; i < 3; i++)
            {
                var c = a.Tcp.Open();
                InWorld(w, async () => { await c.ConnectAsync(B, 5001); return 0; });
                clients.Add(c);
            }
            w.RunFor(SimDuration.FromMilliseconds(10));
            var accepted = InWorld(w, () => l.AcceptAsync());
            // The server sends 1000 bytes the client does not read; the client sends 500 the server does not read.
            InWorld(w, async () => { await accepted.SendAsync(new byte[1000]); await clients[0].SendAsync(new byte[500]); return 0; });
            w.RunFor(SimDuration.FromMilliseconds(50));
            var lnt = Run(w, b, "ss -lnt").Out.Lines;
            Assert.Equal([
                "State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess",
                "LISTEN 2      5            0.0.0.0:5001      0.0.0.0:*          "], lnt);
            // A connection the client closes first: it ends in TIME-WAIT on a.
            var t = a.Tcp.Open();
            InWorld(w, async () => { await t.ConnectAsync(B, 5001); return 0; });
            w.RunFor(SimDuration.FromMilliseconds(10));
            // The accept queue is FIFO: the two older children come first.
            InWorld(w, () => l.AcceptAsync());
            InWorld(w, () => l.AcceptAsync());
            var tb = InWorld(w, () => l.AcceptAsync());
            t.Close();
            w.RunFor(SimDuration.FromMilliseconds(10));
            tb.Close();
            w.RunFor(SimDuration.FromMilliseconds(10));

            var tan = Run(w, a, "ss -tan").Out.Lines;
            TestContext.Current.TestOutputHelper?.WriteLine(string.Join("\n", tan));
            Assert.Equal("State     Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess", tan[0]);
            Assert.Contains(tan, x => x.StartsWith("ESTAB     1000   0           10.0.0.1:", StringComparison.Ordinal) && x.EndsWith("     10.0.0.2:5001       ", StringComparison.Ordinal));
            Assert.Contains(tan, x => x.StartsWith("TIME-WAIT 0      0           10.0.0.1:", StringComparison.Ordinal));
            var est = Run(w, b, "ss -tn state established").Out.Lines;
            Assert.Equal("Recv-Q Send-Q Local Address:Port Peer Address:Port Process", est[0]); // 5-digit peer ports widen "Port"
            Assert.Contains(est, x => x.StartsWith("500    0           10.0.0.2:5001 ", StringComparison.Ordinal));
            Assert.Equal(4, est.Count); // the three accepted ones
            var tw = Run(w, a, "ss -tano state time-wait").Out.Lines;
            Assert.Matches(@"^0      0           10\.0\.0\.1:\d+ +10\.0\.0\.2:5001 timer:\(timewait,\d+sec,0\)$", tw[1]);
            var ti = Run(w, a, "ss -tino").Out.Lines;
            Assert.StartsWith("\t ts sack cubic wscale:", ti[2]);
            Assert.Contains(" bytes_received:1000 ", ti[2]);
            foreach (var c in clients) c.Close();
            accepted.Close();
            l.Close();
            w.RunFor(SimDuration.FromSeconds(70));
        }
    }

    [Fact]
    public void Ss_UdpAndSummary()
    {
        var (w, a, b) = Nets.Lan2();
        using (w)
        {
            var u = b.Udp.Open();
            u.Bind(Ipv4Address.Any, 5353);
            var c = a.Udp.Open();
            c.Connect(B, 5353);
            c.Send("hello"u8);
            w.RunFor(SimDuration.FromMilliseconds(10));
            Assert.Equal([
                "State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess",
                "UNCONN 640    0            0.0.0.0:5353      0.0.0.0:*          "], Run(w, b, "ss -uan").Out.Lines);
            Assert.Equal("UNCONN 640    0            0.0.0.0:mdns      0.0.0.0:*          ", Run(w, b, "ss -ua").Out.Lines[1]);
            // -u alone asks for ESTAB only: one state, so no State column.
            Assert.Matches(@"^0      0           10\.0\.0\.1:\d+     10\.0\.0\.2:5353       $", Run(w, a, "ss -un").Out.Lines[1]);
            Assert.Equal([
                "Total: 1",
                "TCP:   0 (estab 0, closed 0, orphaned 0, timewait 0)",
                "",
                "Transport Total     IP        IPv6",
                "RAW\t  0         0         0        ",
                "UDP\t  1         1         0        ",
                "TCP\t  0         0         0        ",
                "INET\t  1         1         0        ",
                "FRAG\t  0         0         0        ",
                ""], Run(w, b, "ss -s").Out.Lines);
            u.Dispose();
            c.Dispose();
        }
    }

    [Theory]
    [InlineData(200_000, "200ms")]
    [InlineData(1_500_000, "1.500ms")]
    [InlineData(59_000_000, "59sec")]
    [InlineData(12_340_000, "12sec")]
    [InlineData(330_000_000, "5min30sec")]
    [InlineData(7_140_000_000, "119min")]
    [InlineData(0, "")]
    public void Ss_MsTimer(long us, string expected) => Assert.Equal(expected, SsTool.MsTimer(us));

    [Theory]
    [InlineData(3_982_000_000, false, "3.98G")]
    [InlineData(3_982_000_000, true, "3982000000")]
    [InlineData(681_411_760, false, "681M")]
    [InlineData(9_200_000_000, false, "9.2G")]
    [InlineData(1_500, false, "1.5k")]
    [InlineData(999, false, "999")]
    [InlineData(2.5e12, false, "2.5T")]
    public void Ss_SprintBw(double bw, bool numeric, string expected) => Assert.Equal(expected, SsTool.SprintBw(bw, numeric));

    [Fact]
    public void Ss_InfoLine_MatchesIproute2Order()
    {
        var info = new TcpInfo
        {
            Options = 7, SndWscale = 7, RcvWscale = 7, RtoUs = 201_000, RttUs = 50, RttVarUs = 25, AtoUs = 40_000,
            SndMss = 1448, Pmtu = 1500, RcvMss = 536, Advmss = 1448, SndCwnd = 10, SndSsthresh = 0x7fffffff,
            BytesSent = 100, BytesAcked = 101, BytesReceived = 100, SegsOut = 4, SegsIn = 3, DataSegsOut = 1, DataSegsIn = 1,
            LastDataSentMs = 8, LastDataRecvMs = 8, LastAckRecvMs = 8, PacingRate = 579_200_000, DeliveryRateBps = 320_000_000,
            Delivered = 2, DeliveryRateAppLimited = true, Reordering = 3, RcvSpace = 14480, RcvSsthresh = 64088, MinRttUs = 50,
            SndWnd = 65280, Congestion = "cubic",
        };
        Assert.Equal(" ts sack cubic wscale:7,7 rto:201 rtt:0.05/0.025 ato:40 mss:1448 pmtu:1500 rcvmss:536 advmss:1448 cwnd:10"
            + " bytes_sent:100 bytes_acked:101 bytes_received:100 segs_out:4 segs_in:3 data_segs_out:1 data_segs_in:1"
            + " send 2.32Gbps lastsnd:8 lastrcv:8 lastack:8 pacing_rate 4.63Gbps delivery_rate 320Mbps delivered:2 app_limited"
            + " rcv_space:14480 rcv_ssthresh:64088 minrtt:0.05 snd_wnd:65280",
            SsTool.TcpInfoText(info, options: true, numeric: false));
        Assert.StartsWith(" cubic wscale:7,7", SsTool.TcpInfoText(info, options: false, numeric: false));
        Assert.Contains(" send 2316800000bps ", SsTool.TcpInfoText(info, options: false, numeric: true));
    }

    [Theory]
    [InlineData(2_920_000_000.0, 'A', "2.72 GByte")]
    [InlineData(2_610_000.0, 'A', "2.49 MByte")]
    [InlineData(199_680.0, 'A', " 195 KByte")]
    [InlineData(2_912_500_000.0, 'a', "23.3 Gbit")]
    [InlineData(33_625_000.0, 'a', " 269 Mbit")]
    [InlineData(1_048_576.0, 'A', "1.00 MByte")]
    [InlineData(0.0, 'A', "0.00 Byte")]
    public void Iperf3_Units(double value, char format, string expected) => Assert.Equal(expected, Iperf3Tool.Units(value, format));

    [Fact]
    public void Iperf3_IntervalLines()
    {
        Assert.Equal("[  5]   0.00-1.00   sec  2.71 GBytes  23.3 Gbits/sec   90   2.49 MBytes       ",
            Iperf3Tool.IntervalLine(0, 1_000_000_000, 2_912_500_000, 90, 2_610_000));
        Assert.Equal("[  5]   3.00-3.01   sec  3.62 MBytes  3.04 Gbits/sec                  ",
            Iperf3Tool.IntervalLine(3_000_000_000, 3_010_000_000, 3_800_000, null, 0));
    }

    /// <summary>On 100 Mbit/s the goodput is the line rate less Ethernet, IP, TCP and timestamp overheads (1448/1538).</summary>
    [Fact]
    public void Iperf3_ThroughputMatchesTheLinkRate()
    {
        var (w, a, b) = Nets.Lan2();
        using (w)
        {
            var server = Start(w, b, "iperf3 -s -1");
            var (status, output) = Run(w, a, "iperf3 -c 10.0.0.2 -t 3");
            TestContext.Current.TestOutputHelper?.WriteLine(string.Join("\n", output.All.Concat(server.Out.All)));
            Assert.True(status == 0, string.Join("\n", output.All));
            w.RunFor(SimDuration.FromMilliseconds(100));
            var lines = output.Lines;
            Assert.Equal("Connecting to host 10.0.0.2, port 5201", lines[0]);
            Assert.Matches(@"^\[  5\] local 10\.0\.0\.1 port \d+ connected to 10\.0\.0\.2 port 5201$", lines[1]);
            Assert.Equal("[ ID] Interval           Transfer     Bitrate         Retr  Cwnd", lines[2]);
            Assert.Matches(@"^\[  5\]   0\.00-1\.00   sec  [ \d.]{4} MBytes  [ \d.]{4} Mbits/sec  +\d+ +[ \d.]{4} [KM]Bytes       $", lines[3]);
            Assert.Equal("- - - - - - - - - - - - - - - - - - - - - - - - -", lines[6]);
            Assert.StartsWith("[  5]   0.00-3.00   sec  ", lines[8]);
            Assert.EndsWith("sender", lines[8]);
            Assert.EndsWith("receiver", lines[9]);
            Assert.Equal(["", "iperf Done."], lines.Skip(10));
            // The receiver's average is the goodput of the link (the sender's counts what its socket buffer took).
            var mbits = double.Parse(lines[9].Substring(38, 4), System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(mbits, 90, 95.5);
            Assert.True(server.Task.IsCompleted);
            Assert.Equal("Server listening on 5201 (test #1)", server.Out.Lines[1]);
            Assert.EndsWith("receiver", server.Out.Lines[^1]);
        }
    }

    [Fact]
    public void Iperf3_ReverseWithByteCount()
    {
        var (w, a, b) = Nets.Lan2();
        using (w)
        {
            var server = Start(w, b, "iperf3 -s");
            var (status, output) = Run(w, a, "iperf3 -c 10.0.0.2 -n 1M -R -l 1000");
            Assert.Equal(0, status);
            Assert.Equal("Reverse mode, remote host 10.0.0.2 is sending", output.Lines[1]);
            Assert.Contains(output.Lines, l => l.StartsWith("[  5]   0.00-", StringComparison.Ordinal) && l.Contains(" 1.00 MBytes ") && l.EndsWith("sender"));
            Assert.Contains(server.Out.Lines, l => l.EndsWith("sender"));
            w.RunFor(SimDuration.FromMilliseconds(100));
            Assert.Equal("Server listening on 5201 (test #2)", server.Out.Lines[^2]);
            server.Stop.Cancel();
            w.RunFor(SimDuration.FromMilliseconds(1));
            Assert.Equal(["iperf3: interrupt - the server has terminated"], server.Out.Errors);
        }
    }

    [Fact]
    public void Iperf3_Errors()
    {
        var (w, a, _) = Nets.Lan2();
        using (w)
        {
            var r = Run(w, a, "iperf3 -c 10.0.0.2 -t 1");
            Assert.Equal(1, r.Status);
            Assert.Equal(["iperf3: error - unable to connect to server: Connection refused"], r.Out.Errors);
            Assert.Equal(["iperf3: error - unable to set TCP_CONGESTION: Supplied congestion control algorithm not supported on this host"],
                Run(w, a, "iperf3 -c 10.0.0.2 -C nosuch").Out.Errors);
        }
    }

    [Fact]
    public void Netstat_TablesAndStatistics()
    {
        var (w, a, b) = Nets.Lan2();
        using (w)
        {
            Start(w, b, "nc -lk 5000");
            Start(w, a, "nc 10.0.0.2 5000");
            w.RunFor(SimDuration.FromMilliseconds(100));
            TestContext.Current.TestOutputHelper?.WriteLine(string.Join("\n", Run(w, b, "ss -tan").Out.Lines));
            var tan = Run(w, b, "netstat -tan").Out.Lines;
            TestContext.Current.TestOutputHelper?.WriteLine(string.Join("\n", tan));
            Assert.Equal("Active Internet connections (servers and established)", tan[0]);
            Assert.Equal("Proto Recv-Q Send-Q Local Address           Foreign Address         State      ", tan[1]);
            Assert.Equal("tcp        0      0 0.0.0.0:5000            0.0.0.0:*               LISTEN     ", tan[2]);
            Assert.Matches(@"^tcp        0      0 10\.0\.0\.2:5000 +10\.0\.0\.1:\d+ +ESTABLISHED$", tan[3]);
            Assert.Equal(3, Run(w, b, "netstat -tln").Out.Lines.Count);
            var s = Run(w, b, "netstat -s").Out.Lines;
            Assert.Equal("Ip:", s[0]);
            Assert.Equal("    Forwarding: 2", s[1]);
            Assert.Contains("Tcp:", s);
            Assert.Contains("    1 passive connection openings", s);
            Assert.Contains("    1 connections established", s);
            Assert.Contains("UdpLite:", s);
            Assert.Contains("    0 packet headers predicted", s);
            Assert.Equal("MPTcpExt:", s[^1]);
        }
    }
}
