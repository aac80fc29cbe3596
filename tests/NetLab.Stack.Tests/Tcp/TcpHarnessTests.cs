using NetLab.Core.Addressing;
using NetLab.Stack.Icmp;
using NetLab.Stack.IPv4;
using NetLab.Stack.Sockets;
using NetLab.Stack.Tcp;
using NetLab.Stack.Tests.Codecs;
using NetLab.Stack.Udp;
using Xunit.Sdk;
using static NetLab.Stack.Tcp.TcpFlags;
using static NetLab.Stack.Tests.Tcp.TcpHarness;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>
/// The harness itself, without TCP: frames injected at a virtual time are answered (ICMP, UDP) at that exact time,
/// captured and parsed; segments the DUT sends through a raw socket go through <see cref="TcpHarness.ExpectSent(NetLab.Core.Time.SimDuration, SegCheck[])"/>.
/// </summary>
public class TcpHarnessTests
{
    private static byte[] Udp(ushort srcPort, ushort dstPort, ReadOnlySpan<byte> payload)
    {
        var datagram = new byte[UdpHeaderView.Length + payload.Length];
        payload.CopyTo(datagram.AsSpan(UdpHeaderView.Length));
        new UdpRepr(srcPort, dstPort, payload.Length).Emit(datagram, RemoteIp, LocalIp);
        return datagram;
    }

    private static byte[] EchoFrame(TcpHarness h) =>
        h.IpFrame(new Ipv4Repr(RemoteIp, LocalIp, IpProtocol.Icmp, 0), TestNetworks.EchoRequest(7, 1, 56));

    /// <summary>The DUT sends a TCP segment the test wrote, through a raw socket (there is no TCP yet).</summary>
    private static void SendFromDut(RawSocket raw, TcpRepr tcp, byte[]? payload = null)
    {
        payload ??= [];
        var bytes = new byte[tcp.HeaderLength + payload.Length];
        payload.CopyTo(bytes, tcp.HeaderLength);
        (tcp with { PayloadLength = payload.Length }).Emit(bytes, LocalIp, RemoteIp);
        Assert.Equal(Errno.None, raw.SendTo(bytes, RemoteIp));
    }

    [Fact]
    public void EchoRequest_IsAnsweredAtTheInstantItArrives_ThroughTheGateway()
    {
        using var h = new TcpHarness();
        h.SendFrame(at: 100.Ms(), EchoFrame(h));
        var frame = h.ExpectSentFrame(at: 100.Ms());
        Assert.Equal(100.Ms(), frame.At);
        Assert.Equal(GatewayMac, frame.Ethernet.Destination);
        Assert.Equal(h.Device.Mac, frame.Ethernet.Source);
        var reply = Assert.IsType<SentIcmp>(frame.Icmp);
        Assert.Equal((IcmpType.EchoReply, (ushort)7, (ushort)1, 56), (reply.Icmp.Type, reply.Icmp.Identifier, reply.Icmp.Sequence, reply.Data.Length));
        Assert.Equal((LocalIp, RemoteIp, (byte)64), (reply.Ip.Source, reply.Ip.Destination, reply.Ip.Ttl));
        h.ExpectNothingUntil(10.Sec());
    }

    [Fact]
    public void UdpToAClosedPort_IsAnsweredWithPortUnreachable_QuotingTheDatagram()
    {
        using var h = new TcpHarness();
        h.SendFrame(at: 250.Ms(), h.IpFrame(new Ipv4Repr(RemoteIp, LocalIp, IpProtocol.Udp, 0, Ttl: 33), Udp(5353, 9, "probe"u8)));
        var error = h.ExpectSentIcmp(at: 250.Ms(), IcmpType.DestinationUnreachable, IcmpCode.PortUnreachable);
        Assert.True(Ipv4Repr.TryParse(error.Data, out var quoted));
        Assert.Equal((RemoteIp, LocalIp, IpProtocol.Udp, (byte)33), (quoted.Source, quoted.Destination, quoted.Protocol, quoted.Ttl));
        Assert.Contains("192.168.0.1 > 192.0.2.1: ICMP unreachable, code 3", error.ToString());
    }

    [Fact]
    public void ArpFromTheDut_IsNeverCaptured()
    {
        using var h = new TcpHarness();
        using var s = h.Host.Udp.Open();
        h.At(0.Ms(), () => s.SendTo("x"u8, Ipv4Address.Parse("192.168.0.3"), 9)); // on-link, unresolved: the host ARPs
        h.ExpectNothingUntil(10.Sec());
        Assert.Equal(3, h.Device.Stats.TxPackets); // an INCOMPLETE entry: mcast_probes (3) broadcast requests
    }

    [Fact]
    public void ExpectNothingUntil_FailsWhenAFrameLeavesEarlier_WithTheFrameInTheMessage()
    {
        using var h = new TcpHarness();
        h.SendFrame(at: 100.Ms(), EchoFrame(h));
        var e = Assert.Throws<FailException>(() => h.ExpectNothingUntil(200.Ms()));
        Assert.Contains("Expected nothing sent before 0.200000, but the DUT sent:\n0.100000 IP (tos 0x0, ttl 64, id ", e.Message);
        Assert.Contains("192.168.0.1 > 192.0.2.1: ICMP echo reply, id 7, seq 1, length 64", e.Message);
    }

    [Fact]
    public void ExpectNothingUntil_PassesUpToTheInstantBefore_AndCostsNoWallTime()
    {
        using var h = new TcpHarness();
        h.ExpectNothingUntil(3600.Sec());
        h.SendFrame(at: 3600.Sec(), EchoFrame(h));
        h.ExpectNothingUntil(3600.Sec()); // the reply leaves at 3600 s, not before
        h.ExpectSentIcmp(at: 3600.Sec(), IcmpType.EchoReply, 0);
    }

    [Fact]
    public void Expectations_FailOnTheWrongTime_OrKind_OrNothingSent()
    {
        using var h = new TcpHarness();
        h.SendFrame(at: 100.Ms(), EchoFrame(h));
        var early = Assert.Throws<FailException>(() => h.ExpectSentIcmp(at: 150.Ms(), IcmpType.EchoReply, 0));
        Assert.Contains("Expected ICMP type 0 code 0 at 0.150000, but the DUT sent this at 0.100000:\n", early.Message);

        h.SendFrame(at: 200.Ms(), EchoFrame(h));
        h.ExpectSentIcmp(at: 150.Ms(), IcmpType.EchoReply, 0, tolerance: 50.Ms());

        h.SendFrame(at: 300.Ms(), EchoFrame(h));
        var notTcp = Assert.Throws<FailException>(() => h.ExpectSent(at: 300.Ms(), Seg.Flags(Syn | Ack)));
        Assert.Contains("Expected a TCP segment (Flags [S.]) at 0.300000, but the DUT sent:\n", notTcp.Message);
        Assert.Contains("ICMP echo reply", notTcp.Message);

        var nothing = Assert.Throws<FailException>(() => h.ExpectSent(at: 1.Sec(), 10.Ms(), Seg.Flags(Syn)));
        Assert.Equal("Expected a TCP segment (Flags [S]) at 1.000000 (±10ms), but nothing was sent by 1.010000.", nothing.Message);
    }

    [Fact]
    public void ExpectSent_ChecksASegmentTheDutSends_AndRecordsItsIsn()
    {
        using var h = new TcpHarness();
        using var raw = RawSocket.Open(h.Host, IpProtocol.Tcp);
        raw.PmtuDisc = PmtuDisc.Want;
        Assert.Throws<InvalidOperationException>(() => h.LocalIsn);
        var isn = new SeqNum(0x12345678);
        var options = new TcpOptionSet { Mss = 1460, SackPermitted = true, Timestamp = new(1000, 5), WindowScale = 7 };
        h.At(10.Ms(), () => SendFromDut(raw, new(LocalPort, RemotePort, isn, RemoteIsn + 1, Syn | Ack, 65160, options)));
        var synAck = h.ExpectSent(at: 10.Ms(), Seg.Flags(Syn | Ack), Seg.Ack(RemoteIsn + 1), Seg.Window(65160),
            Seg.Mss(1460), Seg.SackPermitted(), Seg.Timestamp(ecr: 5), Seg.WScale(7), Seg.PayloadLength(0),
            Seg.Ttl(64), Seg.DontFragment());
        Assert.Equal(isn, h.LocalIsn);
        Assert.Equal(10.Ms(), synAck.At);

        h.At(20.Ms(), () => SendFromDut(raw, new(LocalPort, RemotePort, isn + 1, RemoteIsn + 1, Psh | Ack, 510,
            new TcpOptionSet { Timestamp = new(1010, 5) }), "hello"u8.ToArray()));
        var e = Assert.Throws<FailException>(() => h.ExpectSent(at: 20.Ms(), Seg.Seq(h.LocalIsn + 1), Seg.NoOptions()));
        Assert.Contains("The TCP segment sent at 0.020000 does not match.\nExpected: seq 305419897, no options\nMismatch: no options\n", e.Message);
        Assert.Contains("192.168.0.1.40000 > 192.0.2.1.8080: Flags [P.], seq 305419897:305419902, ack 4294966296, win 510, options [nop,nop,TS val 1010 ecr 5], length 5", e.Message);
    }

    [Fact]
    public void Send_InjectsTheSegmentAtItsTime_WithTheTemplatesIpFields_AndTheChecksumAsked()
    {
        using var h = new TcpHarness();
        using var raw = RawSocket.Open(h.Host, IpProtocol.Tcp); // sees every TCP datagram the DUT receives
        var syn = SendTemplate with
        {
            Flags = Syn, Seq = RemoteIsn, Ack = new(0), Window = 64240, Ttl = 50, Tos = 0x10, IpId = 1234, DontFragment = false,
            Options = new TcpOptionSet { Mss = 1460, SackPermitted = true, Timestamp = new(77, 0), WindowScale = 7 },
        };
        h.Send(at: 30.Ms(), syn);
        Assert.True(raw.TryReceive(out var d));
        Assert.Equal(30.Ms().Nanoseconds, d!.TimestampNs);
        Assert.True(Ipv4Repr.TryParse(d.Datagram, out var ip));
        Assert.Equal((RemoteIp, LocalIp, (byte)50, (byte)0x10, (ushort)1234, false),
            (ip.Source, ip.Destination, ip.Ttl, ip.Tos, ip.Identification, ip.DontFragment));
        Assert.True(TcpRepr.TryParse(d.Datagram.AsSpan(Ipv4Repr.HeaderLength), RemoteIp, LocalIp, out var tcp));
        Assert.Equal(syn.ToRepr(), tcp);

        h.Send(at: 40.Ms(), syn with { BadChecksum = true });
        Assert.True(raw.TryReceive(out var bad));
        Assert.False(TcpRepr.TryParse(bad!.Datagram.AsSpan(Ipv4Repr.HeaderLength), RemoteIp, LocalIp, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => h.Send(at: 39.Ms(), syn));
    }

    [Fact]
    public void Dispose_FailsWhileASocketStillHoldsAPacket()
    {
        var h = new TcpHarness();
        var s = h.Host.Udp.Open();
        Assert.Equal(Errno.None, s.Bind(Ipv4Address.Any, 5000));
        h.SendFrame(at: 0.Ms(), h.IpFrame(new Ipv4Repr(RemoteIp, LocalIp, IpProtocol.Udp, 0), Udp(6000, 5000, "kept"u8)));
        var e = Assert.Throws<FailException>(h.Dispose);
        Assert.Equal("1 packet(s) never returned to the pool (CONVENTIONS rule 3).", e.Message);
        s.Dispose();
        h.Dispose();
    }

    /// <summary>Linux's own segments, rebuilt through the template: all but the addresses and checksums is Linux's bytes.</summary>
    [Theory]
    [InlineData(nameof(LinuxCaptures.TcpSyn))]
    [InlineData(nameof(LinuxCaptures.TcpPshData))]
    [InlineData(nameof(LinuxCaptures.TcpSackAck3))]
    public void Frame_HasLinuxsLayout_AndRoundTripsThroughTcpRepr(string fixture)
    {
        var linux = (byte[])typeof(LinuxCaptures).GetField(fixture)!.GetValue(null)!;
        Assert.True(Ipv4Repr.TryParse(linux.AsSpan(14), out var ip));
        Assert.True(TcpRepr.TryParse(linux.AsSpan(34), ip.Source, ip.Destination, out var tcp));
        var segment = SendTemplate with
        {
            SourcePort = tcp.SourcePort, DestinationPort = tcp.DestinationPort, Flags = tcp.Flags, Seq = tcp.Seq,
            Ack = tcp.Ack, Window = tcp.Window, Options = tcp.Options, Payload = linux[^tcp.PayloadLength..],
            Ttl = ip.Ttl, Tos = ip.Tos, IpId = ip.Identification, DontFragment = ip.DontFragment,
        };
        using var h = new TcpHarness();
        var frame = h.Frame(segment);
        Assert.Equal(Convert.ToHexString(linux[14..24]), Convert.ToHexString(frame[14..24])); // IPv4 up to its checksum
        Assert.Equal(Convert.ToHexString(linux[34..50]), Convert.ToHexString(frame[34..50])); // TCP up to its checksum
        Assert.Equal(Convert.ToHexString(linux[52..]), Convert.ToHexString(frame[52..]));     // urgent pointer, options, data
        Assert.True(Ipv4Repr.TryParse(frame.AsSpan(14), out var ours));
        Assert.Equal((RemoteIp, LocalIp), (ours.Source, ours.Destination));
        Assert.True(TcpRepr.TryParse(frame.AsSpan(34), RemoteIp, LocalIp, out var parsed));
        Assert.Equal(tcp, parsed);
    }

    [Fact]
    public void Run_DrivesSocketsWithAsyncCode_InVirtualTime()
    {
        using var h = new TcpHarness();
        using var s = h.Host.Udp.Open();
        Assert.Equal(Errno.None, s.Bind(Ipv4Address.Any, 5000));
        var echo = h.Start(at: 0.Ms(), async () =>
        {
            var buffer = new byte[100];
            var r = await s.ReceiveAsync(buffer);
            await Task.Delay(TimeSpan.FromMilliseconds(30), h.Scheduler.TimeProvider);
            s.SendTo(buffer.AsSpan(0, r.Length), r.Address, r.Port);
        });
        h.SendFrame(at: 20.Ms(), h.IpFrame(new Ipv4Repr(RemoteIp, LocalIp, IpProtocol.Udp, 0), Udp(6000, 5000, "ping"u8)));
        var reply = h.ExpectSentFrame(at: 50.Ms());
        Assert.Equal("192.168.0.1.5000 > 192.0.2.1.6000: UDP, length 4", reply.ToString().Split('\n')[1].Trim());
        Assert.True(echo.IsCompletedSuccessfully);

        var woke = h.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(1), h.Scheduler.TimeProvider);
            return h.Now;
        });
        Assert.Equal(1050.Ms(), woke);
    }
}
