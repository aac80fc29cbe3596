using CsCheck;
using NetLab.Core.Addressing;

namespace NetLab.Core.Tests.Addressing;

public class Ipv4AddressTests
{
    [Theory]
    [InlineData("0.0.0.0", 0x00000000u)]
    [InlineData("255.255.255.255", 0xFFFFFFFFu)]
    [InlineData("10.0.0.1", 0x0A000001u)]
    [InlineData("192.168.78.36", 0xC0A84E24u)]
    // Leading zeros are read as decimal: a NetLab decision. Linux differs: inet_aton (ping) and iproute2
    // read "010" as octal 8 ("ip addr add 010.77.1.1/8" gives 8.77.1.1), and inet_pton rejects it.
    [InlineData("01.2.3.4", 0x01020304u)]
    [InlineData("010.1.1.1", 0x0A010101u)]
    [InlineData("001.002.003.004", 0x01020304u)]
    public void Parse_Valid(string text, uint expected)
    {
        Assert.True(Ipv4Address.TryParse(text, out var a));
        Assert.Equal(expected, a.Value);
        Assert.Equal(a, Ipv4Address.Parse(text));
    }

    [Theory]
    [InlineData("256.1.1.1")]     // octet out of range
    [InlineData("1.2.3.256")]
    [InlineData("999.1.1.1")]
    [InlineData("1.2.3")]         // three parts (inet_aton would accept this shorthand; NetLab is strict)
    [InlineData("1.2.3.4.5")]
    [InlineData("")]
    [InlineData("1..2.3")]
    [InlineData("1.2.3.")]
    [InlineData(".1.2.3")]
    [InlineData(" 1.2.3.4")]
    [InlineData("1.2.3.4 ")]
    [InlineData("+1.2.3.4")]
    [InlineData("-1.2.3.4")]
    [InlineData("1.2.3.a")]
    [InlineData("0x1.2.3.4")]
    [InlineData("0001.2.3.4")]    // more than three digits
    [InlineData("1.2.3.4/24")]
    [InlineData("١.2.3.4")]        // non-ASCII digit
    public void Parse_Invalid(string text)
    {
        Assert.False(Ipv4Address.TryParse(text, out var a));
        Assert.Equal(default, a);
        var e = Assert.Throws<FormatException>(() => Ipv4Address.Parse(text));
        Assert.Equal($"'{text}' is not an IPv4 address", e.Message);
    }

    [Fact]
    public void Format_RoundTrips()
    {
        Gen.UInt.Sample(v =>
        {
            var a = new Ipv4Address(v);
            var text = a.ToString();
            Assert.Equal(a, Ipv4Address.Parse(text));
            Assert.Equal(string.Join('.', BitConverter.GetBytes(v).Reverse()), text);
        }, iter: 10_000);
    }

    [Fact]
    public void Octets_AreNetworkOrder()
    {
        var a = new Ipv4Address(192, 168, 78, 36);
        Assert.Equal(Ipv4Address.Parse("192.168.78.36"), a);
        Span<byte> b = stackalloc byte[4];
        a.Write(b);
        Assert.Equal(new byte[] { 192, 168, 78, 36 }, b.ToArray());
        Assert.Equal(a, Ipv4Address.Read(b));
    }

    [Theory]
    [InlineData("0.0.0.0", Ipv4AddressClass.A, 8)]
    [InlineData("127.255.255.255", Ipv4AddressClass.A, 8)]
    [InlineData("128.0.0.0", Ipv4AddressClass.B, 16)]
    [InlineData("191.255.255.255", Ipv4AddressClass.B, 16)]
    [InlineData("192.0.0.0", Ipv4AddressClass.C, 24)]
    [InlineData("223.255.255.255", Ipv4AddressClass.C, 24)]
    [InlineData("224.0.0.0", Ipv4AddressClass.D, null)]
    [InlineData("239.255.255.255", Ipv4AddressClass.D, null)]
    [InlineData("240.0.0.0", Ipv4AddressClass.E, null)]
    [InlineData("255.255.255.255", Ipv4AddressClass.E, null)]
    public void Class_FromTheLeadingBits(string text, Ipv4AddressClass cls, int? classfulLength)
    {
        var a = Ipv4Address.Parse(text);
        Assert.Equal(cls, a.Class);
        Assert.Equal(classfulLength, a.ClassfulPrefixLength);
        Assert.Equal(cls == Ipv4AddressClass.D, a.IsMulticast);
        Assert.Equal(cls == Ipv4AddressClass.E, a.IsReserved);
    }

    [Theory]
    [InlineData("9.255.255.255", false)]
    [InlineData("10.0.0.0", true)]
    [InlineData("10.255.255.255", true)]
    [InlineData("11.0.0.0", false)]
    [InlineData("172.15.255.255", false)]
    [InlineData("172.16.0.0", true)]
    [InlineData("172.31.255.255", true)]
    [InlineData("172.32.0.0", false)]
    [InlineData("192.167.255.255", false)]
    [InlineData("192.168.0.0", true)]
    [InlineData("192.168.255.255", true)]
    [InlineData("192.169.0.0", false)]
    [InlineData("100.64.0.1", false)] // RFC 6598 shared space is not RFC 1918
    public void IsPrivate_Rfc1918(string text, bool expected) => Assert.Equal(expected, Ipv4Address.Parse(text).IsPrivate);

    [Theory]
    [InlineData("126.255.255.255", false)]
    [InlineData("127.0.0.0", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.255.255.255", true)]
    [InlineData("128.0.0.0", false)]
    public void IsLoopback_Is127Slash8(string text, bool expected) => Assert.Equal(expected, Ipv4Address.Parse(text).IsLoopback);

    [Theory]
    [InlineData("169.253.255.255", false)]
    [InlineData("169.254.0.0", true)]
    [InlineData("169.254.255.255", true)]
    [InlineData("169.255.0.0", false)]
    public void IsLinkLocal_Is169Dot254Slash16(string text, bool expected) => Assert.Equal(expected, Ipv4Address.Parse(text).IsLinkLocal);

    [Theory]
    [InlineData("223.255.255.255", false)]
    [InlineData("224.0.0.1", true)]
    [InlineData("239.255.255.250", true)]
    [InlineData("240.0.0.0", false)]
    public void IsMulticast_Is224Slash4(string text, bool expected) => Assert.Equal(expected, Ipv4Address.Parse(text).IsMulticast);

    [Fact]
    public void SpecialAddresses()
    {
        Assert.True(Ipv4Address.Any.IsUnspecified);
        Assert.True(Ipv4Address.Any.IsZeroNet);
        Assert.True(Ipv4Address.Parse("0.255.1.2").IsZeroNet);
        Assert.False(Ipv4Address.Parse("1.0.0.0").IsZeroNet);
        Assert.True(Ipv4Address.Broadcast.IsLimitedBroadcast);
        Assert.True(Ipv4Address.Broadcast.IsReserved);
        Assert.False(Ipv4Address.Parse("255.255.255.254").IsLimitedBroadcast);
        Assert.Equal("127.0.0.1", Ipv4Address.Loopback.ToString());
    }

    [Fact]
    public void Addition_WrapsAroundAndCompares()
    {
        Assert.Equal(Ipv4Address.Parse("10.0.1.0"), Ipv4Address.Parse("10.0.0.255") + 1);
        Assert.Equal(Ipv4Address.Any, Ipv4Address.Broadcast + 1);
        Assert.Equal(Ipv4Address.Parse("10.0.0.254"), Ipv4Address.Parse("10.0.0.255") + -1);
        Assert.True(Ipv4Address.Parse("9.255.255.255").CompareTo(Ipv4Address.Parse("10.0.0.0")) < 0);
        Assert.True(Ipv4Address.Parse("128.0.0.0").CompareTo(Ipv4Address.Parse("127.255.255.255")) > 0); // unsigned
    }
}
