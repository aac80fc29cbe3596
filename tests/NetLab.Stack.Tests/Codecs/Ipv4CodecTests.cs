using System.Buffers.Binary;
using CsCheck;
using NetLab.Core;
using NetLab.Core.Addressing;
using NetLab.Core.Checksums;
using NetLab.Stack.Icmp;
using NetLab.Stack.IPv4;
using static NetLab.Stack.Tests.Codecs.CodecTestHelpers;

namespace NetLab.Stack.Tests.Codecs;

public class Ipv4CodecTests
{
    private const int At = LinuxCaptures.EthernetLength;
    private static readonly Ipv4Address Ip1 = Ipv4Address.Parse("10.77.9.1");
    private static readonly Ipv4Address Ip2 = Ipv4Address.Parse("10.77.9.2");

    private static byte[] Datagram(byte[] frame) => frame[At..];
    private static byte[] Header(byte[] frame) => frame[At..(At + Ipv4HeaderView.MinLength)];

    /// <summary>The meaning of each captured option-less header, as Linux sent it.</summary>
    private static readonly Dictionary<string, Ipv4Repr> Expected = new()
    {
        [nameof(LinuxCaptures.EchoRequest)] = new(Ip1, Ip2, IpProtocol.Icmp, 64, Ttl: 64, Identification: 0xec0f, DontFragment: true),
        [nameof(LinuxCaptures.EchoReply)] = new(Ip2, Ip1, IpProtocol.Icmp, 64, Ttl: 64, Identification: 0x4239),
        [nameof(LinuxCaptures.TimeExceeded)] = new(Ip2, Ip1, IpProtocol.Icmp, 92, Ttl: 64, Tos: 0xc0, Identification: 0x423a),
        [nameof(LinuxCaptures.FragNeeded)] = new(Ip2, Ip1, IpProtocol.Icmp, 556, Ttl: 64, Tos: 0xc0, Identification: 0x423b),
        [nameof(LinuxCaptures.UdpHi)] = new(Ip1, Ip2, IpProtocol.Udp, 11, Ttl: 64, Identification: 0x947f, DontFragment: true),
        [nameof(LinuxCaptures.LastFragment)] = new(Ip1, Ip2, IpProtocol.Icmp, 128, Ttl: 64, Identification: 0xf185, FragmentOffset: 1480),
    };

    public static TheoryData<string> Fixtures => [.. Expected.Keys];

    private static byte[] Frame(string name) =>
        (byte[])typeof(LinuxCaptures).GetField(name)!.GetValue(null)!;

    [Fact]
    public void Deconstruct()
    {
        // ICMP echo request: 4500 0054 ec0f 4000 4001 27fd 0a4d0901 0a4d0902
        var d = Datagram(LinuxCaptures.EchoRequest);
        Assert.True(Ipv4HeaderView.TryCreate(d, out var v));
        Assert.Equal(4, v.Version);
        Assert.Equal(20, v.HeaderLength);
        Assert.Equal(0, v.Tos);
        Assert.Equal(84, v.TotalLength);
        Assert.Equal(0xec0f, v.Identification);
        Assert.Equal(0x4000, v.FlagsAndOffset);
        Assert.True(v.DontFragment);
        Assert.False(v.MoreFragments);
        Assert.Equal(0, v.FragmentOffset);
        Assert.False(v.IsFragment);
        Assert.Equal(64, v.Ttl);
        Assert.Equal(IpProtocol.Icmp, v.Protocol);
        Assert.Equal(0x27fd, v.Checksum);
        Assert.Equal(Ip1, v.Source);
        Assert.Equal(Ip2, v.Destination);
        Assert.Equal(0, v.Options.Length);
        Assert.Equal(64, v.Payload.Length);
        Assert.Equal(IcmpType.EchoRequest, v.Payload[0]);
        Assert.True(v.VerifyChecksum());
    }

    [Fact]
    public void Deconstruct_WithOptions()
    {
        // ping -R: IHL 15, a NOP and then a 39-byte record route option whose first slot holds the sender.
        var d = Datagram(LinuxCaptures.RecordRouteEchoRequest);
        Assert.True(Ipv4HeaderView.TryCreate(d, out var v));
        Assert.Equal(60, v.HeaderLength);
        Assert.Equal(124, v.TotalLength);
        Assert.Equal(40, v.Options.Length);
        Assert.Equal(new byte[] { 0x01, 0x07, 0x27, 0x08 }, v.Options[..4].ToArray());
        Assert.Equal(Ip1, Ipv4Address.Read(v.Options[4..]));
        Assert.Equal(64, v.Payload.Length);
        Assert.Equal(IcmpType.EchoRequest, v.Payload[0]);
        Assert.Equal(0xdd04, v.Checksum);
        Assert.True(v.VerifyChecksum()); // the checksum covers the options
    }

    [Fact]
    public void Deconstruct_LastFragment()
    {
        var d = Datagram(LinuxCaptures.LastFragment);
        Assert.True(Ipv4HeaderView.TryCreate(d, out var v));
        Assert.Equal(0x00b9, v.FlagsAndOffset);
        Assert.Equal(1480, v.FragmentOffset);
        Assert.False(v.MoreFragments);
        Assert.False(v.DontFragment); // ping -M dont
        Assert.True(v.IsFragment);
        Assert.Equal(148, v.TotalLength);
        Assert.Equal(0xf185, v.Identification);
        Assert.True(v.VerifyChecksum());
    }

    [Fact]
    public void Construct()
    {
        var b = Stale(Ipv4HeaderView.MinLength);
        var v = Ipv4HeaderView.ForEmit(b);
        v.SetVersionAndHeaderLength(20);
        v.Tos = 0;
        v.TotalLength = 84;
        v.Identification = 0xec0f;
        v.FlagsAndOffset = Ipv4HeaderView.FlagDf;
        v.Ttl = 64;
        v.Protocol = IpProtocol.Icmp;
        v.Source = Ip1;
        v.Destination = Ip2;
        v.FillChecksum();
        Assert.Equal(Hex.Format(Header(LinuxCaptures.EchoRequest)), Hex.Format(b));

        // The router's time exceeded: TOS 0xc0, no flags.
        v.Tos = 0xc0;
        v.TotalLength = 112;
        v.Identification = 0x423a;
        v.FlagsAndOffset = 0;
        v.Source = Ip2;
        v.Destination = Ip1;
        v.Checksum = 0x10f7;
        Assert.Equal(Hex.Format(Header(LinuxCaptures.TimeExceeded)), Hex.Format(b));
        Assert.True(v.VerifyChecksum());
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Parse(string fixture)
    {
        Assert.True(Ipv4Repr.TryParse(Datagram(Frame(fixture)), out var repr));
        Assert.Equal(Expected[fixture], repr);
    }

    [Fact]
    public void Parse_WithOptions_ReportsThePayloadAfterThem()
    {
        Assert.True(Ipv4Repr.TryParse(Datagram(LinuxCaptures.RecordRouteEchoRequest), out var repr));
        Assert.Equal(new Ipv4Repr(Ip1, Ip2, IpProtocol.Icmp, 64, Ttl: 64, Identification: 0xf182, DontFragment: true), repr);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Emit(string fixture)
    {
        var b = Stale(Ipv4HeaderView.MinLength);
        Expected[fixture].Emit(b);
        Assert.Equal(Hex.Format(Header(Frame(fixture))), Hex.Format(b));
    }

    [Fact]
    public void ToString_IsTcpdumpLike()
    {
        Assert.True(Ipv4Repr.TryParse(Datagram(LinuxCaptures.EchoRequest), out var repr));
        Assert.Equal("IP (tos 0x0, ttl 64, id 60431, offset 0, flags [DF], proto 1, length 84) 10.77.9.1 > 10.77.9.2", repr.ToString());
    }

    [Fact]
    public void DecreaseTtl_OnACapturedHeader_EqualsEmittingItWithTheLowerTtl()
    {
        // ip_decrease_ttl(): TTL 64 -> 63 with the RFC 1624 incremental checksum update.
        var d = Datagram(LinuxCaptures.EchoRequest);
        Assert.True(Ipv4HeaderView.TryCreate(d, out var v));
        v.DecreaseTtl();
        Assert.Equal(63, v.Ttl);
        Assert.True(v.VerifyChecksum());
        var expected = Stale(20);
        (Expected[nameof(LinuxCaptures.EchoRequest)] with { Ttl = 63 }).Emit(expected);
        Assert.Equal(Hex.Format(expected), Hex.Format(d[..20]));
    }

    [Fact]
    public void DecreaseTtl_EqualsRecomputation()
    {
        GenRepr.Where(r => r.Ttl > 0).Sample(r =>
        {
            var b = new byte[Ipv4Repr.HeaderLength + r.PayloadLength];
            r.Emit(b);
            Ipv4HeaderView.ForEmit(b).DecreaseTtl();
            var expected = new byte[b.Length];
            (r with { Ttl = (byte)(r.Ttl - 1) }).Emit(expected);
            Assert.Equal(Hex.Format(expected.AsSpan(0, 20)), Hex.Format(b.AsSpan(0, 20)));
        });
    }

    [Theory]
    [InlineData(0, 0x65, false, "version 6")]
    [InlineData(0, 0x44, false, "IHL 4: below the 20-byte minimum")]
    [InlineData(0, 0x46, true, "IHL 6: structurally fine, caught by the checksum")]
    [InlineData(3, 0x13, false, "total length 19: shorter than the header")]
    [InlineData(3, 0x55, false, "total length 85: longer than the 84 bytes captured")]
    public void InconsistentHeaders_AreRejected(int offset, byte value, bool viewAccepts, string why)
    {
        var d = Datagram(LinuxCaptures.EchoRequest);
        d[offset] = value;
        Assert.True(viewAccepts == Ipv4HeaderView.TryCreate(d, out _), why);
        Assert.False(Ipv4Repr.TryParse(d, out _), why);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(19)]
    public void TooShort_IsRejected(int length) => Assert.False(Ipv4Repr.TryParse(Datagram(LinuxCaptures.EchoRequest)[..length], out _));

    [Fact]
    public void TrailingBytes_BeyondTotalLength_AreNotPayload()
    {
        // Ethernet padding after a short datagram: the View stops at the total length.
        var d = new byte[100];
        Datagram(LinuxCaptures.UdpHi).CopyTo(d, 0);
        Assert.True(Ipv4HeaderView.TryCreate(d, out var v));
        Assert.Equal(11, v.Payload.Length);
    }

    private static readonly Gen<Ipv4Repr> GenRepr =
        Gen.Select(GenIp, GenIp, Gen.Byte, Gen.Int[0, 2000], Gen.Byte, Gen.Byte, Gen.UShort, Gen.Select(Gen.Bool, Gen.Bool, Gen.Int[0, 0x1FFF]))
            .Select((s, d, p, len, ttl, tos, id, f) =>
                new Ipv4Repr(s, d, p, len, ttl, tos, id, f.Item1, f.Item2, f.Item3 * 8));

    [Fact]
    public void EmitThenParse_RoundTrips()
    {
        GenRepr.Sample(r =>
        {
            var b = Stale(Ipv4Repr.HeaderLength + r.PayloadLength);
            r.Emit(b);
            Assert.True(Ipv4Repr.TryParse(b, out var back));
            Assert.Equal(r, back);
        });
    }

    [Fact]
    public void EmitThenParse_RoundTrips_AtTheMaximumLength()
    {
        var r = new Ipv4Repr(Ip1, Ip2, IpProtocol.Udp, 65535 - 20, FragmentOffset: 0x1FFF * 8, MoreFragments: true);
        var b = new byte[65535];
        r.Emit(b);
        Assert.True(Ipv4Repr.TryParse(b, out var back));
        Assert.Equal(r, back);
    }

    [Fact]
    public void AnySingleBitFlipInTheHeader_IsRejected()
    {
        // One's complement sums catch every single-bit error; flips in version, IHL or total length fail earlier.
        byte[][] fixtures = [LinuxCaptures.EchoRequest, LinuxCaptures.TimeExceeded, LinuxCaptures.UdpHi, LinuxCaptures.RecordRouteEchoRequest];
        foreach (var frame in fixtures)
        {
            var d = Datagram(frame);
            int headerBits = (d[0] & 0xF) * 32;
            for (int bit = 0; bit < headerBits; bit++)
            {
                var c = (byte[])d.Clone();
                c[bit / 8] ^= (byte)(0x80 >> (bit % 8));
                Assert.False(Ipv4Repr.TryParse(c, out _), $"bit {bit} of {Hex.Format(d.AsSpan(0, 20))}");
            }
        }
    }

    [Fact]
    public void CorruptedChecksum_IsRejected_UnlessVerificationIsOff()
    {
        Gen.Select(GenRepr, Gen.UShort).Sample((r, bad) =>
        {
            var b = new byte[Ipv4Repr.HeaderLength + r.PayloadLength];
            r.Emit(b);
            var v = Ipv4HeaderView.ForEmit(b);
            ushort good = v.Checksum;
            if (bad == good || (good == 0x0000 && bad == 0xFFFF)) return; // +0 and -0 both verify
            v.Checksum = bad;
            Assert.False(Ipv4Repr.TryParse(b, out _));
            Assert.True(Ipv4Repr.TryParse(b, out var repr, verifyChecksum: false));
            Assert.Equal(r, repr);
        });
    }

    [Fact]
    public void RandomBytes_NeverThrow()
    {
        Fuzz(Datagram(LinuxCaptures.EchoRequest), Datagram(LinuxCaptures.RecordRouteEchoRequest), Datagram(LinuxCaptures.LastFragment))
            .Sample(b =>
            {
                Ipv4Repr.TryParse(b, out _);
                Ipv4Repr.TryParse(b, out _, verifyChecksum: false);
                if (Ipv4HeaderView.TryCreate(b, out var v))
                {
                    _ = v.Options.Length + v.Payload.Length + v.Header.Length + v.FragmentOffset;
                    _ = v.VerifyChecksum();
                }
            }, iter: 5000);
    }

    [Fact]
    public void HeaderChecksum_IsTheInternetChecksumOfTheHeader()
    {
        var h = Header(LinuxCaptures.FragNeeded);
        Assert.Equal(0x0f26, BinaryPrimitives.ReadUInt16BigEndian(h.AsSpan(10)));
        h[10] = h[11] = 0;
        Assert.Equal(0x0f26, InternetChecksum.Compute(h));
    }
}
