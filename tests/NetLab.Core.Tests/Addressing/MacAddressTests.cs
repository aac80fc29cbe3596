using CsCheck;
using NetLab.Core.Addressing;
using NetLab.Core.Randomness;

namespace NetLab.Core.Tests.Addressing;

public class MacAddressTests
{
    [Theory]
    [InlineData("02:4e:4c:09:00:01", 0x024e4c090001UL)]
    [InlineData("02-4E-4C-09-00-01", 0x024e4c090001UL)]
    [InlineData("2:4e:4c:9:0:1", 0x024e4c090001UL)] // single digits, as ether_aton accepts
    [InlineData("ff:ff:ff:ff:ff:ff", 0xffffffffffffUL)]
    [InlineData("00:00:00:00:00:00", 0UL)]
    public void Parse_Valid(string text, ulong expected)
    {
        Assert.True(MacAddress.TryParse(text, out var m));
        Assert.Equal(expected, m.Value);
        Assert.Equal(m, MacAddress.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("02:4e:4c:09:00")]
    [InlineData("02:4e:4c:09:00:01:02")]
    [InlineData("02:4e:4c:09:00:0g")]
    [InlineData("002:4e:4c:09:00:01")]
    [InlineData("02:4e:4c:09::01")]
    [InlineData("024e.4c09.0001")]
    public void Parse_Invalid(string text)
    {
        Assert.False(MacAddress.TryParse(text, out _));
        var e = Assert.Throws<FormatException>(() => MacAddress.Parse(text));
        Assert.Equal($"'{text}' is not a MAC address", e.Message);
    }

    [Fact]
    public void Format_IsLowerCaseColonSeparated_AndRoundTrips()
    {
        Assert.Equal("02:4e:4c:09:00:01", new MacAddress(0x024E4C090001).ToString());
        Gen.ULong[0, 0xFFFF_FFFF_FFFF].Sample(v =>
        {
            var m = new MacAddress(v);
            Assert.Equal(m, MacAddress.Parse(m.ToString()));
            Span<byte> b = stackalloc byte[6];
            m.Write(b);
            Assert.Equal(m, MacAddress.Read(b));
        }, iter: 10_000);
    }

    [Theory]
    //           address              multicast broadcast local
    [InlineData("ff:ff:ff:ff:ff:ff", true, true, true)]
    [InlineData("01:00:5e:00:00:01", true, false, false)] // IPv4 multicast (RFC 1112 §6.4)
    [InlineData("33:33:00:00:00:01", true, false, true)]  // IPv6 multicast: 0x33 has both low bits set
    [InlineData("02:4e:4c:09:00:01", false, false, true)] // the veth address the fixtures were captured with
    [InlineData("00:1b:21:3a:4f:5c", false, false, false)] // a universally administered NIC address
    [InlineData("fe:ff:ff:ff:ff:ff", false, false, true)]
    public void Bits_FromTheFirstOctet(string text, bool multicast, bool broadcast, bool local)
    {
        var m = MacAddress.Parse(text);
        Assert.Equal(multicast, m.IsMulticast);
        Assert.Equal(!multicast, m.IsUnicast);
        Assert.Equal(broadcast, m.IsBroadcast);
        Assert.Equal(local, m.IsLocallyAdministered);
        Assert.False(m.IsZero);
    }

    [Fact]
    public void ZeroAndBroadcastConstants()
    {
        Assert.True(MacAddress.Zero.IsZero);
        Assert.True(MacAddress.Zero.IsUnicast);
        Assert.True(MacAddress.Broadcast.IsBroadcast);
        Assert.Equal("ff:ff:ff:ff:ff:ff", MacAddress.Broadcast.ToString());
    }

    [Fact]
    public void Random_IsUnicastAndLocallyAdministered_LikeEthRandomAddr()
    {
        Gen.Select(Gen.ULong, Gen.String[0, 10]).Sample((seed, name) =>
        {
            var m = MacAddress.Random(new RandomStreams(seed).Stream(name));
            Assert.True(m.IsUnicast);
            Assert.True(m.IsLocallyAdministered);
            Assert.True(m.Value <= 0xFFFF_FFFF_FFFF);
        });
    }

    [Fact]
    public void Random_IsDeterministicPerStream()
    {
        var a = MacAddress.Random(new RandomStreams(5).Stream("h1/eth0"));
        var b = MacAddress.Random(new RandomStreams(5).Stream("h1/eth0"));
        var c = MacAddress.Random(new RandomStreams(5).Stream("h2/eth0"));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }
}
