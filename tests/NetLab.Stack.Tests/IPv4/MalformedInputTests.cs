using CsCheck;
using NetLab.Core.Addressing;
using NetLab.Core.Checksums;
using NetLab.Core.Packets;
using NetLab.Core.Time;
using NetLab.Stack.Icmp;
using NetLab.Stack.IPv4;
using NetLab.Stack.Link;
using NetLab.Stack.Udp;

namespace NetLab.Stack.Tests.IPv4;

/// <summary>Malformed packets are counted under Linux's names and dropped; nothing escapes, nothing leaks.</summary>
public class MalformedInputTests
{
    private static readonly Ipv4Address A = Ipv4Address.Parse("10.0.0.1"), B = Ipv4Address.Parse("10.0.0.2");

    /// <summary>An Ethernet frame from a to b carrying an ICMP echo request, valid in every field.</summary>
    private static byte[] ValidEcho(Host b, int data = 32)
    {
        var frame = new byte[14 + 20 + 8 + data];
        new EthernetRepr(b.FindDevice("eth0")!.Mac, MacAddress.Parse("02:00:00:00:00:0a"), EtherType.Ipv4).Emit(frame);
        new IcmpRepr(IcmpType.EchoRequest, 0, 0x00010001, data).Emit(frame.AsSpan(34));
        new Ipv4Repr(A, B, IpProtocol.Icmp, 8 + data).Emit(frame.AsSpan(14));
        return frame;
    }

    private static void Inject(NetLab.Net.World w, Host h, byte[] frame)
    {
        var dev = (EthernetDevice)h.FindDevice("eth0")!;
        var p = w.Pool.Rent(PacketPool.DefaultHeadroom, frame.Length);
        frame.CopyTo(p.Data);
        dev.OnFrameReceived(p);
    }

    private static (NetLab.Net.World W, Host B) Target()
    {
        var (w, _, b, _) = TestNetworks.TwoHostsOnSwitch();
        return (w, b);
    }

    [Fact]
    public void BadHeaderChecksum_CountsInCsumErrorsAndInHdrErrors()
    {
        var (w, b) = Target();
        var f = ValidEcho(b);
        f[14 + 10] ^= 0xFF;
        Inject(w, b, f);
        Assert.Equal(1, b.IpExtStats[IpExtMib.InCsumErrors]);
        Assert.Equal(1, b.IpStats[IpMib.InHdrErrors]);
        Assert.Equal(0, b.IcmpStats[IcmpMib.InMsgs]);
    }

    [Fact]
    public void TotalLengthBeyondTheFrame_CountsInTruncatedPkts()
    {
        var (w, b) = Target();
        var f = ValidEcho(b);
        var v = Ipv4HeaderView.ForEmit(f.AsSpan(14));
        v.TotalLength = 1000;
        v.FillChecksum();
        Inject(w, b, f);
        Assert.Equal(1, b.IpExtStats[IpExtMib.InTruncatedPkts]);
    }

    [Theory]
    [InlineData(0x65)] // version 6 in an IPv4 EtherType
    [InlineData(0x44)] // IHL 4: shorter than the fixed header
    [InlineData(0x4F)] // IHL 15: 60-byte header longer than this datagram's total length
    public void BadVersionOrIhl_CountsInHdrErrors(byte versionIhl)
    {
        var (w, b) = Target();
        var f = ValidEcho(b, data: 8);
        f[14] = versionIhl;
        Ipv4HeaderView.ForEmit(f.AsSpan(14)).Checksum = 0;
        Ipv4HeaderView.ForEmit(f.AsSpan(14)).Checksum = InternetChecksum.Compute(f.AsSpan(14, Math.Min(60, f.Length - 14)));
        Inject(w, b, f);
        Assert.Equal(1, b.IpStats[IpMib.InHdrErrors]);
    }

    [Fact]
    public void BadIcmpChecksum_CountsIcmpInCsumErrors_AndIsNotAnswered()
    {
        var (w, b) = Target();
        var f = ValidEcho(b);
        f[34 + 2] ^= 0x01;
        Inject(w, b, f);
        w.RunFor(SimDuration.FromSeconds(1));
        Assert.Equal(1, b.IcmpStats[IcmpMib.InCsumErrors]);
        Assert.Equal(0, b.IcmpStats[IcmpMib.OutEchoReps]);
    }

    [Fact]
    public void BadUdpChecksum_CountsUdpInCsumErrors_AndNoPortUnreachable()
    {
        var (w, b) = Target();
        var frame = new byte[14 + 20 + 8 + 4];
        new EthernetRepr(b.FindDevice("eth0")!.Mac, MacAddress.Parse("02:00:00:00:00:0a"), EtherType.Ipv4).Emit(frame);
        new UdpRepr(1000, 9, 4).Emit(frame.AsSpan(34), A, B);
        new Ipv4Repr(A, B, IpProtocol.Udp, 12).Emit(frame.AsSpan(14));
        frame[^1] ^= 0x55;
        Inject(w, b, frame);
        w.RunFor(SimDuration.FromSeconds(1));
        Assert.Equal(1, b.UdpStats[UdpMib.InCsumErrors]);
        Assert.Equal(0, b.UdpStats[UdpMib.NoPorts]);
    }

    [Fact]
    public void RandomAndMutatedFrames_NeverThrow_AreCountedOrAnswered_AndLeakNothing()
    {
        var valid = ValidEcho(Target().B);
        var random = Gen.Byte.Array[0, 1600];
        var mutated = Gen.Select(Gen.Int[0, valid.Length - 1].Array[1, 8], Gen.Byte.Array[8], (at, val) =>
        {
            var f = (byte[])valid.Clone();
            for (int i = 0; i < at.Length; i++) f[at[i]] = val[i % val.Length];
            return f;
        });
        Gen.OneOf(random, mutated).Sample(frame =>
        {
            var (w, b) = Target();
            // The frame must reach b's stack: keep b's MAC as destination when the frame is long enough.
            if (frame.Length >= 6) b.FindDevice("eth0")!.Mac.Write(frame);
            Inject(w, b, frame);
            w.RunFor(SimDuration.FromSeconds(5));
            Assert.Equal(0, w.Pool.Outstanding);
        }, iter: 2000);
    }
}
