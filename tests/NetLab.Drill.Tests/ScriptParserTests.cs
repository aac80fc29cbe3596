using CsCheck;
using NetLab.Drill.Parsing;

namespace NetLab.Drill.Tests;

public class ScriptParserTests
{
    private static DrillScript Parse(string text)
    {
        var r = ScriptParser.Parse(text);
        Assert.True(r.Success, r.Error?.ToString());
        return r.Script!;
    }

    [Fact]
    public void OptionsInitCommandEventsAndCleanup_AreSeparated()
    {
        var s = Parse("--tolerance_usecs=7000\n--tcp_ts_ecr_scaled // note\n`sysctl -q net.ipv4.tcp_sack=0`\n0 close(3) = 0\n`/tmp/restore.sh`\n");
        Assert.Equal([("tolerance_usecs", "7000"), ("tcp_ts_ecr_scaled", null)], s.Options.Select(o => (o.Name, o.Value)));
        Assert.Equal("sysctl -q net.ipv4.tcp_sack=0", s.InitCommand!.Text);
        Assert.Single(s.Events);
        Assert.Equal("/tmp/restore.sh", s.CleanupCommand!.Text);
    }

    [Theory]
    [InlineData("0.100 close(3) = 0", TimeKind.Absolute, 100_000, null)]
    [InlineData("+.1 close(3) = 0", TimeKind.Relative, 100_000, null)]
    [InlineData("+1 close(3) = 0", TimeKind.Relative, 1_000_000, null)]
    [InlineData("* > . 1:1(0) ack 1", TimeKind.Any, 0, null)]
    [InlineData("+.21~+.215 > P. 1:41(40) ack 1", TimeKind.Relative, 210_000, 215_000L)]
    [InlineData("1~2 > P. 1:41(40) ack 1", TimeKind.Absolute, 1_000_000, 2_000_000L)]
    public void EventTimes(string line, TimeKind kind, long start, long? end)
    {
        var t = Parse(line).Events[0].Time;
        Assert.Equal(new EventTime(kind, start, end), t);
    }

    [Theory]
    [InlineData("+0...0.200 accept(3, ..., ...) = 4", 200_000)]
    [InlineData("+.002 ... 0.004 connect(4, ..., ...) = 0", 4_000)]
    public void BlockingCall_HasItsEndTime(string line, long endUs)
    {
        var call = Assert.IsType<SyscallSpec>(Parse(line).Events[0].Action);
        Assert.Equal(endUs, call.EndUs);
    }

    [Fact]
    public void TcpPacket_AllFields()
    {
        var p = Assert.IsType<TcpPacketSpec>(Parse(
            "+0 < S. 0:0(0) ack 1 win 32792 <mss 1000,sackOK,TS val 100 ecr 0,nop,wscale 7,sack 1:2 3:4,FO abcd,eol>").Events[0].Action);
        Assert.Equal(Direction.Inbound, p.Direction);
        Assert.Equal("S.", p.Flags);
        Assert.Equal((0u, 0u, 0), (p.Seq, p.EndSeq, p.Length));
        Assert.Equal(1u, p.Ack);
        Assert.Equal(32792, p.Window);
        Assert.Equal(
            [TcpOptionKind.Mss, TcpOptionKind.SackPermitted, TcpOptionKind.Timestamp, TcpOptionKind.Nop, TcpOptionKind.WindowScale,
             TcpOptionKind.Sack, TcpOptionKind.FastOpen, TcpOptionKind.Eol],
            p.Options!.Select(o => o.Kind));
        Assert.Equal((100, 0), (p.Options![2].Value, p.Options[2].Value2));
        Assert.Equal([(1u, 2u), (3u, 4u)], p.Options[5].Blocks!);
        Assert.Equal([0xab, 0xcd], p.Options[6].Cookie!);
    }

    [Fact]
    public void OutboundPacket_AnyOptionsAndIpInfo()
    {
        var p = Assert.IsType<TcpPacketSpec>(Parse("+0 > [ect0] P. 1:1001(1000) ack 1 <...>").Events[0].Action);
        Assert.True(p.AnyOptions);
        Assert.Null(p.Options);
        Assert.Equal((byte)2, p.Ip!.Ecn);
    }

    [Fact]
    public void IcmpPacket()
    {
        var p = Assert.IsType<IcmpPacketSpec>(Parse("+.01 < icmp unreachable frag_needed mtu 800 [1:1001(1000)]").Events[0].Action);
        Assert.Equal(("unreachable", "frag_needed", 800, 1u, 1000), (p.Type, p.Code, p.Mtu!.Value, p.EchoedSeq!.Value, p.EchoedLength!.Value));
    }

    [Fact]
    public void Syscall_ExpressionsErrnoAndNote()
    {
        var call = Assert.IsType<SyscallSpec>(Parse("+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)").Events[0].Action);
        Assert.Equal("connect", call.Name);
        Assert.Equal(-1, Assert.IsType<IntExpr>(call.Result).Value);
        Assert.Equal("EINPROGRESS", call.Errno);
        Assert.Equal("Operation now in progress", call.Note);
        Assert.IsType<EllipsisExpr>(call.Args[1]);
    }

    [Fact]
    public void Syscall_MultiLineStructuresAndFlags()
    {
        var s = Parse("""
            +0 sendmsg(4, {msg_name(...)=...,
                           msg_iov(2)=[{..., 40}, {..., 20}], msg_flags=0}, MSG_MORE|MSG_DONTWAIT) = 60
            +0 poll([{fd=3, events=POLLIN|POLLOUT, revents=POLLOUT}], 1, 100) = 1
            +0 fcntl(3, F_GETFL) = 0x2 (flags O_RDWR)
            """);
        var sendmsg = Assert.IsType<SyscallSpec>(s.Events[0].Action);
        var msg = Assert.IsType<BraceExpr>(sendmsg.Args[1]);
        Assert.Equal(2, Assert.IsType<ArrayExpr>(msg.Field("msg_iov")).Items.Count);
        Assert.IsType<OrExpr>(sendmsg.Args[2]);
        var poll = Assert.IsType<SyscallSpec>(s.Events[1].Action);
        var pfd = Assert.IsType<BraceExpr>(Assert.IsType<ArrayExpr>(poll.Args[0]).Items[0]);
        Assert.Equal("3", pfd.Field("fd")!.ToString());
        var fcntl = Assert.IsType<SyscallSpec>(s.Events[2].Action);
        Assert.Equal((2L, null, "flags O_RDWR"), (Assert.IsType<IntExpr>(fcntl.Result).Value, fcntl.Errno, fcntl.Note));
    }

    [Fact]
    public void CodeBlock_KeepsItsText()
    {
        var code = Assert.IsType<CodeSpec>(Parse("+0 %{\nassert tcpi_snd_cwnd == 10, tcpi_snd_cwnd\n}%").Events[0].Action);
        Assert.Contains("assert tcpi_snd_cwnd == 10", code.Text);
    }

    [Theory]
    [InlineData("+0 > P. 1:1001(999) ack 1", 1, 9, "end - start must equal the length")]
    [InlineData("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > Q 0:0(0)", 2, 6, "unknown TCP flag 'Q'")]
    [InlineData("0 close(3) = 0\n  +0 > S 0:0(0) <mss 1460,bogus 3>", 2, 27, "unknown TCP option 'bogus'")]
    [InlineData("0 close(3 = 0", 1, 11, "expected ',' or ')'")]
    [InlineData("+0 %{ assert 1", 1, 4, "unterminated %{ block")]
    [InlineData("0 close(3) = 0 EBADF (Bad", 1, 22, "unterminated note")]
    [InlineData("0 close(3) = 0 EBADF x", 1, 22, "unexpected 'x' after the end of the statement")]
    [InlineData("+x close(3) = 0", 1, 2, "expected a time")]
    public void SyntaxError_NamesLineAndColumn(string text, int line, int column, string message)
    {
        var r = ScriptParser.Parse(text);
        Assert.False(r.Success);
        Assert.Equal(new SourcePos(line, column), r.Error!.Pos);
        Assert.Contains(message, r.Error.Message);
    }

    /// <summary>Any TCP packet line the parser accepts comes back with the same fields after formatting and re-parsing.</summary>
    [Fact]
    public void TcpPacketLine_RoundTrips()
    {
        var gen =
            from flags in Gen.OneOfConst("S", "S.", ".", "P.", "F.", "R", "R.", "FP.", "SEW", "-")
            from seq in Gen.UInt
            from len in Gen.Int[0, 65535]
            from hasAck in Gen.Bool
            from ackValue in Gen.UInt
            from hasWin in Gen.Bool
            from winValue in Gen.Int[0, 65535]
            from mss in Gen.Int[0, 65535]
            from ts in Gen.UInt
            select (flags, seq, len, ack: hasAck ? ackValue : (uint?)null, win: hasWin ? winValue : (int?)null, mss, ts);
        gen.Sample(x =>
        {
            string line = $"+0 > {x.flags} {x.seq}:{unchecked(x.seq + (uint)x.len)}({x.len})"
                + (x.ack is { } a ? $" ack {a}" : "") + (x.win is { } w ? $" win {w}" : "")
                + $" <mss {x.mss},nop,TS val {x.ts} ecr 0>";
            var p = Assert.IsType<TcpPacketSpec>(Parse(line).Events[0].Action);
            Assert.Equal((x.flags, x.seq, x.len, x.ack, x.win), (p.Flags, p.Seq, p.Length, p.Ack, p.Window));
            Assert.Equal((long)x.mss, p.Options![0].Value);
            Assert.Equal((long)x.ts, p.Options[2].Value);
        });
    }

    /// <summary>Malformed input is a syntax error, never an exception (rule 2's "never thrown" for parsers).</summary>
    [Fact]
    public void ArbitraryInput_NeverThrows()
    {
        const string alphabet = "0123456789+-.*~<>:()[]{},=|`%\"/ \n\tSPFRackwinmsTOvalecr.";
        var gen = Gen.Char[alphabet].Array[0, 80].Select(c => new string(c));
        var valid = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < S 0:0(0) win 100 <mss 1000,nop,wscale 7>\n+0 > S. 0:0(0) ack 1 <...>";
        var mutated = Gen.Int[0, valid.Length].Select(Gen.Int[0, valid.Length], (a, b) => valid[..Math.Min(a, b)] + valid[Math.Max(a, b)..]);
        Gen.OneOf(gen, mutated).Sample(text =>
        {
            var r = ScriptParser.Parse(text);
            Assert.True(r.Success || r.Error is { Pos.Line: >= 1, Pos.Column: >= 1 });
        });
    }
}
