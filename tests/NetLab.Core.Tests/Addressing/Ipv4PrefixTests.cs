using CsCheck;
using NetLab.Core.Addressing;

namespace NetLab.Core.Tests.Addressing;

public class Ipv4PrefixTests
{
    [Theory]
    //          length  mask               network       broadcast          usable       first         last
    [InlineData(0, "0.0.0.0", "0.0.0.0", "255.255.255.255", 4294967294L, "0.0.0.1", "255.255.255.254")]
    [InlineData(8, "255.0.0.0", "10.0.0.0", "10.255.255.255", 16777214L, "10.0.0.1", "10.255.255.254")]
    [InlineData(24, "255.255.255.0", "10.1.2.0", "10.1.2.255", 254L, "10.1.2.1", "10.1.2.254")]
    [InlineData(29, "255.255.255.248", "10.1.2.0", "10.1.2.7", 6L, "10.1.2.1", "10.1.2.6")]
    [InlineData(30, "255.255.255.252", "10.1.2.0", "10.1.2.3", 2L, "10.1.2.1", "10.1.2.2")]
    // RFC 3021: a /31 has no network or broadcast address; both are hosts.
    [InlineData(31, "255.255.255.254", "10.1.2.2", "10.1.2.3", 2L, "10.1.2.2", "10.1.2.3")]
    [InlineData(32, "255.255.255.255", "10.1.2.3", "10.1.2.3", 1L, "10.1.2.3", "10.1.2.3")]
    public void Arithmetic_ForEachLength(int length, string mask, string network, string broadcast, long usable, string first, string last)
    {
        var p = new Ipv4Prefix(Ipv4Address.Parse("10.1.2.3"), length);
        Assert.Equal(mask, p.Mask.ToString());
        Assert.Equal(network, p.Network.ToString());
        Assert.Equal(broadcast, p.Broadcast.ToString());
        Assert.Equal(usable, p.UsableHosts);
        Assert.Equal(first, p.FirstHost.ToString());
        Assert.Equal(last, p.LastHost.ToString());
        Assert.Equal(length < 31, p.HasBroadcast);
        Assert.Equal($"10.1.2.3/{length}", p.ToString()); // the host part is kept, as "ip addr" shows it
        Assert.Equal($"{network}/{length}", p.NetworkPrefix.ToString());
    }

    [Fact]
    public void NotesSubnetExercise_WhichSlash29sShareASubnet()
    {
        var a = Ipv4Prefix.Parse("192.168.78.36/29");
        var b = Ipv4Prefix.Parse("192.168.78.42/29");
        var c = Ipv4Prefix.Parse("192.168.78.41/29");
        Assert.Equal("192.168.78.32", a.Network.ToString());
        Assert.Equal("192.168.78.39", a.Broadcast.ToString());
        Assert.Equal("192.168.78.40", b.Network.ToString());
        Assert.Equal("192.168.78.47", b.Broadcast.ToString());
        Assert.Equal(b.Network, c.Network);
        Assert.True(b.Contains(c.Address));
        Assert.True(c.Contains(b.Address));
        Assert.False(a.Contains(b.Address));
        Assert.False(a.Contains(c.Address));
        Assert.False(b.Contains(a.Address));
        Assert.Equal("192.168.78.33", a.FirstHost.ToString());
        Assert.Equal("192.168.78.38", a.LastHost.ToString());
    }

    [Fact]
    public void Contains_IffTheMaskedAddressesAreEqual()
    {
        Gen.Select(Gen.UInt, Gen.Int[0, 32], Gen.UInt).Sample((net, len, other) =>
        {
            var p = new Ipv4Prefix(new Ipv4Address(net), len);
            var a = new Ipv4Address(other);
            Assert.Equal((a.Value & p.MaskValue) == p.Network.Value, p.Contains(a));
            Assert.True(p.Contains(p.Address));
            Assert.True(p.Contains(p.Network));
            Assert.True(p.Contains(p.Broadcast));
        }, iter: 10_000);
    }

    [Theory]
    [InlineData("0.0.0.0", 0)]
    [InlineData("128.0.0.0", 1)]
    [InlineData("255.0.0.0", 8)]
    [InlineData("255.255.254.0", 23)]
    [InlineData("255.255.255.0", 24)]
    [InlineData("255.255.255.248", 29)]
    [InlineData("255.255.255.254", 31)]
    [InlineData("255.255.255.255", 32)]
    public void TryMaskToLength_ContiguousMasks(string mask, int expected)
    {
        Assert.True(Ipv4Prefix.TryMaskToLength(Ipv4Address.Parse(mask), out int length));
        Assert.Equal(expected, length);
    }

    [Theory]
    [InlineData("255.0.255.0")]
    [InlineData("0.255.255.255")]
    [InlineData("255.255.255.253")]
    [InlineData("254.255.255.255")]
    [InlineData("0.0.0.1")]
    public void TryMaskToLength_NonContiguousMasks(string mask) =>
        Assert.False(Ipv4Prefix.TryMaskToLength(Ipv4Address.Parse(mask), out _));

    [Fact]
    public void TryMaskToLength_InvertsMask()
    {
        for (int len = 0; len <= 32; len++)
        {
            Assert.True(Ipv4Prefix.TryMaskToLength(new Ipv4Prefix(Ipv4Address.Any, len).Mask, out int back));
            Assert.Equal(len, back);
        }
    }

    [Theory]
    [InlineData("10.0.0.1/24", "10.0.0.1", 24)]
    [InlineData("10.0.0.1", "10.0.0.1", 32)]            // a bare address is a /32
    [InlineData("10.0.0.1/0", "10.0.0.1", 0)]
    [InlineData("10.0.0.1/255.255.255.0", "10.0.0.1", 24)] // a dotted netmask, as "ip addr add" takes it
    [InlineData("10.0.0.1/08", "10.0.0.1", 8)]
    public void Parse_Valid(string text, string address, int length)
    {
        Assert.True(Ipv4Prefix.TryParse(text, out var p, out var error));
        Assert.Null(error);
        Assert.Equal(new Ipv4Prefix(Ipv4Address.Parse(address), length), p);
    }

    [Theory]
    // iproute2 says 'Error: any valid prefix is expected rather than "1.2.3.4/33".' for all of these;
    // NetLab's messages name the part that is wrong.
    [InlineData("1.2.3.4/33", "prefix length /33 is out of range 0-32")]
    [InlineData("1.2.3.4/", "'' is not a prefix length")]
    [InlineData("1.2.3.4/abc", "'abc' is not a prefix length")]
    [InlineData("1.2.3.4/-1", "'-1' is not a prefix length")]
    [InlineData("1.2.3.4/ 8", "' 8' is not a prefix length")]
    [InlineData("1.2.3.4/99999999999", "'99999999999' is not a prefix length")]
    [InlineData("1.2.3.4/255.0.255.0", "'255.0.255.0' is not a prefix length")]
    [InlineData("256.1.1.1/8", "'256.1.1.1' is not an IPv4 address")]
    [InlineData("1.2.3/8", "'1.2.3' is not an IPv4 address")]
    [InlineData("", "'' is not an IPv4 address")]
    public void Parse_Invalid_SaysWhy(string text, string message)
    {
        Assert.False(Ipv4Prefix.TryParse(text, out _, out var error));
        Assert.Equal(message, error);
        var e = Assert.Throws<FormatException>(() => Ipv4Prefix.Parse(text));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Constructor_RejectsLengthsAbove32()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Ipv4Prefix(Ipv4Address.Any, 33));
        Assert.StartsWith("prefix length 33 is out of range 0-32", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Ipv4Prefix(Ipv4Address.Any, -1));
    }

    [Fact]
    public void Format_RoundTrips()
    {
        Gen.Select(Gen.UInt, Gen.Int[0, 32]).Sample((a, len) =>
        {
            var p = new Ipv4Prefix(new Ipv4Address(a), len);
            Assert.Equal(p, Ipv4Prefix.Parse(p.ToString()));
            Assert.Equal(p.NetworkPrefix, Ipv4Prefix.Parse($"{p.Network}/{p.Mask}"));
        }, iter: 10_000);
    }
}
