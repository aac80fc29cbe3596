using NetLab.Core.Time;
using NetLab.Stack.IPv4;
using NetLab.Stack.Tcp;
using Xunit.Sdk;
using static NetLab.Stack.Tcp.TcpFlags;
using static NetLab.Stack.Tests.Tcp.TcpHarness;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>Every <see cref="Seg"/> check against two hand-built segments: one full of options and data, one bare.</summary>
public class TcpHarnessCheckTests
{
    private static SentSegment Segment(TcpRepr tcp, byte[] payload, byte ttl, bool df) =>
        new(SimDuration.Zero, new Ipv4Repr(LocalIp, RemoteIp, IpProtocol.Tcp, tcp.HeaderLength + payload.Length, ttl, DontFragment: df),
            tcp with { PayloadLength = payload.Length }, payload);

    private static SackBlock Block(uint start, uint end) => new(new(start), new(end));

    /// <summary>Data with every option Linux can put on a segment at once (40 bytes of them), TTL 64, DF.</summary>
    private static readonly SentSegment Full = Segment(
        new(LocalPort, RemotePort, new(1000), new(2000), Psh | Ack, 512, new TcpOptionSet
        {
            Mss = 1460, SackPermitted = true, Timestamp = new(100, 7), WindowScale = 7,
            SackBlocks = new(Block(3000, 3100), Block(3200, 3300)),
        }),
        "hello"u8.ToArray(), ttl: 64, df: true);

    /// <summary>A pure ACK without options, TTL 63, no DF.</summary>
    private static readonly SentSegment Bare = Segment(
        new(LocalPort, RemotePort, new(1005), new(2001), Ack, 1024), [], ttl: 63, df: false);

    /// <summary>Each check, and whether it matches <see cref="Full"/> and <see cref="Bare"/>.</summary>
    private static readonly Dictionary<string, (SegCheck Check, bool Full, bool Bare)> Cases = new()
    {
        ["Flags [P.]"] = (Seg.Flags(Psh | Ack), true, false),
        ["Flags [.]"] = (Seg.Flags(Ack), false, true),
        ["seq 1000"] = (Seg.Seq(new(1000)), true, false),
        ["ack 2001"] = (Seg.Ack(new(2001)), false, true),
        ["win 512"] = (Seg.Window(512), true, false),
        ["win >= 1000"] = (Seg.WindowAtLeast(1000), false, true),
        ["mss 1460"] = (Seg.Mss(1460), true, false),
        ["mss 536"] = (Seg.Mss(536), false, false),
        ["wscale 7"] = (Seg.WScale(7), true, false),
        ["sackOK"] = (Seg.SackPermitted(), true, false),
        ["TS val 100 ecr 7"] = (Seg.Timestamp(100, 7), true, false),
        ["TS val * ecr 7"] = (Seg.Timestamp(ecr: 7), true, false),
        ["TS val 101 ecr *"] = (Seg.Timestamp(val: 101), false, false),
        ["no options"] = (Seg.NoOptions(), false, true),
        ["sack 2 {3000:3100}{3200:3300}"] = (Seg.SackBlocks(Block(3000, 3100), Block(3200, 3300)), true, false),
        ["sack 1 {3000:3100}"] = (Seg.SackBlocks(Block(3000, 3100)), false, false),
        ["payload 68656c6c6f"] = (Seg.Payload("hello"u8.ToArray()), true, false),
        ["length 0"] = (Seg.PayloadLength(0), false, true),
        ["ttl 64"] = (Seg.Ttl(64), true, false),
        ["flags [DF]"] = (Seg.DontFragment(), true, false),
        ["urg 0"] = (Seg.Where("urg 0", s => s.Tcp.UrgentPointer == 0), true, true),
    };

    public static TheoryData<string> CheckNames => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CheckNames))]
    public void Check_MatchesOrFails_WithTheSegmentInTcpdumpStyle(string name)
    {
        var (check, full, bare) = Cases[name];
        Assert.Equal(name, check.Description);
        foreach (var (segment, matches) in new[] { (Full, full), (Bare, bare) })
        {
            if (matches)
            {
                Seg.Verify(segment, check);
                continue;
            }
            var e = Assert.Throws<FailException>(() => Seg.Verify(segment, Seg.PayloadLength(segment.Payload.Length), check));
            Assert.Contains($"Mismatch: {name}\n", e.Message);
            Assert.Contains(segment.ToString(), e.Message);
        }
    }

    [Fact]
    public void Failure_ListsEveryCheck_ThenTheSegmentAsTcpdumpPrintsIt()
    {
        var e = Assert.Throws<FailException>(() => Seg.Verify(Full, Seg.Flags(Syn | Ack), Seg.Mss(1460), Seg.Ack(new(1))));
        Assert.Equal("""
            Expected: Flags [S.], mss 1460, ack 1
            Mismatch: Flags [S.], ack 1
            Sent:
            0.000000 IP (tos 0x0, ttl 64, id 0, offset 0, flags [DF], proto TCP (6), length 85)
                192.168.0.1.40000 > 192.0.2.1.8080: Flags [P.], seq 1000:1005, ack 2000, win 512, options [mss 1460,sackOK,TS val 100 ecr 7,nop,wscale 7,nop,nop,sack 2 {3000:3100}{3200:3300}], length 5
            """, e.Message);
    }
}
