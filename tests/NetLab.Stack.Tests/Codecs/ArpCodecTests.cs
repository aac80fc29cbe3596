using CsCheck;
using NetLab.Core;
using NetLab.Core.Addressing;
using NetLab.Stack.Link;
using NetLab.Stack.Neighbour;
using static NetLab.Stack.Tests.Codecs.CodecTestHelpers;

namespace NetLab.Stack.Tests.Codecs;

public class ArpCodecTests
{
    private const int At = LinuxCaptures.EthernetLength;
    private static readonly MacAddress V1 = MacAddress.Parse("02:4e:4c:09:00:01");
    private static readonly MacAddress V2 = MacAddress.Parse("02:4e:4c:09:00:02");
    private static readonly Ipv4Address Ip1 = Ipv4Address.Parse("10.77.9.1");
    private static readonly Ipv4Address Ip2 = Ipv4Address.Parse("10.77.9.2");

    private static byte[] Request => LinuxCaptures.ArpRequest[At..];
    private static byte[] Reply => LinuxCaptures.ArpReply[At..];

    // Linux fills the target hardware address of a request with zeros (arp_create with a NULL target_hw).
    private static readonly ArpRepr RequestRepr = new(ArpOp.Request, V1, Ip1, MacAddress.Zero, Ip2);
    private static readonly ArpRepr ReplyRepr = new(ArpOp.Reply, V2, Ip2, V1, Ip1);

    [Fact]
    public void Deconstruct()
    {
        Assert.True(ArpPacketView.TryCreate(Request, out var v));
        Assert.Equal(ArpPacketView.HardwareEthernet, v.HardwareType);
        Assert.Equal(EtherType.Ipv4, v.ProtocolType);
        Assert.Equal(6, v.HardwareLength);
        Assert.Equal(4, v.ProtocolLength);
        Assert.Equal(ArpOp.Request, v.Operation);
        Assert.Equal(V1, v.SenderMac);
        Assert.Equal(Ip1, v.SenderIp);
        Assert.Equal(MacAddress.Zero, v.TargetMac);
        Assert.Equal(Ip2, v.TargetIp);

        Assert.True(ArpPacketView.TryCreate(Reply, out var r));
        Assert.Equal(ArpOp.Reply, r.Operation);
        Assert.Equal((V2, Ip2, V1, Ip1), (r.SenderMac, r.SenderIp, r.TargetMac, r.TargetIp));
    }

    [Fact]
    public void Construct()
    {
        var b = Stale(ArpPacketView.Length);
        var v = ArpPacketView.ForEmit(b);
        v.HardwareType = ArpPacketView.HardwareEthernet;
        v.ProtocolType = EtherType.Ipv4;
        v.HardwareLength = 6;
        v.ProtocolLength = 4;
        v.Operation = ArpOp.Request;
        v.SenderMac = V1;
        v.SenderIp = Ip1;
        v.TargetMac = MacAddress.Zero;
        v.TargetIp = Ip2;
        Assert.Equal(Hex.Format(Request), Hex.Format(b));

        v.Operation = ArpOp.Reply;
        v.SenderMac = V2;
        v.SenderIp = Ip2;
        v.TargetMac = V1;
        v.TargetIp = Ip1;
        Assert.Equal(Hex.Format(Reply), Hex.Format(b));
    }

    [Fact]
    public void Parse()
    {
        Assert.True(ArpRepr.TryParse(Request, out var request));
        Assert.Equal(RequestRepr, request);
        Assert.True(ArpRepr.TryParse(Reply, out var reply));
        Assert.Equal(ReplyRepr, reply);
        // What tcpdump prints for these two frames.
        Assert.Equal("ARP, Request who-has 10.77.9.2 tell 10.77.9.1, length 28", request.ToString());
        Assert.Equal("ARP, Reply 10.77.9.2 is-at 02:4e:4c:09:00:02, length 28", reply.ToString());
    }

    [Fact]
    public void Emit()
    {
        var b = Stale(ArpPacketView.Length);
        RequestRepr.Emit(b);
        Assert.Equal(Hex.Format(Request), Hex.Format(b));
        ReplyRepr.Emit(b);
        Assert.Equal(Hex.Format(Reply), Hex.Format(b));
    }

    [Theory]
    [InlineData(1, 0x00)] // hardware type 0x0001 -> 0x0000
    [InlineData(2, 0x86)] // protocol type 0x0800 -> 0x8600
    [InlineData(4, 0x08)] // hardware length 6 -> 8
    [InlineData(5, 0x10)] // protocol length 4 -> 16 (IPv6-sized)
    public void NonEthernetIpv4Arp_IsRejected(int offset, byte value)
    {
        // arp_process() only handles Ethernet/IPv4 (hlen 6, plen 4).
        var b = Request;
        b[offset] = value;
        Assert.False(ArpPacketView.TryCreate(b, out _));
        Assert.False(ArpRepr.TryParse(b, out _));
    }

    [Fact]
    public void Truncated_IsRejected_AndTrailingPaddingIgnored()
    {
        Assert.False(ArpRepr.TryParse(Request[..27], out _));
        var padded = new byte[46]; // a 60-byte frame as a physical NIC pads it
        Request.CopyTo(padded, 0);
        Assert.True(ArpRepr.TryParse(padded, out var repr));
        Assert.Equal(RequestRepr, repr);
    }

    [Fact]
    public void EmitThenParse_RoundTrips()
    {
        Gen.Select(Gen.OneOfConst(ArpOp.Request, ArpOp.Reply, (ushort)0, ushort.MaxValue), GenMac, GenIp, GenMac, GenIp)
            .Sample((op, sm, sip, tm, tip) =>
            {
                var repr = new ArpRepr(op, sm, sip, tm, tip);
                var b = Stale(ArpPacketView.Length);
                repr.Emit(b);
                Assert.True(ArpRepr.TryParse(b, out var back));
                Assert.Equal(repr, back);
            });
    }

    [Fact]
    public void RandomBytes_NeverThrow()
    {
        Fuzz(Request, Reply).Sample(b =>
        {
            if (ArpRepr.TryParse(b, out var repr))
            {
                Assert.True(ArpPacketView.TryCreate(b, out var v));
                Assert.Equal(repr, new ArpRepr(v.Operation, v.SenderMac, v.SenderIp, v.TargetMac, v.TargetIp));
                _ = repr.ToString();
            }
        }, iter: 2000);
    }
}
