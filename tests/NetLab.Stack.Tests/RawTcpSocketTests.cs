using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Net;
using NetLab.Stack.Icmp;
using NetLab.Stack.IPv4;
using NetLab.Stack.Sockets;
using NetLab.Stack.Tcp;

namespace NetLab.Stack.Tests;

/// <summary>
/// Raw IPPROTO_TCP sockets as traceroute -T uses them (mod-tcp.c): connected to the target, with IP_RECVERR.
/// a (10.0.1.2) — r — b (10.0.2.2).
/// </summary>
public class RawTcpSocketTests
{
    private static readonly Ipv4Address A = Ipv4Address.Parse("10.0.1.2"), R = Ipv4Address.Parse("10.0.1.1"), B = Ipv4Address.Parse("10.0.2.2");

    /// <summary>A SYN from port 40000 to <paramref name="port"/>, as traceroute builds it.</summary>
    private static byte[] Syn(ushort port, Ipv4Address src, Ipv4Address dst)
    {
        var seg = new byte[TcpHeaderView.MinLength];
        new TcpRepr(40000, port, new SeqNum(1000), default, TcpFlags.Syn, 5840).Emit(seg, src, dst);
        return seg;
    }

    private static void RunFor(World w, int ms) => w.RunFor(SimDuration.FromMilliseconds(ms));

    [Fact]
    public void Connect_TakesTheRoutesSourceAddress_AndIpMtuIsThePathMtu()
    {
        var (_, a, r, _) = TestNetworks.Routed();
        using var raw = RawSocket.Open(a, IpProtocol.Tcp);
        Assert.Equal(Errno.ENOTCONN, raw.GetMtu(out _)); // getsockopt(IP_MTU) wants a route
        using var fromR = RawSocket.Open(r, IpProtocol.Tcp);
        Assert.Equal(Errno.ENETUNREACH, fromR.Connect(Ipv4Address.Parse("10.9.9.9"))); // r has no default route
        Assert.Equal(Errno.None, raw.Connect(B));
        Assert.Equal((A, B, true), (raw.LocalAddress, raw.RemoteAddress, raw.IsConnected));
        Assert.Equal(Errno.None, raw.GetMtu(out int mtu));
        Assert.Equal(1500, mtu);
        a.Ipv4.UpdatePmtu(B, 1400);
        Assert.Equal(Errno.None, raw.GetMtu(out mtu));
        Assert.Equal(1400, mtu);
    }

    [Fact]
    public void TimeExceeded_GoesToTheErrorQueue_WithTheQuotedSegment_OnlyWithRecvErr()
    {
        var (w, a, _, _) = TestNetworks.Routed();
        using var raw = RawSocket.Open(a, IpProtocol.Tcp);
        using var quiet = RawSocket.Open(a, IpProtocol.Tcp); // neither IP_RECVERR nor connected: raw_err() ignores it
        raw.RecvErr = true;
        Assert.Equal(Errno.None, raw.Connect(B));
        raw.Ttl = 1;
        long inErrors = a.IcmpStats[IcmpMib.InErrors];
        Assert.Equal(Errno.None, raw.Send(Syn(80, A, B)));
        RunFor(w, 100);
        Assert.Equal((1, 0, Errno.EHOSTUNREACH), (raw.ErrorQueueLength, raw.Queued, raw.PendingError));
        Assert.Equal((0, 0, Errno.None), (quiet.ErrorQueueLength, quiet.Queued, quiet.PendingError));
        Assert.True(raw.TryReceiveError(out var e));
        Assert.Equal((Errno.EHOSTUNREACH, ErrOrigin.Icmp, IcmpType.TimeExceeded, (byte)0), (e!.Errno, e.Origin, e.Type, e.Code));
        // msg_name is the quoted destination (port 0: raw sockets have none), SO_EE_OFFENDER the router.
        Assert.Equal((B, (ushort)0, R, 64), (e.Destination, e.DestinationPort, e.Offender, e.OffenderTtl));
        var quoted = TcpHeaderView.ForEmit(e.Payload);
        Assert.Equal(((ushort)40000, (ushort)80, TcpFlags.Syn), (quoted.SourcePort, quoted.DestinationPort, quoted.Flags));
        Assert.Equal(Errno.None, raw.PendingError); // ip_recv_error(): sk_err follows the queue
        // tcp_v4_err(): no socket has the segment's ports, so TCP counts the error and drops it.
        Assert.Equal(inErrors + 1, a.IcmpStats[IcmpMib.InErrors]);
    }

    [Fact]
    public void ConnectedSocket_HearsOnlyItsPeer_AndTheHostResetsTheSynAck()
    {
        var (w, a, _, b) = TestNetworks.Routed();
        var listener = b.Tcp.Open();
        Assert.Equal(Errno.None, listener.Bind(Ipv4Address.Any, 80));
        Assert.Equal(Errno.None, listener.Listen(5));
        using var toB = RawSocket.Open(a, IpProtocol.Tcp);
        using var toR = RawSocket.Open(a, IpProtocol.Tcp);
        using var any = RawSocket.Open(a, IpProtocol.Tcp);
        Assert.Equal(Errno.None, toB.Connect(B));
        Assert.Equal(Errno.None, toR.Connect(R));
        // The port is held by a socket that is only bound: a SYN-ACK to it finds no connection (half-open scan).
        var holder = a.Tcp.Open();
        Assert.Equal(Errno.None, holder.Bind(Ipv4Address.Any, 40000));
        long rsts = a.TcpStats[TcpMib.OutRsts];
        Assert.Equal(Errno.None, toB.Send(Syn(80, A, B)));
        RunFor(w, 100);
        Assert.Equal((1, 0, 1), (toB.Queued, toR.Queued, any.Queued));
        Assert.True(toB.TryReceive(out var d));
        var ip = Ipv4HeaderView.ForEmit(d!.Datagram);
        Assert.Equal((B, A, (byte)63), (ip.Source, ip.Destination, ip.Ttl));
        var synAck = TcpHeaderView.ForEmit(d.Datagram.AsSpan(ip.HeaderLength));
        Assert.Equal(((ushort)80, (ushort)40000, TcpFlags.Syn | TcpFlags.Ack), (synAck.SourcePort, synAck.DestinationPort, synAck.Flags));
        Assert.Equal(rsts + 1, a.TcpStats[TcpMib.OutRsts]);
        // The RST removed b's request: nothing waits to be accepted, nothing is retransmitted.
        Assert.DoesNotContain(b.Tcp.Entries(), e => e.State != TcpState.Listen);
        holder.Dispose();
        listener.Dispose();
    }
}
