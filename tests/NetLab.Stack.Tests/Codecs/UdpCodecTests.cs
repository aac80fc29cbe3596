using System.Buffers.Binary;
using System.Text;
using CsCheck;
using NetLab.Core;
using NetLab.Core.Addressing;
using NetLab.Core.Checksums;
using NetLab.Stack.IPv4;
using NetLab.Stack.Udp;
using static NetLab.Stack.Tests.Codecs.CodecTestHelpers;

namespace NetLab.Stack.Tests.Codecs;

public class UdpCodecTests
{
    private const int At = LinuxCaptures.EthernetLength + Ipv4HeaderView.MinLength;
    private static readonly Ipv4Address Ip1 = Ipv4Address.Parse("10.77.9.1");
    private static readonly Ipv4Address Ip2 = Ipv4Address.Parse("10.77.9.2");

    // UDP 10.77.9.1:40000 -> 10.77.9.2:7777, "hi\n": 9c40 1e61 000b ac30 6869 0a
    private static byte[] Datagram => LinuxCaptures.UdpHi[At..];
    private static readonly UdpRepr HiRepr = new(40000, 7777, 3);

    [Fact]
    public void Deconstruct()
    {
        var d = Datagram;
        Assert.True(UdpHeaderView.TryCreate(d, out var v));
        Assert.Equal(40000, v.SourcePort);
        Assert.Equal(7777, v.DestinationPort);
        Assert.Equal(11, v.DatagramLength);
        Assert.Equal(0xac30, v.Checksum);
        Assert.Equal("hi\n", Encoding.ASCII.GetString(v.Payload));
        Assert.True(v.VerifyChecksum(Ip1, Ip2));
        Assert.False(v.VerifyChecksum(Ip1, Ipv4Address.Parse("10.77.9.3"))); // the pseudo-header binds the addresses
    }

    [Fact]
    public void Construct()
    {
        var b = WithStaleHeader(Datagram, 0, UdpHeaderView.Length);
        var v = UdpHeaderView.ForEmit(b);
        v.SourcePort = 40000;
        v.DestinationPort = 7777;
        v.DatagramLength = 11;
        v.FillChecksum(Ip1, Ip2);
        Assert.Equal(Hex.Format(Datagram), Hex.Format(b));
    }

    [Fact]
    public void Parse()
    {
        Assert.True(UdpRepr.TryParse(Datagram, Ip1, Ip2, out var repr));
        Assert.Equal(HiRepr, repr);
        Assert.Equal("UDP, 40000 > 7777, length 3", repr.ToString());
    }

    [Fact]
    public void Emit()
    {
        var b = WithStaleHeader(Datagram, 0, UdpHeaderView.Length);
        HiRepr.Emit(b, Ip1, Ip2);
        Assert.Equal(Hex.Format(Datagram), Hex.Format(b));
    }

    [Fact]
    public void ZeroChecksum_MeansNone_AndIsAccepted()
    {
        // RFC 768: an all-zero checksum field means the sender computed none.
        var d = Datagram;
        d[6] = d[7] = 0;
        Assert.True(UdpRepr.TryParse(d, Ip1, Ip2, out var repr));
        Assert.Equal(HiRepr, repr);
    }

    [Fact]
    public void AComputedZero_IsSentAsAllOnes()
    {
        // RFC 768: if the computed checksum is zero it is transmitted as 0xFFFF. Pick the payload's last
        // word so that the one's-complement sum comes to 0xFFFF, then the checksum would be 0x0000.
        var evenLength = Gen.Byte.Array[0, 40].Select(a => a.Length % 2 == 0 ? a : a[..^1]); // keep that word aligned
        Gen.Select(GenIp, GenIp, Gen.UShort, Gen.UShort, evenLength).Sample((src, dst, sp, dp, data) =>
        {
            var b = new byte[UdpHeaderView.Length + data.Length + 2];
            data.CopyTo(b, UdpHeaderView.Length);
            var v = UdpHeaderView.ForEmit(b);
            v.SourcePort = sp;
            v.DestinationPort = dp;
            v.DatagramLength = (ushort)b.Length;
            ushort rest = InternetChecksum.Fold(InternetChecksum.Add(InternetChecksum.PseudoHeader(src, dst, 17, b.Length), b));
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(b.Length - 2), (ushort)~rest);
            new UdpRepr(sp, dp, data.Length + 2).Emit(b, src, dst);
            Assert.Equal(0xFFFF, v.Checksum);
            Assert.True(UdpRepr.TryParse(b, src, dst, out _));
        });
    }

    [Theory]
    [InlineData(7)]  // shorter than the header
    [InlineData(12)] // longer than the 11 bytes there are
    public void BadLengthField_IsRejected(ushort length)
    {
        var d = Datagram;
        BinaryPrimitives.WriteUInt16BigEndian(d.AsSpan(4), length);
        Assert.False(UdpHeaderView.TryCreate(d, out _));
        Assert.False(UdpRepr.TryParse(d, Ip1, Ip2, out _));
    }

    [Fact]
    public void TrailingBytes_BeyondTheLengthField_AreNotPayload()
    {
        var d = new byte[20];
        Datagram.CopyTo(d, 0);
        Assert.True(UdpRepr.TryParse(d, Ip1, Ip2, out var repr));
        Assert.Equal(3, repr.PayloadLength);
    }

    private static readonly Gen<(Ipv4Address Src, Ipv4Address Dst, UdpRepr Repr, byte[] Payload)> GenDatagram =
        Gen.Select(GenIp, GenIp, Gen.UShort, Gen.UShort, Gen.Byte.Array[0, 600])
            .Select((s, d, sp, dp, payload) => (s, d, new UdpRepr(sp, dp, payload.Length), payload));

    private static byte[] Build(UdpRepr repr, byte[] payload, Ipv4Address src, Ipv4Address dst)
    {
        var b = Stale(UdpHeaderView.Length + payload.Length);
        payload.CopyTo(b, UdpHeaderView.Length);
        repr.Emit(b, src, dst);
        return b;
    }

    [Fact]
    public void EmitThenParse_RoundTrips()
    {
        GenDatagram.Sample(x =>
        {
            var b = Build(x.Repr, x.Payload, x.Src, x.Dst);
            Assert.True(UdpRepr.TryParse(b, x.Src, x.Dst, out var back));
            Assert.Equal(x.Repr, back);
            Assert.NotEqual(0, UdpHeaderView.ForEmit(b).Checksum);
        });
    }

    [Fact]
    public void AnySingleBitFlip_IsRejected()
    {
        Gen.Select(GenDatagram, Gen.Int[0, int.MaxValue]).Sample((x, pick) =>
        {
            var b = Build(x.Repr, x.Payload, x.Src, x.Dst);
            int bit = pick % (b.Length * 8);
            b[bit / 8] ^= (byte)(0x80 >> (bit % 8));
            if (BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(6)) == 0) return; // flipped into "no checksum": valid by RFC 768
            Assert.False(UdpRepr.TryParse(b, x.Src, x.Dst, out _));
        }, iter: 2000);
    }

    [Fact]
    public void CorruptedChecksum_OfTheCapture_IsRejected()
    {
        var d = Datagram;
        d[7] ^= 0x40;
        Assert.False(UdpRepr.TryParse(d, Ip1, Ip2, out _));
    }

    [Fact]
    public void RandomBytes_NeverThrow()
    {
        Gen.Select(Fuzz(Datagram, LinuxCaptures.PortUnreachable[(At + 28)..]), GenIp, GenIp).Sample((b, src, dst) =>
        {
            UdpRepr.TryParse(b, src, dst, out _);
            if (UdpHeaderView.TryCreate(b, out var v)) _ = v.Payload.Length + v.Checksum + (v.VerifyChecksum(src, dst) ? 1 : 0);
        }, iter: 2000);
    }
}
