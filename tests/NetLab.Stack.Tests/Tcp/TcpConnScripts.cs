using NetLab.Core.Time;
using NetLab.Stack.Tcp;
using static NetLab.Stack.Tcp.TcpFlags;
using static NetLab.Stack.Tests.Tcp.TcpHarness;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>
/// The handshakes the connection-management tests start from, written as packetdrill preambles: a Linux 6.18 peer
/// (mss 1460, sackOK, TS, wscale 7) whose timestamp clock reads <see cref="PeerTs"/> + milliseconds of script time.
/// </summary>
internal static class TcpConnScripts
{
    /// <summary>The peer's TSval at script time 0 (its clock ticks once per millisecond, as Linux's does).</summary>
    public const uint PeerTs = 700_000;

    /// <summary>The peer's window scale in the scripts (Linux ≤ 6.15 with tcp_rmem[2] = 6 MiB).</summary>
    public const byte PeerWscale = 7;

    public static uint PeerTsAt(SimDuration at) => PeerTs + (uint)(at.Nanoseconds / 1_000_000);

    /// <summary>The options a Linux peer puts on its SYN or SYN-ACK: <c>mss 1460,sackOK,TS val v ecr e,nop,wscale 7</c>.</summary>
    public static TcpOptionSet LinuxSynOptions(uint tsval, uint tsecr = 0, ushort mss = 1460, byte? wscale = PeerWscale) =>
        new() { Mss = mss, SackPermitted = true, Timestamp = new(tsval, tsecr), WindowScale = wscale };

    public static TcpOptionSet Ts(uint tsval, uint tsecr) => new() { Timestamp = new(tsval, tsecr) };

    public static uint TsVal(this SentSegment s) => s.Tcp.Options.Timestamp?.TsVal ?? throw new InvalidOperationException($"no TS option:\n{s}");

    /// <summary>The DUT's TSval offset (secure_tcp_ts_off) as a SYN or SYN-ACK sent at <paramref name="s"/>.At shows it.</summary>
    public static uint TsOffset(this SentSegment s) => s.TsVal() - (uint)(s.At.Nanoseconds / 1_000_000);

    /// <summary>The DUT's TSval at script time <paramref name="at"/>.</summary>
    public static uint DutTsAt(uint offset, SimDuration at) => offset + (uint)(at.Nanoseconds / 1_000_000);

    /// <summary>A client socket bound to 192.168.0.1:40000 whose connect() to 192.0.2.1:8080 runs at <paramref name="at"/>.</summary>
    public static TcpSocket StartConnect(TcpHarness h, SimDuration at, Action<TcpSocket>? configure = null)
    {
        var s = h.Host.Tcp.Open();
        configure?.Invoke(s);
        Assert.Equal(Errno.None, s.Bind(LocalIp, LocalPort));
        h.At(at, () => Assert.Equal(Errno.EINPROGRESS, s.Connect(RemoteIp, RemotePort)));
        return s;
    }

    /// <summary>
    /// Active open with a Linux peer 10 ms away: SYN at <paramref name="at"/>, SYN-ACK 10 ms later, the third ACK at
    /// once. Returns the ESTABLISHED socket and the DUT's TS offset; the peer's ISN is <see cref="RemoteIsn"/>.
    /// </summary>
    public static (TcpSocket Socket, uint TsOff) Establish(TcpHarness h, SimDuration at = default, Action<TcpSocket>? configure = null)
    {
        var s = StartConnect(h, at, configure);
        var syn = h.ExpectSent(at, Seg.Flags(Syn));
        var synAckAt = at + SimDuration.FromMilliseconds(10);
        h.Send(synAckAt, SendTemplate with
        {
            Flags = Syn | Ack, Seq = RemoteIsn, Ack = h.LocalIsn + 1, Window = 65160,
            Options = LinuxSynOptions(PeerTsAt(synAckAt), syn.TsVal()),
        });
        h.ExpectSent(synAckAt, Seg.Flags(Ack), Seg.Seq(h.LocalIsn + 1), Seg.Ack(RemoteIsn + 1));
        Assert.Equal(TcpState.Established, s.State);
        return (s, syn.TsOffset());
    }

    /// <summary>A listener on 0.0.0.0:40000 with <paramref name="backlog"/>.</summary>
    public static TcpSocket Listen(TcpHarness h, int backlog = 128, Action<TcpSocket>? configure = null)
    {
        var l = h.Host.Tcp.Open();
        configure?.Invoke(l);
        Assert.Equal(Errno.None, l.Bind(default, LocalPort));
        Assert.Equal(Errno.None, l.Listen(backlog));
        return l;
    }

    /// <summary>
    /// Passive open from peer port <paramref name="peerPort"/>: SYN at <paramref name="at"/>, the DUT's SYN-ACK at once,
    /// the final ACK 10 ms later. Returns the DUT's ISN and TS offset (the child sits in the accept queue).
    /// </summary>
    public static (SeqNum Isn, uint TsOff) PassiveOpen(TcpHarness h, SimDuration at, ushort peerPort = RemotePort, SeqNum? peerIsn = null)
    {
        var isn = peerIsn ?? RemoteIsn;
        h.Send(at, SendTemplate with
        {
            SourcePort = peerPort, Flags = Syn, Seq = isn, Ack = default, Window = 64240, Options = LinuxSynOptions(PeerTsAt(at)),
        });
        var synAck = h.ExpectSent(at, Seg.Flags(Syn | Ack), Seg.Ack(isn + 1), Seg.Where($"dport {peerPort}", s => s.Tcp.DestinationPort == peerPort));
        var ackAt = at + SimDuration.FromMilliseconds(10);
        h.Send(ackAt, SendTemplate with
        {
            SourcePort = peerPort, Seq = isn + 1, Ack = synAck.Tcp.Seq + 1, Window = 502, Options = Ts(PeerTsAt(ackAt), synAck.TsVal()),
        });
        return (synAck.Tcp.Seq, synAck.TsOffset());
    }

    /// <summary>Accepts the next child or fails.</summary>
    public static TcpSocket Accept(TcpSocket listener)
    {
        Assert.Equal(Errno.None, listener.TryAccept(out var child));
        return child!;
    }

    /// <summary>The errno a finished socket call (ConnectAsync, ReceiveAsync, ...) failed with.</summary>
    public static Errno FailedWith(this Task t)
    {
        Assert.True(t.IsFaulted, $"the call has not failed (status {t.Status})");
        return Assert.IsType<NetLabSocketException>(t.Exception!.InnerException).Errno;
    }

    public static long Ext(this TcpHarness h, TcpExtMib mib) => h.Host.TcpExtStats[mib];
    public static long Mib(this TcpHarness h, TcpMib mib) => h.Host.TcpStats[mib];
}
