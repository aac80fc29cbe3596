using System.Buffers.Binary;
using System.Text;
using CsCheck;
using NetLab.Core;
using NetLab.Core.Addressing;
using NetLab.Stack.IPv4;
using NetLab.Stack.Tcp;
using static NetLab.Stack.Tests.Codecs.CodecTestHelpers;

namespace NetLab.Stack.Tests.Codecs;

public class TcpCodecTests
{
    private const int At = LinuxCaptures.EthernetLength + Ipv4HeaderView.MinLength;
    private static readonly Ipv4Address Client = Ipv4Address.Parse("10.77.20.1");
    private static readonly Ipv4Address Server = Ipv4Address.Parse("10.77.20.2");

    private static byte[] Segment(byte[] frame) => frame[At..];
    private static byte[] Frame(string name) => (byte[])typeof(LinuxCaptures).GetField(name)!.GetValue(null)!;

    /// <summary>What Linux puts on a SYN and a SYN-ACK with default sysctls (tcp_syn_options(), tcp_synack_options()).</summary>
    private static TcpOptionSet SynOptions(uint tsVal, uint tsEcr, TcpFastOpenCookie? tfo = null) =>
        new() { Mss = 1460, SackPermitted = true, Timestamp = new(tsVal, tsEcr), WindowScale = 10, FastOpen = tfo };

    private static TcpOptionSet Ts(uint tsVal, uint tsEcr) => new() { Timestamp = new(tsVal, tsEcr) };
    private static SackBlock Block(uint start, uint end) => new(new(start), new(end));
    private static readonly byte[] Cookie = Hex.Parse("7af2622f87c43c0f");

    /// <summary>
    /// A captured segment: its addresses, its meaning, its options as hex (copied from the fixture, for Construct),
    /// and the line <c>tcpdump -n -S -t -r</c> prints for it (tcpdump 4.99.3, libpcap 1.10.3).
    /// </summary>
    public sealed record Fixture(Ipv4Address Src, Ipv4Address Dst, TcpRepr Repr, string OptionsHex, string Tcpdump);

    private static readonly Dictionary<string, Fixture> Expected = new()
    {
        [nameof(LinuxCaptures.TcpSyn)] = new(Client, Server,
            new(40001, 7777, new(0x7b0a2123), new(0), TcpFlags.Syn, 64240, SynOptions(0xe7ae7a82, 0)),
            "0204 05b4 0402 080a e7ae 7a82 0000 0000 0103 030a",
            "IP 10.77.20.1.40001 > 10.77.20.2.7777: Flags [S], seq 2064261411, win 64240, options [mss 1460,sackOK,TS val 3886971522 ecr 0,nop,wscale 10], length 0"),
        [nameof(LinuxCaptures.TcpSynAck)] = new(Server, Client,
            new(7777, 40001, new(0x3aee8b18), new(0x7b0a2124), TcpFlags.Syn | TcpFlags.Ack, 65160, SynOptions(0x175f7512, 0xe7ae7a82)),
            "0204 05b4 0402 080a 175f 7512 e7ae 7a82 0103 030a",
            "IP 10.77.20.2.7777 > 10.77.20.1.40001: Flags [S.], seq 988711704, ack 2064261412, win 65160, options [mss 1460,sackOK,TS val 392131858 ecr 3886971522,nop,wscale 10], length 0"),
        [nameof(LinuxCaptures.TcpAck)] = new(Client, Server,
            new(40001, 7777, new(0x7b0a2124), new(0x3aee8b19), TcpFlags.Ack, 63, Ts(0xe7ae7a82, 0x175f7512)),
            "0101 080a e7ae 7a82 175f 7512",
            "IP 10.77.20.1.40001 > 10.77.20.2.7777: Flags [.], ack 988711705, win 63, options [nop,nop,TS val 3886971522 ecr 392131858], length 0"),
        [nameof(LinuxCaptures.TcpPshData)] = new(Client, Server,
            new(40001, 7777, new(0x7b0a2124), new(0x3aee8b19), TcpFlags.Psh | TcpFlags.Ack, 63, Ts(0xe7ae7a82, 0x175f7512), PayloadLength: 6),
            "0101 080a e7ae 7a82 175f 7512",
            "IP 10.77.20.1.40001 > 10.77.20.2.7777: Flags [P.], seq 2064261412:2064261418, ack 988711705, win 63, options [nop,nop,TS val 3886971522 ecr 392131858], length 6"),
        [nameof(LinuxCaptures.TcpFin)] = new(Client, Server,
            new(40001, 7777, new(0x7b0a212a), new(0x3aee8b19), TcpFlags.Fin | TcpFlags.Ack, 63, Ts(0xe7ae7c73, 0x175f7512)),
            "0101 080a e7ae 7c73 175f 7512",
            "IP 10.77.20.1.40001 > 10.77.20.2.7777: Flags [F.], seq 2064261418, ack 988711705, win 63, options [nop,nop,TS val 3886972019 ecr 392131858], length 0"),
        [nameof(LinuxCaptures.TcpRst)] = new(Server, Client,
            new(9, 40002, new(0), new(0xe4e08c31), TcpFlags.Rst | TcpFlags.Ack, 0),
            "",
            "IP 10.77.20.2.9 > 10.77.20.1.40002: Flags [R.], seq 0, ack 3839921201, win 0, length 0"),
        [nameof(LinuxCaptures.TcpSackAck1)] = new(Server, Client,
            new(7778, 40011, new(0x0b61dbf7), new(0xfb09b549), TcpFlags.Ack, 70,
                Ts(0x2c095167, 0xcf259f2f) with { SackBlocks = new(Block(0xfb09baf1, 0xfb09c099)) }),
            "0101 080a 2c09 5167 cf25 9f2f 0101 050a fb09 baf1 fb09 c099",
            "IP 10.77.20.2.7778 > 10.77.20.1.40011: Flags [.], ack 4211717449, win 70, options [nop,nop,TS val 738808167 ecr 3475349295,nop,nop,sack 1 {4211718897:4211720345}], length 0"),
        [nameof(LinuxCaptures.TcpSackAck3)] = new(Server, Client,
            new(7778, 40011, new(0x0b61dbf7), new(0xfb09cfa1), TcpFlags.Ack, 76,
                Ts(0x2c095167, 0xcf259f2f) with
                {
                    SackBlocks = new(Block(0xfb0a0641, 0xfb0a0be9), Block(0xfb09efa1, 0xfb09f549), Block(0xfb09d549, 0xfb09ebe9)),
                }),
            "0101 080a 2c09 5167 cf25 9f2f 0101 051a fb0a 0641 fb0a 0be9 fb09 efa1 fb09 f549 fb09 d549 fb09 ebe9",
            "IP 10.77.20.2.7778 > 10.77.20.1.40011: Flags [.], ack 4211724193, win 76, options [nop,nop,TS val 738808167 ecr 3475349295,nop,nop,sack 3 {4211738177:4211739625}{4211732385:4211733833}{4211725641:4211731433}], length 0"),
        [nameof(LinuxCaptures.TcpSackAck4)] = new(Server, Client,
            new(7778, 40012, new(0xfe010707), new(0xa8f5e943), TcpFlags.Ack, 1110, new TcpOptionSet
            {
                SackBlocks = new(Block(0xa8f62db3, 0xa8f63273), Block(0xa8f61c97, 0xa8f627ff),
                    Block(0xa8f6112f, 0xa8f616e3), Block(0xa8f5eef7, 0xa8f60b7b)),
            }),
            "0101 0522 a8f6 2db3 a8f6 3273 a8f6 1c97 a8f6 27ff a8f6 112f a8f6 16e3 a8f5 eef7 a8f6 0b7b",
            "IP 10.77.20.2.7778 > 10.77.20.1.40012: Flags [.], ack 2834688323, win 1110, options [nop,nop,sack 4 {2834705843:2834707059}{2834701463:2834704383}{2834698543:2834700003}{2834689783:2834697083}], length 0"),
        [nameof(LinuxCaptures.TcpFastOpenCookieRequest)] = new(Client, Server,
            new(40005, 8080, new(0x3342d167), new(0), TcpFlags.Syn, 64240, SynOptions(0x6ffede8a, 0, TcpFastOpenCookie.Request())),
            "0204 05b4 0402 080a 6ffe de8a 0000 0000 0103 030a 2202 0101",
            "IP 10.77.20.1.40005 > 10.77.20.2.8080: Flags [S], seq 860016999, win 64240, options [mss 1460,sackOK,TS val 1878974090 ecr 0,nop,wscale 10,tfo  cookiereq,nop,nop], length 0"),
        [nameof(LinuxCaptures.TcpFastOpenSynAckCookie)] = new(Server, Client,
            new(8080, 40005, new(0x633e56f2), new(0x3342d168), TcpFlags.Syn | TcpFlags.Ack, 65160,
                SynOptions(0xe7b2d04e, 0x6ffede8a, new TcpFastOpenCookie(Cookie))),
            "0204 05b4 0402 080a e7b2 d04e 6ffe de8a 0103 030a 220a 7af2 622f 87c4 3c0f 0101",
            "IP 10.77.20.2.8080 > 10.77.20.1.40005: Flags [S.], seq 1665029874, ack 860017000, win 65160, options [mss 1460,sackOK,TS val 3887255630 ecr 1878974090,nop,wscale 10,tfo  cookie 7af2622f87c43c0f,nop,nop], length 0"),
        // tcpdump goes on to decode the payload: "...length 79: HTTP: GET / HTTP/1.1".
        [nameof(LinuxCaptures.TcpFastOpenSynData)] = new(Client, Server,
            new(40006, 8080, new(0xbba919fc), new(0), TcpFlags.Syn, 64240,
                SynOptions(0xae99f4f3, 0, new TcpFastOpenCookie(Cookie)), PayloadLength: 79),
            "0204 05b4 0402 080a ae99 f4f3 0000 0000 0103 030a 220a 7af2 622f 87c4 3c0f 0101",
            "IP 10.77.20.1.40006 > 10.77.20.2.8080: Flags [S], seq 3148421628:3148421707, win 64240, options [mss 1460,sackOK,TS val 2929325299 ecr 0,nop,wscale 10,tfo  cookie 7af2622f87c43c0f,nop,nop], length 79"),
    };

    public static TheoryData<string> Fixtures => [.. Expected.Keys];

    // ---- The four fixed tests (CONVENTIONS rule 10) ----

    [Fact]
    public void Deconstruct_Syn()
    {
        // 9c41 1e61 7b0a2123 00000000 a002 faf0 576e 0000 | 0204 05b4 0402 080a e7ae7a82 00000000 0103 030a
        var s = Segment(LinuxCaptures.TcpSyn);
        Assert.True(TcpHeaderView.TryCreate(s, out var v));
        Assert.Equal(40001, v.SourcePort);
        Assert.Equal(7777, v.DestinationPort);
        Assert.Equal(0x7b0a2123u, v.SequenceNumber.Value);
        Assert.Equal(0u, v.AcknowledgmentNumber.Value);
        Assert.Equal(10, v.DataOffset);
        Assert.Equal(40, v.HeaderLength);
        Assert.Equal(0, v.Reserved);
        Assert.Equal(TcpFlags.Syn, v.Flags);
        Assert.True(v.Syn);
        Assert.False(v.Ack || v.Fin || v.Rst || v.Psh || v.Urg || v.Ece || v.Cwr || v.Ae);
        Assert.Equal(64240, v.Window);
        Assert.Equal(0x576e, v.Checksum);
        Assert.Equal(0, v.UrgentPointer);
        Assert.Equal("020405b40402080ae7ae7a82000000000103030a", Hex.Format(v.Options));
        Assert.Equal(0, v.Payload.Length);
        Assert.True(v.VerifyChecksum(Client, Server));
        Assert.False(v.VerifyChecksum(Server, Client with { Value = Client.Value + 1 })); // the pseudo-header binds the addresses

        var o = TcpOptionSet.Parse(v.Options);
        Assert.Equal((ushort)1460, o.Mss);
        Assert.True(o.SackPermitted);
        Assert.Equal(new TcpTimestamp(3886971522, 0), o.Timestamp);
        Assert.Equal((byte)10, o.WindowScale);
        Assert.True(o.SackBlocks.IsEmpty);
        Assert.Null(o.FastOpen);
        Assert.Null(o.Md5);
        Assert.True(o.Unknown.IsEmpty);
    }

    [Fact]
    public void Deconstruct_PshData()
    {
        var s = Segment(LinuxCaptures.TcpPshData);
        Assert.True(TcpHeaderView.TryCreate(s, out var v));
        Assert.Equal(0x3aee8b19u, v.AcknowledgmentNumber.Value);
        Assert.Equal(8, v.DataOffset);
        Assert.Equal(TcpFlags.Psh | TcpFlags.Ack, v.Flags);
        Assert.True(v.Psh && v.Ack);
        Assert.Equal(63, v.Window);
        Assert.Equal(0xea7b, v.Checksum);
        Assert.Equal("hello\n", Encoding.ASCII.GetString(v.Payload));
        Assert.True(v.VerifyChecksum(Client, Server)); // the checksum covers the payload too
    }

    [Fact]
    public void Deconstruct_Rst()
    {
        var s = Segment(LinuxCaptures.TcpRst);
        Assert.True(TcpHeaderView.TryCreate(s, out var v));
        Assert.Equal(9, v.SourcePort);
        Assert.Equal(0u, v.SequenceNumber.Value);
        Assert.Equal(0xe4e08c31u, v.AcknowledgmentNumber.Value);
        Assert.Equal(5, v.DataOffset);
        Assert.True(v.Rst && v.Ack);
        Assert.Equal(0, v.Window);
        Assert.Equal(0, v.Options.Length);
        Assert.Equal(0, v.Payload.Length);
        Assert.True(v.VerifyChecksum(Server, Client));
    }

    [Fact]
    public void Deconstruct_SackAck3()
    {
        var s = Segment(LinuxCaptures.TcpSackAck3);
        Assert.True(TcpHeaderView.TryCreate(s, out var v));
        Assert.Equal(15, v.DataOffset); // the whole 40 bytes of options
        Assert.Equal(40, v.Options.Length);
        var o = TcpOptionSet.Parse(v.Options);
        Assert.Equal(new TcpTimestamp(0x2c095167, 0xcf259f2f), o.Timestamp);
        Assert.Equal(3, o.SackBlocks.Count);
        Assert.Equal(Block(0xfb0a0641, 0xfb0a0be9), o.SackBlocks[0]); // the newest block first (RFC 2018 §4)
        Assert.Equal(Block(0xfb09efa1, 0xfb09f549), o.SackBlocks[1]);
        Assert.Equal(Block(0xfb09d549, 0xfb09ebe9), o.SackBlocks[2]);
        Assert.Throws<ArgumentOutOfRangeException>(() => o.SackBlocks[3]);
        // Every block lies above the cumulative ACK: data received past the hole.
        for (int i = 0; i < 3; i++) Assert.True(SeqNum.After(o.SackBlocks[i].Start, v.AcknowledgmentNumber));
    }

    [Fact]
    public void Deconstruct_FastOpenSynAckCookie()
    {
        var s = Segment(LinuxCaptures.TcpFastOpenSynAckCookie);
        Assert.True(TcpHeaderView.TryCreate(s, out var v));
        var o = TcpOptionSet.Parse(v.Options);
        Assert.NotNull(o.FastOpen);
        Assert.False(o.FastOpen.Value.Experimental);
        Assert.False(o.FastOpen.Value.IsRequest);
        Assert.True(o.FastOpen.Value.Cookie.SequenceEqual(Cookie));
        Assert.Equal("7af2622f87c43c0f", o.FastOpen.Value.Cookie.ToString());
    }

    /// <summary>The getters agree with the meaning of every fixture.</summary>
    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Deconstruct(string fixture)
    {
        var f = Expected[fixture];
        var s = Segment(Frame(fixture));
        Assert.True(TcpHeaderView.TryCreate(s, out var v));
        Assert.Equal(f.Repr.SourcePort, v.SourcePort);
        Assert.Equal(f.Repr.DestinationPort, v.DestinationPort);
        Assert.Equal(f.Repr.Seq, v.SequenceNumber);
        Assert.Equal(f.Repr.Ack, v.AcknowledgmentNumber);
        Assert.Equal(f.Repr.Flags, v.Flags);
        Assert.Equal(f.Repr.Window, v.Window);
        Assert.Equal(f.Repr.UrgentPointer, v.UrgentPointer);
        Assert.Equal(f.OptionsHex.Replace(" ", ""), Hex.Format(v.Options));
        Assert.Equal(f.Repr.PayloadLength, v.Payload.Length);
        Assert.True(v.VerifyChecksum(f.Src, f.Dst));
    }

    [Fact]
    public void Construct_Syn()
    {
        var b = Stale(40);
        var v = TcpHeaderView.ForEmit(b);
        v.SourcePort = 40001;
        v.DestinationPort = 7777;
        v.SequenceNumber = new(0x7b0a2123);
        v.AcknowledgmentNumber = new(0);
        v.DataOffset = 10;
        v.Reserved = 0;
        v.Flags = TcpFlags.Syn;
        v.Window = 64240;
        v.UrgentPointer = 0;
        Hex.Parse("0204 05b4 0402 080a e7ae 7a82 0000 0000 0103 030a").CopyTo(v.Options);
        v.FillChecksum(Client, Server);
        Assert.Equal(Hex.Format(Segment(LinuxCaptures.TcpSyn)), Hex.Format(b));
        Assert.Equal(0x576e, v.Checksum);
    }

    /// <summary>Setters, options copied from the fixture's hex and the checksum, into 0xA5, reproduce every fixture.</summary>
    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Construct(string fixture)
    {
        var f = Expected[fixture];
        var s = Segment(Frame(fixture));
        var options = Hex.Parse(f.OptionsHex);
        var b = WithStaleHeader(s, 0, TcpHeaderView.MinLength + options.Length); // the payload stays in place
        var v = TcpHeaderView.ForEmit(b);
        v.SourcePort = f.Repr.SourcePort;
        v.DestinationPort = f.Repr.DestinationPort;
        v.SequenceNumber = f.Repr.Seq;
        v.AcknowledgmentNumber = f.Repr.Ack;
        v.DataOffset = (TcpHeaderView.MinLength + options.Length) / 4;
        v.Reserved = 0;
        v.Flags = f.Repr.Flags;
        v.Window = f.Repr.Window;
        v.UrgentPointer = f.Repr.UrgentPointer;
        options.CopyTo(v.Options);
        v.FillChecksum(f.Src, f.Dst);
        Assert.Equal(Hex.Format(s), Hex.Format(b));
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Parse(string fixture)
    {
        var f = Expected[fixture];
        Assert.True(TcpRepr.TryParse(Segment(Frame(fixture)), f.Src, f.Dst, out var repr));
        Assert.Equal(f.Repr, repr);
    }

    /// <summary>
    /// Emit writes Linux's bytes exactly, options included: the order and the padding of tcp_options_write() on a
    /// SYN, a SYN-ACK, timestamps alone, SACK blocks beside timestamps and without them, and Fast Open cookies.
    /// </summary>
    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Emit(string fixture)
    {
        var f = Expected[fixture];
        var s = Segment(Frame(fixture));
        Assert.Equal(s.Length, f.Repr.HeaderLength + f.Repr.PayloadLength);
        var b = WithStaleHeader(s, 0, f.Repr.HeaderLength);
        f.Repr.Emit(b, f.Src, f.Dst);
        Assert.Equal(Hex.Format(s), Hex.Format(b));
    }

    /// <summary>The SYN prints as tcpdump prints it: <c>tcpdump -n -S -t -r linux-tcp.pcap</c>, frame 1.</summary>
    [Fact]
    public void ToString_OfTheSyn_IsTcpdumps()
    {
        Assert.True(TcpRepr.TryParse(Segment(LinuxCaptures.TcpSyn), Client, Server, out var repr));
        Assert.Equal("Flags [S], seq 2064261411, win 64240, options [mss 1460,sackOK,TS val 3886971522 ecr 0,nop,wscale 10], length 0",
            repr.ToString());
        Assert.Equal("IP 10.77.20.1.40001 > 10.77.20.2.7777: Flags [S], seq 2064261411, win 64240, options [mss 1460,sackOK,TS val 3886971522 ecr 0,nop,wscale 10], length 0",
            repr.ToString(Client, Server));
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void ToString_IsTcpdumps(string fixture)
    {
        var f = Expected[fixture];
        Assert.True(TcpRepr.TryParse(Segment(Frame(fixture)), f.Src, f.Dst, out var repr));
        Assert.Equal(f.Tcpdump, repr.ToString(f.Src, f.Dst));
    }

    /// <summary>tcpdump 4.99.3's lines for crafted segments (SYN seq 1000 or ACK 2000, win 512), where NetLab agrees.</summary>
    [Theory]
    [InlineData("Flags [S], seq 1000, win 512, options [exp-tfo cookie 0102030405060708], length 0", "fe0c f989 0102 0304 0506 0708")]
    [InlineData("Flags [S], seq 1000, win 512, options [exp-tfo cookiereq], length 0", "fe04 f989")]
    [InlineData("Flags [.], ack 2000, win 512, options [unknown-99 0x01020304,eol], length 0", "6306 0102 0304 0000")]
    [InlineData("Flags [.], ack 2000, win 512, options [sack 1 {1:2},nop,nop], length 0", "050a 0000 0001 0000 0002 0101")]
    public void ToString_OfCraftedOptions_IsTcpdumps(string expected, string optionsHex)
    {
        var options = Hex.Parse(optionsHex);
        bool syn = expected.Contains("[S]", StringComparison.Ordinal);
        var b = new byte[TcpHeaderView.MinLength + options.Length];
        var v = TcpHeaderView.ForEmit(b);
        v.SequenceNumber = new(1000);
        v.AcknowledgmentNumber = new(2000);
        v.DataOffset = b.Length / 4;
        v.Flags = syn ? TcpFlags.Syn : TcpFlags.Ack;
        v.Window = 512;
        options.CopyTo(v.Options);
        var sb = new StringBuilder();
        TcpOptionPrinter.Append(sb, v.Options);
        Assert.Equal(expected, $"Flags [{(syn ? "S" : ".")}], {(syn ? "seq 1000" : "ack 2000")}, win 512, options [{sb}], length 0");
    }

    [Fact]
    public void ToString_Flags_AreTcpdumps()
    {
        // tcpdump 4.99.3 on crafted segments: "Flags [FSRP.UEW], seq 1000, ack 2000, win 512, urg 0, length 0",
        // "Flags [.U], seq 1000:1003, ack 2000, win 512, urg 3, length 3" and "Flags [none], win 512, length 0".
        var all = TcpFlags.Fin | TcpFlags.Syn | TcpFlags.Rst | TcpFlags.Psh | TcpFlags.Ack | TcpFlags.Urg | TcpFlags.Ece | TcpFlags.Cwr;
        Assert.Equal("Flags [FSRP.UEW], seq 1000, ack 2000, win 512, urg 0, length 0",
            new TcpRepr(1, 2, new(1000), new(2000), all, 512).ToString());
        Assert.Equal("Flags [.U], seq 1000:1003, ack 2000, win 512, urg 3, length 3",
            new TcpRepr(1, 2, new(1000), new(2000), TcpFlags.Ack | TcpFlags.Urg, 512, PayloadLength: 3, UrgentPointer: 3).ToString());
        Assert.Equal("Flags [none], win 512, length 0", new TcpRepr(1, 2, new(1000), new(2000), TcpFlags.None, 512).ToString());
        // AE: tcpdump 4.99.3 prints no letter for it; later tcpdump prints 'e' (tcp_flag_values), as NetLab does.
        Assert.Equal("Flags [.e], ack 2000, win 512, length 0", new TcpRepr(1, 2, new(1000), new(2000), TcpFlags.Ack | TcpFlags.Ae, 512).ToString());
    }

    // ---- Flags and the reserved bits ----

    [Fact]
    public void Flags_AreTheLow9Bits_AndLeaveDataOffsetAndReservedAlone()
    {
        var b = Segment(LinuxCaptures.TcpAck);
        var v = TcpHeaderView.ForEmit(b);
        v.Reserved = 0b101;
        v.Flags = TcpFlags.Ae | TcpFlags.Cwr | TcpFlags.Ece | TcpFlags.Urg | TcpFlags.Ack | TcpFlags.Psh | TcpFlags.Rst | TcpFlags.Syn | TcpFlags.Fin;
        Assert.Equal(0x8BFF, BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(12)));
        Assert.Equal(8, v.DataOffset);
        Assert.Equal(0b101, v.Reserved);
        Assert.True(v.Ae);
        v.Flags = TcpFlags.Ack;
        Assert.Equal(0x8A10, BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(12)));
        v.DataOffset = 5;
        Assert.Equal(0x5A10, BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(12)));
    }

    [Fact]
    public void ReservedBits_AreIgnoredByParse_AndClearedByEmit()
    {
        // RFC 9293 §3.1: reserved bits must be zero when sent and are ignored when received (Linux ignores them).
        var f = Expected[nameof(LinuxCaptures.TcpAck)];
        var s = Segment(LinuxCaptures.TcpAck);
        var v = TcpHeaderView.ForEmit(s);
        v.Reserved = 0b111;
        v.FillChecksum(Client, Server);
        Assert.True(TcpRepr.TryParse(s, Client, Server, out var repr));
        Assert.Equal(f.Repr, repr);
        repr.Emit(s, Client, Server);
        Assert.Equal(Hex.Format(Segment(LinuxCaptures.TcpAck)), Hex.Format(s));
    }

    // ---- Lengths: TryCreate is the only check ----

    [Theory]
    [InlineData(0x40)] // data offset 4: shorter than the fixed header (tcp_v4_rcv(): bad_packet)
    [InlineData(0x00)] // data offset 0
    [InlineData(0x90)] // data offset 9: 36 bytes, more than the 32 the ACK has
    [InlineData(0xf0)] // data offset 15
    public void BadDataOffset_IsRejected(byte offsetByte)
    {
        var s = Segment(LinuxCaptures.TcpAck);
        s[12] = offsetByte;
        Assert.False(TcpHeaderView.TryCreate(s, out _));
        Assert.False(TcpRepr.TryParse(s, Client, Server, out _));
    }

    [Fact]
    public void TooShort_IsRejected()
    {
        var s = Segment(LinuxCaptures.TcpRst);
        for (int n = 0; n < TcpHeaderView.MinLength; n++) Assert.False(TcpHeaderView.TryCreate(s.AsSpan(0, n), out _));
        Assert.True(TcpHeaderView.TryCreate(s, out _));
        var syn = Segment(LinuxCaptures.TcpSyn);
        Assert.False(TcpHeaderView.TryCreate(syn.AsSpan(0, 39), out _)); // the options are cut
    }

    [Fact]
    public void SequenceLength_CountsSynAndFin()
    {
        Assert.Equal(1, Expected[nameof(LinuxCaptures.TcpSyn)].Repr.SequenceLength);
        Assert.Equal(6, Expected[nameof(LinuxCaptures.TcpPshData)].Repr.SequenceLength);
        Assert.Equal(1, Expected[nameof(LinuxCaptures.TcpFin)].Repr.SequenceLength);
        Assert.Equal(0, Expected[nameof(LinuxCaptures.TcpAck)].Repr.SequenceLength);
        Assert.Equal(80, Expected[nameof(LinuxCaptures.TcpFastOpenSynData)].Repr.SequenceLength); // SYN + 79 bytes
        // The SYN-ACK's ack is the SYN's end_seq; the data's ack after the FIN is the FIN's end_seq (frame 7).
        Assert.Equal(Expected[nameof(LinuxCaptures.TcpSynAck)].Repr.Ack, Expected[nameof(LinuxCaptures.TcpSyn)].Repr.EndSeq);
        Assert.Equal(new SeqNum(0x7b0a212b), Expected[nameof(LinuxCaptures.TcpFin)].Repr.EndSeq);
    }

    // ---- Options: tcp_parse_options() ----

    /// <summary>
    /// Each row: an option area, and the set parsed from it, printed in Linux's layout (tcpdump style).
    /// </summary>
    [Theory]
    [InlineData("", "")]
    [InlineData("0101 0204 05b4", "mss 1460")]                                  // NOP is skipped
    [InlineData("0204 05b4 0000 0204 0578", "mss 1460")]                        // EOL ends the list: the second MSS is not read
    [InlineData("0204 05b4 0801 0402", "mss 1460")]                             // length 1 ("silly option"): stop, keep what was read
    [InlineData("0204 05b4 0800 0402", "mss 1460")]                             // length 0: stop
    [InlineData("0204 05b4 080a 0000 0001", "mss 1460")]                        // past the end ("don't parse partial options"): stop
    [InlineData("0204 05b4 0101 0108", "mss 1460")]                             // a kind with no room for its length: stop
    [InlineData("0203 0504 0201 0303 0700", "nop,nop,sackOK,nop,wscale 7")]     // MSS with length 3: ignored, skipped by its length
    [InlineData("0806 0000 0001 0402", "nop,nop,sackOK")]                       // timestamps with length 6: ignored
    [InlineData("0402 0402 0101 0303 0f00", "nop,nop,sackOK,nop,wscale 14")]   // window scale 15: clamped to 14 (TCP_MAX_WSCALE)
    [InlineData("0303 ff00", "nop,wscale 14")]                                  // 255 too
    [InlineData("0204 0000", "")]                                               // MSS 0 is ignored ("if (in_mss)")
    [InlineData("0204 05b4 0204 0218", "mss 536")]                              // a repeated option: the last one wins
    [InlineData("0101 0502 0101 050b 0000 0001 0000 0002 00", "")]              // SACK of length 2, and of 11 (not 2 + 8n): ignored
    [InlineData("1e04 abcd 0204 05b4", "mss 1460,unknown-30 0xabcd")]          // unknown (MPTCP): skipped, carried whole
    [InlineData("fe06 e2d4 c3d9 0101", "exp-e2d4,eol")]                         // SMC's experimental option: unknown, zero-padded
    [InlineData("2202 0101", "tfo  cookiereq,nop,nop")]                         // Fast Open cookie request
    [InlineData("2204 abcd", "")]                                               // a 2-byte cookie: invalid (foc->len = -1), no option
    [InlineData("2202 2204 abcd", "")]                                          // ... and it clears an earlier request
    [InlineData("2202 2203 ab00", "tfo  cookiereq,nop,nop")]                    // an odd cookie length: ignored, the request stays
    [InlineData("fe04 f989", "exp-tfo cookiereq")]                              // the experimental encoding (RFC 6994 magic 0xF989)
    [InlineData("fe08 f989 0102 0304", "exp-tfo cookie 01020304")]
    public void ParseOptions_AsLinuxDoes(string hex, string expected)
    {
        Assert.Equal(expected, TcpOptionSet.Parse(Hex.Parse(hex)).ToString());
    }

    [Fact]
    public void ParseOptions_Md5_TheFirstOneDecides()
    {
        // tcp_parse_md5sig_option() returns the first MD5 option, or NULL if its length is not 18.
        var digest = Enumerable.Range(0, 16).Select(i => (byte)i).ToArray();
        var other = Enumerable.Repeat((byte)0xEE, 16).ToArray();
        var o = TcpOptionSet.Parse([1, 1, 19, 18, .. digest, 19, 18, .. other]);
        Assert.True(o.Md5!.Value.SequenceEqual(digest));
        Assert.Null(TcpOptionSet.Parse([19, 4, 0, 0, 19, 18, .. digest]).Md5);
        Assert.Equal("nop,nop,md5 000102030405060708090a0b0c0d0e0f", o.ToString());
    }

    [Fact]
    public void ParseOptions_CarriesUnknownOptions_AndEmitsThemLast()
    {
        // AO (29) and an unknown kind 99 around an MSS: carried whole, written after Linux's options, zero-padded.
        var o = TcpOptionSet.Parse(Hex.Parse("1d06 0102 0304 0204 05b4 6303 ff00"));
        Assert.Equal("1d0601020304" + "6303ff", o.Unknown.ToString());
        Assert.Equal((ushort)1460, o.Mss);
        var b = new byte[o.Length];
        Assert.Equal(16, o.Write(b));
        Assert.Equal("020405b4" + "1d06010203046303ff000000", Hex.Format(b));
        Assert.Equal(o, TcpOptionSet.Parse(b));
    }

    // ---- Options: tcp_options_write() ----

    [Theory]
    [InlineData("ts", "0101 080a 0000 0001 0000 0002")]                          // NOP NOP TS
    [InlineData("sackperm", "0101 0402")]                                       // NOP NOP SACKPERM
    [InlineData("ts sackperm", "0402 080a 0000 0001 0000 0002")]                 // SACKPERM TS
    [InlineData("ws", "0103 0307")]                                             // NOP WS
    [InlineData("mss ws", "0204 05b4 0103 0307")]
    [InlineData("sack", "0101 050a 0000 0003 0000 0004")]                       // NOP NOP SACK
    [InlineData("md5 mss", "0101 1312 0001 0203 0405 0607 0809 0a0b 0c0d 0e0f 0204 05b4")] // MD5 first
    [InlineData("mss ts sackperm ws sack tfo md5", null)]                        // 64 bytes: does not fit
    public void WriteOptions_InLinuxOrder(string which, string? expected)
    {
        var o = new TcpOptionSet
        {
            Mss = which.Contains("mss") ? (ushort)1460 : null,
            Timestamp = which.Contains("ts") ? new TcpTimestamp(1, 2) : null,
            SackPermitted = which.Contains("sackperm"),
            WindowScale = which.Contains("ws") ? (byte)7 : null,
            SackBlocks = which.Split(' ').Contains("sack") ? new(Block(3, 4)) : default,
            FastOpen = which.Contains("tfo") ? new TcpFastOpenCookie(Cookie) : null,
            Md5 = which.Contains("md5") ? new TcpOptionBytes(Enumerable.Range(0, 16).Select(i => (byte)i).ToArray()) : null,
        };
        var b = new byte[TcpOptionLength.MaxSpace];
        if (expected is null)
        {
            Assert.True(o.Length > TcpOptionLength.MaxSpace);
            Assert.Throws<InvalidOperationException>(() => o.Write(b));
            return;
        }
        int n = o.Write(b);
        Assert.Equal(n, o.Length);
        Assert.Equal(0, n % 4);
        Assert.Equal(expected.Replace(" ", ""), Hex.Format(b.AsSpan(0, n)));
        Assert.Equal(o, TcpOptionSet.Parse(b.AsSpan(0, n)));
    }

    [Theory]
    [InlineData(0, false, "2202 0101")]                                          // length 2: two NOPs after it
    [InlineData(4, false, "2206 a0a1 a2a3 0101")]                                // length 6: NOPs
    [InlineData(6, false, "2208 a0a1 a2a3 a4a5")]                                // length 8: no pad
    [InlineData(8, false, "220a a0a1 a2a3 a4a5 a6a7 0101")]                      // length 10, as captured
    [InlineData(16, false, "2212 a0a1 a2a3 a4a5 a6a7 a8a9 aaab acad aeaf 0101")] // length 18
    [InlineData(0, true, "fe04 f989")]                                           // EXP: kind, length and magic fill a word
    [InlineData(6, true, "fe0a f989 a0a1 a2a3 a4a5 0101")]
    [InlineData(8, true, "fe0c f989 a0a1 a2a3 a4a5 a6a7")]
    public void WriteFastOpen_PadsAsLinuxDoes(int cookieLength, bool experimental, string expected)
    {
        var cookie = Enumerable.Range(0xa0, cookieLength).Select(i => (byte)i).ToArray();
        var o = new TcpOptionSet { FastOpen = new TcpFastOpenCookie(cookie, experimental) };
        var b = new byte[o.Length];
        o.Write(b);
        Assert.Equal(expected.Replace(" ", ""), Hex.Format(b));
        Assert.Equal(o, TcpOptionSet.Parse(b));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(18)]
    public void FastOpenCookie_OfAnInvalidLength_IsRefused(int length) =>
        Assert.Throws<ArgumentException>(() => new TcpFastOpenCookie(new byte[length]));

    [Fact]
    public void Md5_OfAnotherLength_IsRefused() =>
        Assert.Throws<ArgumentException>(() => new TcpOptionSet { Md5 = new TcpOptionBytes(new byte[15]) });

    [Fact]
    public void OptionBytes_CompareByContent()
    {
        Assert.Equal(new TcpOptionBytes([1, 2, 3]), new TcpOptionBytes([1, 2, 3]));
        Assert.NotEqual(new TcpOptionBytes([1, 2, 3]), new TcpOptionBytes([1, 2]));
        Assert.NotEqual(new TcpOptionBytes([1, 2, 3]), new TcpOptionBytes([1, 2, 4]));
        Assert.Equal(new TcpOptionBytes([1, 2, 3]).GetHashCode(), new TcpOptionBytes([1, 2, 3]).GetHashCode());
        Assert.Throws<ArgumentException>(() => new TcpOptionBytes(new byte[41]));
    }

    // ---- Property tests ----

    private static readonly Gen<TcpTimestamp> GenTs = Gen.Select(Gen.UInt, Gen.UInt, (v, e) => new TcpTimestamp(v, e));

    /// <summary>Valid cookies: none (a request) or 4..16 bytes, even; either encoding.</summary>
    private static readonly Gen<TcpFastOpenCookie> GenTfo = Gen.Select(Gen.Int[0, 7], Gen.Byte.Array[16], Gen.Bool,
        (k, bytes, exp) => new TcpFastOpenCookie(bytes.AsSpan(0, k == 0 ? 0 : 2 + 2 * k), exp));

    private static readonly Gen<TcpOptionBytes> GenMd5 = Gen.Byte.Array[16].Select(b => new TcpOptionBytes(b));

    private static readonly Gen<TcpSackBlocks> GenSack = Gen.Select(Gen.UInt, Gen.UInt).Array[1, 4]
        .Select(a => new TcpSackBlocks(a.Select(x => Block(x.Item1, x.Item2)).ToArray()));

    /// <summary>What Linux can put on a SYN or SYN-ACK: MSS, SACK-permitted, timestamps, window scale, Fast Open, MD5.</summary>
    private static readonly Gen<TcpOptionSet> GenSynOptions = Gen.Select(
            Gen.UShort[1, 65535].Nullable(), Gen.Bool, GenTs.Nullable(), Gen.Byte[0, 14].Nullable(), GenTfo.Nullable(), GenMd5.Nullable(0.8))
        .Select((mss, sackPerm, ts, ws, tfo, md5) =>
            new TcpOptionSet { Mss = mss, SackPermitted = sackPerm, Timestamp = ts, WindowScale = ws, FastOpen = tfo, Md5 = md5 })
        .Where(o => o.Length <= TcpOptionLength.MaxSpace);

    /// <summary>What Linux can put on other segments: timestamps, SACK blocks (as many as fit), MD5.</summary>
    private static readonly Gen<TcpOptionSet> GenOtherOptions = Gen.Select(GenTs.Nullable(), GenSack.Nullable(0.5), GenMd5.Nullable(0.8))
        .Select((ts, sack, md5) => new TcpOptionSet { Timestamp = ts, SackBlocks = sack ?? default, Md5 = md5 })
        .Where(o => o.Length <= TcpOptionLength.MaxSpace);

    private static readonly Gen<(Ipv4Address Src, Ipv4Address Dst, TcpRepr Repr, byte[] Payload)> GenSegment =
        Gen.Select(
            Gen.Select(Gen.Bool, GenSynOptions, GenOtherOptions, Gen.UShort[0, 0x1FF], Gen.Byte.Array[0, 600],
                Gen.Select(Gen.UShort, Gen.UShort, Gen.UInt, Gen.UInt, Gen.UShort, Gen.UShort)),
            GenIp, GenIp, (x, src, dst) =>
            {
                var (syn, synOptions, otherOptions, flagBits, payload, (sp, dp, seq, ack, win, urg)) = x;
                var flags = syn ? (TcpFlags)flagBits | TcpFlags.Syn : (TcpFlags)flagBits & ~TcpFlags.Syn;
                var repr = new TcpRepr(sp, dp, new(seq), new(ack), flags, win, syn ? synOptions : otherOptions, payload.Length, urg);
                return (src, dst, repr, payload);
            });

    private static byte[] Build(TcpRepr repr, byte[] payload, Ipv4Address src, Ipv4Address dst)
    {
        var b = Stale(repr.HeaderLength + payload.Length);
        payload.CopyTo(b, repr.HeaderLength);
        repr.Emit(b, src, dst);
        return b;
    }

    [Fact]
    public void EmitThenParse_RoundTrips()
    {
        GenSegment.Sample(x =>
        {
            var b = Build(x.Repr, x.Payload, x.Src, x.Dst);
            Assert.True(TcpHeaderView.TryCreate(b, out var v));
            Assert.Equal(x.Repr.HeaderLength, v.HeaderLength);
            Assert.Equal(0, v.HeaderLength % 4);
            Assert.True(v.HeaderLength <= TcpHeaderView.MaxLength);
            Assert.Equal(x.Payload, v.Payload.ToArray());
            Assert.True(TcpRepr.TryParse(v, x.Src, x.Dst, out var back));
            Assert.Equal(x.Repr, back);
        }, iter: 2000);
    }

    [Fact]
    public void AnySingleBitFlip_IsRejected()
    {
        // One flipped bit changes one 16-bit word by ±2^k, which the one's complement sum always sees.
        Gen.Select(GenSegment, Gen.Int[0, int.MaxValue]).Sample((x, pick) =>
        {
            var b = Build(x.Repr, x.Payload, x.Src, x.Dst);
            int bit = pick % (b.Length * 8);
            b[bit / 8] ^= (byte)(0x80 >> (bit % 8));
            Assert.False(TcpRepr.TryParse(b, x.Src, x.Dst, out _));
        }, iter: 2000);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void CorruptedChecksum_OfTheCapture_IsRejected(string fixture)
    {
        var f = Expected[fixture];
        var s = Segment(Frame(fixture));
        s[17] ^= 0x01;
        Assert.False(TcpRepr.TryParse(s, f.Src, f.Dst, out _));
        s[17] ^= 0x01;
        Assert.False(TcpRepr.TryParse(s, f.Dst, f.Src with { Value = f.Src.Value ^ 0x100 }, out _));
    }

    private static readonly byte[][] Seeds = [.. Expected.Keys.Select(k => Segment(Frame(k)))];

    [Fact]
    public void RandomBytes_NeverThrow()
    {
        Gen.Select(Fuzz(Seeds), GenIp, GenIp).Sample((b, src, dst) =>
        {
            TcpRepr.TryParse(b, src, dst, out _);
            if (TcpHeaderView.TryCreate(b, out var v))
            {
                _ = v.Payload.Length + v.Options.Length + v.Checksum + (int)v.Flags + v.Reserved + (v.VerifyChecksum(src, dst) ? 1 : 0);
                var o = TcpOptionSet.Parse(v.Options);
                _ = o.ToString();
                var sb = new StringBuilder();
                TcpOptionPrinter.Append(sb, v.Options);
            }
        }, iter: 5000);
    }

    [Fact]
    public void RandomOptionAreas_NeverThrow_AndReparseStably()
    {
        // Random option bytes, and real option areas with a few bytes overwritten.
        var areas = Seeds.Select(s => { TcpHeaderView.TryCreate(s, out var v); return v.Options.ToArray(); }).Where(a => a.Length > 0).ToArray();
        Gen.Frequency((1, Gen.Byte.Array[0, 40]), (3, Fuzz(areas))).Sample(b =>
        {
            var o = TcpOptionSet.Parse(b);
            var sb = new StringBuilder();
            TcpOptionPrinter.Append(sb, b);
            _ = o.ToString();
            if (o.Length > TcpOptionLength.MaxSpace) return; // e.g. many unknown options plus SACK: Linux would not send it
            // What was understood is written in Linux's layout and reads back the same.
            var w = new byte[o.Length];
            o.Write(w);
            Assert.Equal(o, TcpOptionSet.Parse(w));
        }, iter: 5000);
    }

    [Fact]
    public void Parse_AllocatesNothing()
    {
        var s = Segment(LinuxCaptures.TcpFastOpenSynAckCookie);
        var sack = Segment(LinuxCaptures.TcpSackAck3);
        for (int i = 0; i < 10; i++) { TcpRepr.TryParse(s, Server, Client, out _); TcpRepr.TryParse(sack, Server, Client, out _); }
        long before = GC.GetAllocatedBytesForCurrentThread();
        int ok = 0;
        for (int i = 0; i < 1000; i++)
        {
            if (TcpRepr.TryParse(s, Server, Client, out var r) && r.Options.FastOpen is not null) ok++;
            if (TcpRepr.TryParse(sack, Server, Client, out r) && r.Options.SackBlocks.Count == 3) ok++;
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(2000, ok);
    }

    // ---- SeqNum: Linux's before()/after()/between() ----

    [Fact]
    public void SeqNum_Before_IsAntisymmetric_ExceptExactlyHalfTheSpaceApart()
    {
        Gen.Select(Gen.UInt, Gen.UInt).Sample((x, y) =>
        {
            SeqNum a = new(x), b = new(y);
            Assert.Equal(SeqNum.Before(a, b), SeqNum.After(b, a));
            if (a == b) { Assert.False(SeqNum.Before(a, b) || SeqNum.After(a, b)); return; }
            if (unchecked(x - y) == 0x8000_0000u)
                Assert.True(SeqNum.Before(a, b) && SeqNum.Before(b, a)); // (s32)(a - b) is INT_MIN both ways, as in Linux
            else
                Assert.NotEqual(SeqNum.Before(a, b), SeqNum.Before(b, a));
        }, iter: 5000);
        // The two halves, pinned.
        Assert.True(SeqNum.Before(new(0), new(0x7FFF_FFFF)));
        Assert.False(SeqNum.Before(new(0), new(0x8000_0001)));
        Assert.True(SeqNum.Before(new(0), new(0x8000_0000)) && SeqNum.Before(new(0x8000_0000), new(0)));
    }

    [Fact]
    public void SeqNum_WrapsAt2To32()
    {
        Gen.Select(Gen.UInt, Gen.UInt[1, 0x7FFF_FFFF], Gen.UInt).Sample((x, k, shift) =>
        {
            SeqNum a = new(x), b = a + k; // b may wrap past 2^32
            Assert.True(SeqNum.Before(a, b));
            Assert.True(SeqNum.After(b, a));
            Assert.Equal((int)k, b - a);
            Assert.Equal(a, b - (int)k);
            // Shifting both by any amount changes nothing: the comparison only sees the difference.
            Assert.Equal(SeqNum.Before(a, b), SeqNum.Before(a + shift, b + shift));
        }, iter: 5000);
        Assert.True(SeqNum.Before(new(0xFFFF_FFF0), new(0x10)));
        Assert.Equal(new SeqNum(0x10), new SeqNum(0xFFFF_FFF0) + 0x20);
        Assert.Equal(0x20, new SeqNum(0x10) - new SeqNum(0xFFFF_FFF0));
        Assert.Equal(new SeqNum(0x10), SeqNum.Max(new(0xFFFF_FFF0), new(0x10)));
        Assert.Equal(new SeqNum(0xFFFF_FFF0), SeqNum.Min(new(0xFFFF_FFF0), new(0x10)));
    }

    [Fact]
    public void SeqNum_Between_IsInclusive_AndAgreesWithBeforeAfter()
    {
        Gen.Select(Gen.UInt, Gen.UInt[0, 0x7FFF_FFFF], Gen.UInt).Sample((low, width, x) =>
        {
            SeqNum l = new(low), h = l + width, s = new(x);
            bool inside = unchecked(x - low) <= width;
            Assert.Equal(inside, SeqNum.Between(s, l, h));
            // Under half the space wide, between() is "not before low and not after high".
            Assert.Equal(!SeqNum.Before(s, l) && !SeqNum.After(s, h), SeqNum.Between(s, l, h));
            Assert.True(SeqNum.Between(l, l, h) && SeqNum.Between(h, l, h));
        }, iter: 5000);
        Assert.True(SeqNum.Between(new(2), new(0xFFFF_FFFE), new(5))); // across the wrap
        Assert.False(SeqNum.Between(new(6), new(0xFFFF_FFFE), new(5)));
    }
}
