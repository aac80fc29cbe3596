using CsCheck;
using NetLab.Core;
using NetLab.Core.Addressing;
using NetLab.Stack.Icmp;
using NetLab.Stack.IPv4;
using NetLab.Stack.Udp;
using static NetLab.Stack.Tests.Codecs.CodecTestHelpers;

namespace NetLab.Stack.Tests.Codecs;

public class IcmpCodecTests
{
    private const int At = LinuxCaptures.EthernetLength + Ipv4HeaderView.MinLength;
    private static readonly Ipv4Address Ip1 = Ipv4Address.Parse("10.77.9.1");
    private static readonly Ipv4Address Ip2 = Ipv4Address.Parse("10.77.9.2");
    private static readonly Ipv4Address Far = Ipv4Address.Parse("10.77.10.2");

    private static byte[] Message(string fixture) => Frame(fixture)[At..];

    private static byte[] Frame(string name) => (byte[])typeof(LinuxCaptures).GetField(name)!.GetValue(null)!;

    /// <summary>Each captured ICMP message and its meaning.</summary>
    private static readonly Dictionary<string, IcmpRepr> Expected = new()
    {
        [nameof(LinuxCaptures.EchoRequest)] = new(IcmpType.EchoRequest, 0, 0x3055_0001, 56),
        [nameof(LinuxCaptures.EchoReply)] = new(IcmpType.EchoReply, 0, 0x3055_0001, 56),
        [nameof(LinuxCaptures.TimeExceeded)] = new(IcmpType.TimeExceeded, IcmpCode.TtlExceeded, 0, 84),
        [nameof(LinuxCaptures.FragNeeded)] = new(IcmpType.DestinationUnreachable, IcmpCode.FragmentationNeeded, 1280, 548),
        [nameof(LinuxCaptures.PortUnreachable)] = new(IcmpType.DestinationUnreachable, IcmpCode.PortUnreachable, 0, 31),
    };

    public static TheoryData<string> Fixtures => [.. Expected.Keys];

    [Fact]
    public void Deconstruct_EchoRequest()
    {
        var m = Message(nameof(LinuxCaptures.EchoRequest));
        Assert.True(IcmpHeaderView.TryCreate(m, out var v));
        Assert.Equal(IcmpType.EchoRequest, v.Type);
        Assert.Equal(0, v.Code);
        Assert.Equal(0x3cdf, v.Checksum);
        Assert.Equal(0x3055, v.Identifier);
        Assert.Equal(1, v.Sequence);
        Assert.Equal(0x3055_0001u, v.RestOfHeader);
        Assert.Equal(56, v.Payload.Length);
        // iputils puts a struct timeval first, then the pattern 0x10, 0x11, ...
        Assert.Equal(Enumerable.Range(0x10, 40).Select(i => (byte)i), v.Payload[16..].ToArray());
        Assert.True(v.VerifyChecksum());
    }

    [Fact]
    public void Deconstruct_EchoReply()
    {
        var m = Message(nameof(LinuxCaptures.EchoReply));
        Assert.True(IcmpHeaderView.TryCreate(m, out var v));
        Assert.Equal((IcmpType.EchoReply, (byte)0, (ushort)0x44df, (ushort)0x3055, (ushort)1), (v.Type, v.Code, v.Checksum, v.Identifier, v.Sequence));
        // The reply echoes the request's data unchanged.
        Assert.Equal(Message(nameof(LinuxCaptures.EchoRequest))[8..], v.Payload.ToArray());
        Assert.True(v.VerifyChecksum());
    }

    [Fact]
    public void Deconstruct_TimeExceeded_QuotesTheWholeOriginalDatagram()
    {
        var m = Message(nameof(LinuxCaptures.TimeExceeded));
        Assert.True(IcmpHeaderView.TryCreate(m, out var v));
        Assert.Equal((IcmpType.TimeExceeded, IcmpCode.TtlExceeded, (ushort)0xf4ff, 0u), (v.Type, v.Code, v.Checksum, v.RestOfHeader));
        Assert.True(v.VerifyChecksum());

        // The quote is the 84-byte echo request as it arrived at the router, TTL 1.
        Assert.True(Ipv4Repr.TryParse(v.Payload, out var inner));
        Assert.Equal(new Ipv4Repr(Ip1, Far, IpProtocol.Icmp, 64, Ttl: 1, Identification: 0xb3c2, DontFragment: true), inner);
        Assert.True(IcmpRepr.TryParse(v.Payload[20..], out var innerIcmp));
        Assert.Equal(new IcmpRepr(IcmpType.EchoRequest, 0, 0x3056_0001, 56), innerIcmp);
    }

    [Fact]
    public void Deconstruct_FragNeeded_CarriesTheNextHopMtu_AndATruncatedQuote()
    {
        var m = Message(nameof(LinuxCaptures.FragNeeded));
        Assert.True(IcmpHeaderView.TryCreate(m, out var v));
        Assert.Equal((IcmpType.DestinationUnreachable, IcmpCode.FragmentationNeeded, (ushort)0x0ec9), (v.Type, v.Code, v.Checksum));
        Assert.Equal(1280, v.NextHopMtu); // RFC 1191 §4: the low 16 bits of the second word
        Assert.Equal(0, v.Identifier);    // the "unused" half is zero
        Assert.True(v.VerifyChecksum());

        // Linux quotes as much as fits in 576 bytes, so the 1428-byte original is cut to 548 bytes:
        // a View with the length check refuses it, and the ICMP error path reads the quoted header unchecked.
        Assert.Equal(548, v.Payload.Length);
        Assert.False(Ipv4HeaderView.TryCreate(v.Payload, out _));
        var quoted = Ipv4HeaderView.ForEmit(v.Payload);
        Assert.Equal((1428, true, (ushort)0, Ip1, Far), ((int)quoted.TotalLength, quoted.DontFragment, quoted.Identification, quoted.Source, quoted.Destination));
        Assert.True(quoted.VerifyChecksum());
    }

    [Fact]
    public void Deconstruct_PortUnreachable_QuotesTheUdpDatagram()
    {
        var m = Message(nameof(LinuxCaptures.PortUnreachable));
        Assert.True(IcmpHeaderView.TryCreate(m, out var v));
        Assert.Equal((IcmpType.DestinationUnreachable, IcmpCode.PortUnreachable, (ushort)0x23b6), (v.Type, v.Code, v.Checksum));
        Assert.True(Ipv4Repr.TryParse(v.Payload, out var inner));
        Assert.Equal(IpProtocol.Udp, inner.Protocol);
        Assert.True(UdpRepr.TryParse(v.Payload[20..], inner.Source, inner.Destination, out var udp));
        Assert.Equal(new UdpRepr(38515, 9, 3), udp);
    }

    [Fact]
    public void Construct_EchoRequest()
    {
        var m = Message(nameof(LinuxCaptures.EchoRequest));
        var b = WithStaleHeader(m, 0, IcmpHeaderView.Length);
        var v = IcmpHeaderView.ForEmit(b);
        v.Type = IcmpType.EchoRequest;
        v.Code = 0;
        v.Identifier = 0x3055;
        v.Sequence = 1;
        v.FillChecksum();
        Assert.Equal(Hex.Format(m), Hex.Format(b));
    }

    [Fact]
    public void Construct_FragNeeded()
    {
        var m = Message(nameof(LinuxCaptures.FragNeeded));
        var b = WithStaleHeader(m, 0, IcmpHeaderView.Length);
        var v = IcmpHeaderView.ForEmit(b);
        v.Type = IcmpType.DestinationUnreachable;
        v.Code = IcmpCode.FragmentationNeeded;
        v.RestOfHeader = 1280;
        v.Checksum = 0x0ec9;
        Assert.Equal(Hex.Format(m), Hex.Format(b));
        Assert.True(v.VerifyChecksum());
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Parse(string fixture)
    {
        Assert.True(IcmpRepr.TryParse(Message(fixture), out var repr));
        Assert.Equal(Expected[fixture], repr);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Emit(string fixture)
    {
        var m = Message(fixture);
        var b = WithStaleHeader(m, 0, IcmpHeaderView.Length); // the payload is in place; Emit writes the header and checksum
        Expected[fixture].Emit(b);
        Assert.Equal(Hex.Format(m), Hex.Format(b));
    }

    [Fact]
    public void Repr_ExposesEchoFields_AndPrintsLikeTcpdump()
    {
        var repr = Expected[nameof(LinuxCaptures.EchoRequest)];
        Assert.Equal((0x3055, 1), (repr.Identifier, repr.Sequence));
        Assert.Equal("ICMP echo request, id 12373, seq 1, length 64", repr.ToString());
        Assert.Equal("ICMP echo reply, id 12373, seq 1, length 64", Expected[nameof(LinuxCaptures.EchoReply)].ToString());
        Assert.Equal("ICMP unreachable - need to frag (mtu 1280)", Expected[nameof(LinuxCaptures.FragNeeded)].ToString());
    }

    [Fact]
    public void TooShort_IsRejected()
    {
        Assert.False(IcmpHeaderView.TryCreate(new byte[7], out _));
        Assert.False(IcmpRepr.TryParse(Message(nameof(LinuxCaptures.EchoRequest))[..7], out _));
    }

    private static readonly Gen<(IcmpRepr Repr, byte[] Payload)> GenMessage =
        Gen.Select(Gen.Byte, Gen.Byte, Gen.UInt, Gen.Byte.Array[0, 600])
            .Select((type, code, rest, payload) => (new IcmpRepr(type, code, rest, payload.Length), payload));

    private static byte[] Build(IcmpRepr repr, byte[] payload)
    {
        var b = Stale(IcmpHeaderView.Length + payload.Length);
        payload.CopyTo(b, IcmpHeaderView.Length);
        repr.Emit(b);
        return b;
    }

    [Fact]
    public void EmitThenParse_RoundTrips()
    {
        GenMessage.Sample(m =>
        {
            var b = Build(m.Repr, m.Payload);
            Assert.True(IcmpRepr.TryParse(b, out var back));
            Assert.Equal(m.Repr, back);
        });
    }

    [Fact]
    public void AnySingleBitFlip_IsRejected()
    {
        Gen.Select(GenMessage, Gen.Int[0, int.MaxValue]).Sample((m, pick) =>
        {
            var b = Build(m.Repr, m.Payload);
            int bit = pick % (b.Length * 8);
            b[bit / 8] ^= (byte)(0x80 >> (bit % 8));
            Assert.False(IcmpRepr.TryParse(b, out _));
            Assert.True(IcmpRepr.TryParse(b, out _, verifyChecksum: false));
        }, iter: 2000);
    }

    [Fact]
    public void CorruptedChecksum_OfACapture_IsRejected()
    {
        foreach (var fixture in Expected.Keys)
        {
            var m = Message(fixture);
            m[3] ^= 0x01;
            Assert.False(IcmpRepr.TryParse(m, out _), fixture);
        }
    }

    [Fact]
    public void RandomBytes_NeverThrow()
    {
        Fuzz(Message(nameof(LinuxCaptures.EchoRequest)), Message(nameof(LinuxCaptures.TimeExceeded)), Message(nameof(LinuxCaptures.FragNeeded)))
            .Sample(b =>
            {
                if (IcmpRepr.TryParse(b, out var repr)) _ = repr.ToString();
                IcmpRepr.TryParse(b, out _, verifyChecksum: false);
                if (IcmpHeaderView.TryCreate(b, out var v)) _ = v.Payload.Length + v.NextHopMtu + v.Identifier + v.Sequence;
            }, iter: 2000);
    }
}
