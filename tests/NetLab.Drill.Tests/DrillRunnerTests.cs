using CsCheck;
using NetLab.Drill.Running;

namespace NetLab.Drill.Tests;

/// <summary>The runner on small inline scripts: what passes, and what each kind of mismatch says.</summary>
public class DrillRunnerTests
{
    // A passive open with the packetdrill defaults' buffers (so the SYN-ACK's wscale is 8, as in the shared scripts).
    private const string Accepted = """
        `sysctl -q net.ipv4.tcp_rmem="4096 540000 15728640" net.ipv4.tcp_wmem="4096 262144 4194304"`
        0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
        +0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
        +0 bind(3, ..., ...) = 0
        +0 listen(3, 1) = 0
        +0 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
        +0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 8>
        +.1 < . 1:1(0) ack 1 win 257
        +0 accept(3, ..., ...) = 4

        """;

    private static DrillOutcome Run(string text) => DrillRunner.RunText(text, "inline.pkt");

    private static void AssertPasses(string text)
    {
        var o = Run(text);
        Assert.True(o.Passed, o.Message);
    }

    private static DrillOutcome AssertFails(string text, int line)
    {
        var o = Run(text);
        Assert.Equal(DrillStatus.Failed, o.Status);
        Assert.Equal(line, o.Line);
        Assert.StartsWith($"inline.pkt:{line}: ", o.Message);
        return o;
    }

    [Fact]
    public void PassiveOpen_WriteAndAck_Passes() => AssertPasses(Accepted + """
        +0 write(4, ..., 1000) = 1000
        +0 > P. 1:1001(1000) ack 1
        +.1 < . 1:1(0) ack 1001 win 257
        +0 %{ assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd }%
        +0 close(4) = 0
        +0 > F. 1001:1001(0) ack 1
        """);

    [Fact]
    public void WrongAck_ShowsLineExpectedAndActualPacket()
    {
        var o = AssertFails(Accepted + """
            +0 write(4, ..., 1000) = 1000
            +0 > P. 1:1001(1000) ack 2
            """, 11);
        Assert.Contains("live packet field tcp_ack_seq: expected: 2 (0x2) vs actual: 1 (0x1)", o.Message);
        Assert.Contains("script packet:   0.100000 > P. 1:1001(1000) ack 2", o.Message);
        Assert.Contains("actual packet:   0.100000 > P. 1:1001(1000) ack 1 win ", o.Message);
    }

    [Fact]
    public void WrongOptions_AreReported()
    {
        var o = AssertFails(Accepted.Replace("<mss 1460,nop,wscale 8>", "<mss 1400,nop,wscale 8>"), 7);
        Assert.Contains("tcp_option mss: expected: 1400", o.Message);
    }

    [Fact]
    public void LatePacket_IsATimingError()
    {
        var o = AssertFails(Accepted + """
            +0 write(4, ..., 1000) = 1000
            +.05 > P. 1:1001(1000) ack 1
            """, 11);
        Assert.Contains("timing error: expected outbound packet at 0.150000 sec but happened at 0.100000 sec; tolerance 0.004000 sec", o.Message);
    }

    [Fact]
    public void ToleranceOption_WidensTheWindow() => AssertPasses("--tolerance_usecs=60000\n" + Accepted + """
        +0 write(4, ..., 1000) = 1000
        +.05 > P. 1:1001(1000) ack 1
        """);

    [Fact]
    public void MissingPacket_TimesOut()
    {
        var o = AssertFails(Accepted + "+0 > F. 1:1(0) ack 1\n", 10);
        Assert.Contains("Timed out waiting for packet", o.Message);
    }

    [Fact]
    public void UnexpectedPacket_BeforeAnInboundOne_Fails()
    {
        var o = AssertFails(Accepted + """
            +0 write(4, ..., 1000) = 1000
            +.1 < . 1:1(0) ack 1001 win 257
            """, 11);
        Assert.Contains("unexpected outbound packet", o.Message);
        Assert.Contains("> P. 1:1001(1000) ack 1", o.Message);
    }

    [Fact]
    public void NonBlockingRead_ReturnsEagain_AndAWrongResultNamesTheErrno()
    {
        AssertPasses(Accepted + "+0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n+0 read(4, ..., 100) = -1 EAGAIN (Resource temporarily unavailable)\n");
        var o = AssertFails(Accepted + "+0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n+0 read(4, ..., 100) = 100\n", 11);
        Assert.Contains("Expected result 100 but got -1 with errno 11 (Resource temporarily unavailable)", o.Message);
    }

    [Fact]
    public void BlockingRead_ReturnsWhenDataArrives() => AssertPasses(Accepted + """
        +0...0.2 read(4, ..., 1000) = 500
        +.2 < P. 1:501(500) ack 1 win 257
        +0 > . 1:1(0) ack 501
        """);

    [Fact]
    public void BlockingRead_StillBlockedAtItsEndTime_Fails()
    {
        var o = AssertFails(Accepted + """
            +0...0.1 read(4, ..., 1000) = 500
            +.2 < P. 1:501(500) ack 1 win 257
            """, 10);
        Assert.Contains("expected read() to return by 0.200000 sec, but it is still blocked", o.Message);
    }

    [Fact]
    public void ActiveOpen_WithTimestamps_MapsTheEcr() => AssertPasses("""
        `sysctl -q net.ipv4.tcp_rmem="4096 540000 15728640"`
        0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
        +0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
        +0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
        +0 > S 0:0(0) <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 8>
        +.01 < S. 0:0(0) ack 1 win 5840 <mss 1460,sackOK,TS val 700 ecr 100,nop,wscale 7>
        +0 > . 1:1(0) ack 1 <nop,nop,TS val 110 ecr 700>
        +0 write(3, ..., 100) = 100
        +0 > P. 1:101(100) ack 1 <nop,nop,TS val 110 ecr 700>
        """);

    [Fact]
    public void FailedAssertion_ShowsItsMessage()
    {
        var o = AssertFails(Accepted + "+0 %{ assert tcpi_snd_cwnd == 3, 'cwnd=%d' % tcpi_snd_cwnd }%\n", 10);
        Assert.Contains("assertion failed: AssertionError: cwnd=10", o.Message);
    }

    [Fact]
    public void TwoConnections_AreNumberedEachFromItsOwnIsns() => AssertPasses(Accepted + """
        +0 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
        +0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 8>
        +.1 < . 1:1(0) ack 1 win 257
        +0 accept(3, ..., ...) = 5
        +0 close(4) = 0
        +0 > F. 1:1(0) ack 1
        +0 close(5) = 0
        +0 > F. 1:1(0) ack 1
        +0 < F. 1:1(0) ack 2 win 257
        +0 > . 2:2(0) ack 2
        """);

    [Fact]
    public void InboundIcmpFragNeeded_QuotesTheSegment_AndTcpShrinksItsSegments() => AssertPasses("""
        0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
        +0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
        +0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
        +0 > S 0:0(0) <...>
        +.01 < S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 7>
        +0 > . 1:1(0) ack 1
        +0 write(3, ..., 1460) = 1460
        +0 > P. 1:1461(1460) ack 1
        +.01 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]
        +0 > . 1:1161(1160) ack 1
        """);

    // --tcp_ts_tick_usecs=1000: the host's TS val must advance 1 per ms (fin_tsval.pkt of the shared suite passes).
    private const string TsTick = """
        --tcp_ts_tick_usecs=1000
        0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
        +0 bind(3, ..., ...) = 0
        +0 listen(3, 1) = 0
        +0 < S 0:0(0) win 20000 <mss 1000,sackOK,TS val 100 ecr 0>
        +0 > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 100 ecr 100>
        +.1 < . 1:1(0) ack 1 win 20000 <nop,nop,TS val 200 ecr 100>
        +0 accept(3, ..., ...) = 4
        +1 close(4) = 0

        """;

    [Fact]
    public void TsTick_ChecksTheHostsClock()
    {
        AssertPasses(TsTick + "+0 > F. 1:1(0) ack 1 <nop,nop,TS val 1200 ecr 200>\n");
        var o = AssertFails(TsTick + "+0 > F. 1:1(0) ack 1 <nop,nop,TS val 1500 ecr 200>\n", 10);
        Assert.Contains("live packet field tcp_option TS val: expected: 1500 vs actual: 1200", o.Message);
    }

    [Fact]
    public void SkippedShellCommands_AreWarnings()
    {
        var o = Run("`tc qdisc add dev tun0 root pfifo\nsysctl -q net.ipv4.tcp_sack=0`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n");
        Assert.True(o.Passed, o.Message);
        Assert.Equal(["line 1: shell command ignored (no NetLab counterpart): tc qdisc add dev tun0 root pfifo"], o.Warnings);
    }

    /// <summary>
    /// A blocking write() waiting for the handshake counts in sk_write_pending, so the SYN-ACK's ACK rides on the data
    /// (tcp_rcv_synsent_state_process(); Linux 6.18 does the same: docs/drill-linux-check/write_pending.py).
    /// </summary>
    [Fact]
    public void BlockingWriteDuringConnect_TheAckRidesOnTheData() => AssertPasses("""
        0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
        +0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
        +0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
        +0 > S 0:0(0) <...>
        +0 fcntl(3, F_SETFL, O_RDWR) = 0
        +0...0.1 write(3, ..., 100) = 100
        +.1 < S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 7>
        +0 > P. 1:101(100) ack 1
        """);

    [Fact]
    public void ExplicitSockaddrs_ChooseThePorts() => AssertPasses("""
        0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
        +0 bind(3, {sa_family=AF_INET, sin_port=htons(9000), sin_addr=inet_addr("192.168.0.1")}, 16) = 0
        +0 listen(3, 1) = 0
        +0 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
        +0 > S. 0:0(0) ack 1 <...>
        +0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 4
        +0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0
        +0 connect(4, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("192.0.2.1")}, 16) = -1 EINPROGRESS
        +0 > S 0:0(0) <...>
        +0 < S. 0:0(0) ack 1 win 65535 <mss 1460>
        +0 > . 1:1(0) ack 1
        """);

    [Fact]
    public void MalformedSockaddr_SaysWhatIsExpected()
    {
        var o = AssertFails("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, {sin_port=9000}, 16) = 0\n", 2);
        Assert.Contains("bind(): the address must be ... or {sa_family=AF_INET, sin_port=htons(N)", o.Message);
    }

    [Fact]
    public void ScriptFdNumbers_NameTheSockets() => AssertPasses("""
        0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 7
        +0 close(7) = 0
        +0 close(7) = -1 EBADF (Bad file descriptor)
        """);

    [Fact]
    public void UnsupportedCall_SaysSo()
    {
        var o = AssertFails("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 setsockopt(3, SOL_TCP, TCP_FASTOPEN, [1], 4) = 0\n", 2);
        Assert.Contains("setsockopt(SOL_TCP, TCP_FASTOPEN) is not supported by NetLab", o.Message);
    }

    [Fact]
    public void SyntaxError_IsInvalidScriptWithLineAndColumn()
    {
        var o = Run("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > S 0:0(0) <mss>\n");
        Assert.Equal(DrillStatus.InvalidScript, o.Status);
        Assert.StartsWith("inline.pkt:2:19: syntax error: expected an MSS", o.Message);
    }

    [Fact]
    public void UnknownOption_IsInvalid()
    {
        var o = Run("--no_such_option=1\n0 close(3) = -1 EBADF\n");
        Assert.Equal(DrillStatus.InvalidScript, o.Status);
        Assert.Contains("unknown option --no_such_option", o.Message);
    }

    /// <summary>Real scripts with a line dropped or two lines swapped run to an outcome: no exception escapes the runner.</summary>
    [Fact]
    public void MutatedSharedScripts_NeverThrow()
    {
        var scripts = Directory.GetFiles(Paths.PacketdrillDir, "*.pkt", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal).Select(p => (Path: p, Lines: File.ReadAllLines(p))).ToArray();
        Assert.NotEmpty(scripts);
        var gen = from s in Gen.Int[0, scripts.Length - 1]
                  from a in Gen.Int[0, 1000]
                  from b in Gen.Int[0, 1000]
                  from swap in Gen.Bool
                  select (s, a, b, swap);
        gen.Sample(x =>
        {
            var (path, lines) = scripts[x.s];
            var copy = lines.ToList();
            int i = x.a % copy.Count, j = x.b % copy.Count;
            if (x.swap) (copy[i], copy[j]) = (copy[j], copy[i]);
            else copy.RemoveAt(i);
            var outcome = DrillRunner.RunText(string.Join('\n', copy), path);
            Assert.False(string.IsNullOrEmpty(outcome.Message));
        }, iter: 1000);
    }

    [Fact]
    public void OutboundSegments_AreAggregatedUpToTheScriptPacketsPayload_AsPacketdrillDoes()
    {
        // At a 100 ms RTT Linux (and NetLab) send two-segment GSO skbs; packetdrill joins them for the script.
        AssertPasses(Accepted + """
            +0 write(4, ..., 4000) = 4000
            +0 > P. 1:4001(4000) ack 1
            """);
    }

    [Fact]
    public void StrictSegments_TurnsAggregationOff()
    {
        var o = AssertFails("--strict_segments\n" + Accepted + """
            +0 write(4, ..., 4000) = 4000
            +0 > P. 1:4001(4000) ack 1
            """, 12);
        Assert.Contains("live packet field tcp_data_len: expected: 4000 (0xfa0) vs actual: 2000 (0x7d0)", o.Message);
    }

    [Fact]
    public void AggregationThatOvershootsTheScriptPacket_Fails()
    {
        var o = AssertFails(Accepted + """
            +0 write(4, ..., 4000) = 4000
            +0 > P. 1:3001(3000) ack 1
            """, 11);
        Assert.Contains("live packet field tcp_data_len: expected: 3000 (0xbb8) vs actual: 4000 (0xfa0)", o.Message);
    }
}
