using NetLab.Core.Time;
using NetLab.Stack.Tcp;
using static NetLab.Stack.Tcp.TcpFlags;
using static NetLab.Stack.Tests.Tcp.TcpConnScripts;
using static NetLab.Stack.Tests.Tcp.TcpHarness;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>
/// TIME_WAIT mini-sockets: their 60 s, what they answer (tcp_timewait_state_process), new SYNs that reopen the
/// 4-tuple, tcp_max_tw_buckets, and connect() reusing a TIME_WAIT tuple (tcp_twsk_unique) or finding no port
/// (§4.4-4.5 of docs/reference/linux-tcp.md).
/// </summary>
public class TcpTimeWaitTests
{
    /// <summary>The DUT client (192.168.0.1:40000, explicitly bound) closes first at 100 ms; TIME_WAIT from 110 ms.</summary>
    private static (TcpSocket Socket, uint TsOff) ClientToTimeWait(TcpHarness h, Action<TcpSocket>? configure = null)
    {
        var (s, off) = Establish(h, configure: configure);
        h.At(100.Ms(), s.Close);
        h.ExpectSent(100.Ms(), Seg.Flags(Fin | Ack), Seg.Seq(h.LocalIsn + 1));
        h.Send(110.Ms(), SendTemplate with
        {
            Flags = Fin | Ack, Ack = h.LocalIsn + 2, Window = 502, Options = Ts(PeerTsAt(110.Ms()), DutTsAt(off, 100.Ms())),
        });
        h.ExpectSent(110.Ms(), Seg.Flags(Ack), Seg.Seq(h.LocalIsn + 2), Seg.Ack(RemoteIsn + 2));
        Assert.Equal(1, h.Host.Tcp.TimeWaitCount);
        return (s, off);
    }

    /// <summary>A listener's child closes first at 100 ms (the server side of an HTTP/1.0 exchange): TIME_WAIT from 110 ms.</summary>
    private static (TcpSocket Listener, SeqNum Isn, uint TsOff) ServerToTimeWait(TcpHarness h)
    {
        var l = Listen(h);
        var (isn, off) = PassiveOpen(h, 0.Ms());
        var c = Accept(l);
        h.At(100.Ms(), c.Close);
        h.ExpectSent(100.Ms(), Seg.Flags(Fin | Ack), Seg.Seq(isn + 1));
        h.Send(110.Ms(), SendTemplate with
        {
            Flags = Fin | Ack, Ack = isn + 2, Window = 502, Options = Ts(PeerTsAt(110.Ms()), DutTsAt(off, 100.Ms())),
        });
        h.ExpectSent(110.Ms(), Seg.Flags(Ack), Seg.Seq(isn + 2), Seg.Ack(RemoteIsn + 2));
        Assert.Equal(1, h.Host.Tcp.TimeWaitCount);
        return (l, isn, off);
    }

    [Fact]
    public void TimeWait_Lasts60s_AndHoldsItsPortAgainstBind()
    {
        using var h = new TcpHarness();
        ClientToTimeWait(h);
        var entry = Assert.Single(h.Host.Tcp.Entries());
        Assert.Equal((TcpState.TimeWait, "timewait", 60_000_000L), (entry.State, entry.Timer, entry.TimerRemainingUs));
        using var again = h.Host.Tcp.Open();
        Assert.Equal(Errno.EADDRINUSE, again.Bind(LocalIp, LocalPort));
        h.ExpectNothingUntil(60.Sec() + 110.Ms());
        Assert.Equal(1, h.Host.Tcp.TimeWaitCount);
        h.ExpectNothingUntil(60.Sec() + 111.Ms());
        Assert.Equal(0, h.Host.Tcp.TimeWaitCount);
        Assert.Equal(Errno.None, again.Bind(LocalIp, LocalPort));
        Assert.Equal(1, h.Ext(TcpExtMib.TW));
    }

    [Fact]
    public void RetransmittedFin_InTimeWait_IsAckedAgain_AndRestartsThe60s_RateLimited()
    {
        using var h = new TcpHarness();
        var (_, off) = ClientToTimeWait(h);
        h.Send(1.Sec(), SendTemplate with
        {
            Flags = Fin | Ack, Ack = h.LocalIsn + 2, Window = 502, Options = Ts(PeerTsAt(1.Sec()), DutTsAt(off, 100.Ms())),
        });
        // tcp_v4_timewait_ack(): seq tw_snd_nxt, ack tw_rcv_nxt, window tw_rcv_wnd >> 10, TSecr = tw_ts_recent.
        h.ExpectSent(1.Sec(), Seg.Flags(Ack), Seg.Seq(h.LocalIsn + 2), Seg.Ack(RemoteIsn + 2), Seg.Window(63),
            Seg.Timestamp(DutTsAt(off, 1.Sec()), PeerTsAt(110.Ms())));
        // Another within tcp_invalid_ratelimit: no ACK (TCPACKSkippedTimeWait), but the timer still restarts.
        h.Send(1200.Ms(), SendTemplate with
        {
            Flags = Fin | Ack, Ack = h.LocalIsn + 2, Window = 502, Options = Ts(PeerTsAt(1200.Ms()), DutTsAt(off, 100.Ms())),
        });
        Assert.Equal(1, h.Ext(TcpExtMib.TCPACKSkippedTimeWait));
        h.ExpectNothingUntil(61.Sec() + 200.Ms());
        Assert.Equal(1, h.Host.Tcp.TimeWaitCount);
        h.ExpectNothingUntil(61.Sec() + 201.Ms());
        Assert.Equal(0, h.Host.Tcp.TimeWaitCount);
        Assert.Equal(1, h.Ext(TcpExtMib.TW)); // rescheduling is not counted again
    }

    [Fact]
    public void BareAckAtRcvNxt_InTimeWait_RestartsThe60s_WithoutReply()
    {
        using var h = new TcpHarness();
        var (_, off) = ClientToTimeWait(h);
        h.Send(30.Sec(), SendTemplate with
        {
            Seq = RemoteIsn + 2, Ack = h.LocalIsn + 2, Window = 502, Options = Ts(PeerTsAt(30.Sec()), DutTsAt(off, 110.Ms())),
        });
        h.ExpectNothingUntil(90.Sec());
        Assert.Equal(1, h.Host.Tcp.TimeWaitCount);
        h.ExpectNothingUntil(90.Sec() + 1.Ms());
        Assert.Equal(0, h.Host.Tcp.TimeWaitCount);
    }

    [Fact]
    public void Rst_InTimeWait_KillsIt_WithoutACounter()
    {
        using var h = new TcpHarness();
        ClientToTimeWait(h);
        h.Send(5.Sec(), SendTemplate with { Flags = Rst, Seq = RemoteIsn + 2, Ack = default });
        Assert.Equal(0, h.Host.Tcp.TimeWaitCount);
        Assert.Equal((1, 0), (h.Ext(TcpExtMib.TW), h.Ext(TcpExtMib.TWKilled)));
        h.ExpectNothingUntil(100.Sec());
    }

    [Fact]
    public void Rst_InTimeWait_IsIgnored_WithTcpRfc1337()
    {
        using var h = new TcpHarness();
        h.Host.Sysctl.Set("net.ipv4.tcp_rfc1337", "1");
        ClientToTimeWait(h);
        h.Send(5.Sec(), SendTemplate with { Flags = Rst, Seq = RemoteIsn + 2, Ack = default });
        Assert.Equal(1, h.Host.Tcp.TimeWaitCount);
        h.ExpectNothingUntil(60.Sec() + 111.Ms()); // and the 60 s are not restarted
        Assert.Equal(0, h.Host.Tcp.TimeWaitCount);
    }

    [Fact]
    public void RstWithAnotherSequence_InTimeWait_IsIgnored()
    {
        using var h = new TcpHarness();
        ClientToTimeWait(h);
        h.Send(5.Sec(), SendTemplate with { Flags = Rst, Seq = RemoteIsn + 1000, Ack = default });
        Assert.Equal(1, h.Host.Tcp.TimeWaitCount);
        h.ExpectNothingUntil(60.Sec());
    }

    [Fact]
    public void OldData_InTimeWait_IsAnsweredWithTheTimeWaitAck()
    {
        using var h = new TcpHarness();
        var (_, off) = ClientToTimeWait(h);
        h.Send(2.Sec(), SendTemplate with
        {
            Flags = Psh | Ack, Seq = RemoteIsn + 1, Ack = h.LocalIsn + 2, Window = 502, Payload = new byte[10],
            Options = Ts(PeerTsAt(2.Sec()), DutTsAt(off, 110.Ms())),
        });
        h.ExpectSent(2.Sec(), Seg.Flags(Ack), Seg.Seq(h.LocalIsn + 2), Seg.Ack(RemoteIsn + 2), Seg.PayloadLength(0));
        Assert.Equal(1, h.Host.Tcp.TimeWaitCount);
    }

    [Fact]
    public void FinWait2MiniSocket_AnswersANewSynWithRst_AndAnOutOfWindowSegmentWithAnAck()
    {
        using var h = new TcpHarness();
        var (s, off) = Establish(h);
        h.At(100.Ms(), s.Close);
        h.ExpectSent(100.Ms(), Seg.Flags(Fin | Ack));
        h.Send(110.Ms(), SendTemplate with { Ack = h.LocalIsn + 2, Window = 502, Options = Ts(PeerTsAt(110.Ms()), DutTsAt(off, 100.Ms())) });
        // Substate FIN_WAIT2, "Out of window, send ACK": an old segment.
        h.Send(1.Sec(), SendTemplate with { Seq = RemoteIsn - 100, Ack = h.LocalIsn + 2, Window = 502, Payload = new byte[10] });
        h.ExpectSent(1.Sec(), Seg.Flags(Ack), Seg.Seq(h.LocalIsn + 2), Seg.Ack(RemoteIsn + 1));
        // A SYN at or after rcv_nxt: TCP_TW_RST (no ACK in the SYN, so RST|ACK seq 0).
        h.Send(2.Sec(), SendTemplate with { Flags = Syn, Seq = RemoteIsn + 10, Ack = default, Window = 64240 });
        h.ExpectSent(2.Sec(), Seg.Flags(Rst | Ack), Seg.Seq(new SeqNum(0)), Seg.Ack(RemoteIsn + 11));
        Assert.Equal(1, h.Host.Tcp.TimeWaitCount);
    }

    // ------------------------------------------------------------------ a new SYN for the same 4-tuple

    [Fact]
    public void Syn_InTimeWait_WithAHigherSequence_OpensANewConnection_WithIsnTwSndNxtPlus65537()
    {
        using var h = new TcpHarness();
        var (l, isn, off) = ServerToTimeWait(h);
        var newIsn = RemoteIsn + 100_000;
        h.Send(2.Sec(), SendTemplate with
        {
            Flags = Syn, Seq = newIsn, Ack = default, Window = 64240, Options = LinuxSynOptions(PeerTsAt(2.Sec())),
        });
        // tcp_timewait_state_process() → TCP_TW_SYN: isn = tw_snd_nxt + 65535 + 2; the listener takes the SYN.
        h.ExpectSent(2.Sec(), Seg.Flags(Syn | Ack), Seg.Seq(isn + 2 + 65537), Seg.Ack(newIsn + 1), Seg.Window(65160),
            Seg.Timestamp(DutTsAt(off, 2.Sec()), PeerTsAt(2.Sec())));
        Assert.Equal(0, h.Host.Tcp.TimeWaitCount);
        Assert.Equal(1, l.SynQueueLength);
        l.Dispose();
    }

    [Fact]
    public void Syn_InTimeWait_WithALowerSequenceButANewerTimestamp_IsAcceptedToo()
    {
        using var h = new TcpHarness();
        var (l, isn, _) = ServerToTimeWait(h);
        var newIsn = RemoteIsn - 100_000;
        h.Send(2.Sec(), SendTemplate with
        {
            Flags = Syn, Seq = newIsn, Ack = default, Window = 64240, Options = LinuxSynOptions(PeerTsAt(2.Sec())),
        });
        h.ExpectSent(2.Sec(), Seg.Flags(Syn | Ack), Seg.Seq(isn + 2 + 65537), Seg.Ack(newIsn + 1));
        l.Dispose();
    }

    [Fact]
    public void Syn_InTimeWait_OldDuplicate_IsPawsRejected_AndGetsTheTimeWaitAck()
    {
        using var h = new TcpHarness();
        var (l, isn, off) = ServerToTimeWait(h);
        h.Send(2.Sec(), SendTemplate with
        {
            Flags = Syn, Seq = RemoteIsn + 100_000, Ack = default, Window = 64240, Options = LinuxSynOptions(PeerTs), // TSval older than ts_recent
        });
        h.ExpectSent(2.Sec(), Seg.Flags(Ack), Seg.Seq(isn + 2), Seg.Ack(RemoteIsn + 2), Seg.Timestamp(DutTsAt(off, 2.Sec()), PeerTsAt(110.Ms())));
        Assert.Equal(1, h.Ext(TcpExtMib.PAWSTimewait));
        Assert.Equal(1, h.Host.Tcp.TimeWaitCount);
        Assert.Equal(0, l.SynQueueLength);
        // paws_reject reschedules the 60 s.
        h.ExpectNothingUntil(62.Sec());
        Assert.Equal(1, h.Host.Tcp.TimeWaitCount);
        h.ExpectNothingUntil(62.Sec() + 1.Ms());
        Assert.Equal(0, h.Host.Tcp.TimeWaitCount);
        l.Dispose();
    }

    [Fact]
    public void Syn_InTimeWait_WithoutAListener_GetsTheTimeWaitAck()
    {
        using var h = new TcpHarness();
        var (_, off) = ClientToTimeWait(h);
        h.Send(2.Sec(), SendTemplate with
        {
            Flags = Syn, Seq = RemoteIsn + 100_000, Ack = default, Window = 64240, Options = LinuxSynOptions(PeerTsAt(2.Sec())),
        });
        h.ExpectSent(2.Sec(), Seg.Flags(Ack), Seg.Seq(h.LocalIsn + 2), Seg.Ack(RemoteIsn + 2));
        Assert.Equal(1, h.Host.Tcp.TimeWaitCount);
    }

    // ------------------------------------------------------------------ tcp_max_tw_buckets

    [Fact]
    public void MaxTwBucketsReached_TheConnectionClosesWithoutTimeWait_TCPTimeWaitOverflow()
    {
        using var h = new TcpHarness();
        h.Host.Sysctl.Set("net.ipv4.tcp_max_tw_buckets", "0");
        var (s, _) = Establish(h);
        h.At(100.Ms(), s.Close);
        h.ExpectSent(100.Ms(), Seg.Flags(Fin | Ack));
        h.Send(110.Ms(), SendTemplate with { Flags = Fin | Ack, Ack = h.LocalIsn + 2, Window = 502 });
        h.ExpectSent(110.Ms(), Seg.Flags(Ack), Seg.Ack(RemoteIsn + 2));
        Assert.Equal(0, h.Host.Tcp.TimeWaitCount);
        Assert.Equal((1, 0), (h.Ext(TcpExtMib.TCPTimeWaitOverflow), h.Ext(TcpExtMib.TW)));
        // The peer's retransmitted FIN meets no socket at all.
        h.Send(1.Sec(), SendTemplate with { Flags = Fin | Ack, Ack = h.LocalIsn + 2, Window = 502 });
        h.ExpectSent(1.Sec(), Seg.Flags(Rst), Seg.Seq(h.LocalIsn + 2));
    }

    // ------------------------------------------------------------------ connect() over a TIME_WAIT tuple

    /// <summary>One ephemeral port (40000) for connect(), so a second connection to the peer needs the same 4-tuple.</summary>
    private static void OnePort(TcpHarness h) => h.Host.Sysctl.Set("net.ipv4.ip_local_port_range", "40000 40000");

    /// <summary>connect() from an ephemeral port at <paramref name="at"/>; returns the errno.</summary>
    private static Errno ConnectEphemeral(TcpHarness h, SimDuration at, out TcpSocket s)
    {
        var sock = h.Host.Tcp.Open();
        s = sock;
        Errno err = Errno.None;
        h.At(at, () => err = sock.Connect(RemoteIp, RemotePort));
        return err;
    }

    private static SeqNum EphemeralClientToTimeWait(TcpHarness h)
    {
        Assert.Equal(Errno.EINPROGRESS, ConnectEphemeral(h, 0.Ms(), out var s));
        var syn = h.ExpectSent(0.Ms(), Seg.Flags(Syn), Seg.Where("sport 40000", x => x.Tcp.SourcePort == 40000));
        h.Send(10.Ms(), SendTemplate with
        {
            Flags = Syn | Ack, Seq = RemoteIsn, Ack = h.LocalIsn + 1, Window = 65160, Options = LinuxSynOptions(PeerTsAt(10.Ms()), syn.TsVal()),
        });
        h.ExpectSent(10.Ms(), Seg.Flags(Ack));
        h.At(100.Ms(), s.Close);
        h.ExpectSent(100.Ms(), Seg.Flags(Fin | Ack));
        h.Send(110.Ms(), SendTemplate with { Flags = Fin | Ack, Ack = h.LocalIsn + 2, Window = 502, Options = Ts(PeerTsAt(110.Ms()), syn.TsVal() + 100) });
        h.ExpectSent(110.Ms(), Seg.Flags(Ack));
        Assert.Equal(1, h.Host.Tcp.TimeWaitCount);
        return h.LocalIsn + 2; // tw_snd_nxt
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)] // the default: loopback only, and 192.0.2.1 is not
    public void Connect_OverATimeWaitTuple_FailsWithEaddrnotavail_WithoutTwReuse(int twReuse)
    {
        using var h = new TcpHarness();
        h.Host.Sysctl.Set("net.ipv4.tcp_tw_reuse", twReuse.ToString());
        OnePort(h);
        EphemeralClientToTimeWait(h);
        Assert.Equal(Errno.EADDRNOTAVAIL, ConnectEphemeral(h, 30.Sec(), out var s));
        Assert.Equal(TcpState.Close, s.State);
        h.ExpectNothingUntil(31.Sec());
        Assert.Equal(0, h.Ext(TcpExtMib.TWRecycled));
        // Another destination port is another 4-tuple.
        h.At(31.Sec(), () => Assert.Equal(Errno.EINPROGRESS, s.Connect(RemoteIp, 8081)));
        h.ExpectSent(31.Sec(), Seg.Flags(Syn), Seg.Where("40000 > 8081", x => x.Tcp.SourcePort == 40000 && x.Tcp.DestinationPort == 8081));
    }

    [Fact]
    public void Connect_WithTwReuse1_TakesOverTheTimeWait_OnlyAfterTcpTwReuseDelay()
    {
        using var h = new TcpHarness();
        h.Host.Sysctl.Set("net.ipv4.tcp_tw_reuse", "1");
        OnePort(h);
        var twSndNxt = EphemeralClientToTimeWait(h);
        // tcp_twsk_unique(): time_after32(tcp_clock_ms(), tw_entry_stamp + tcp_tw_reuse_delay): strictly after 1110 ms.
        Assert.Equal(Errno.EADDRNOTAVAIL, ConnectEphemeral(h, 1110.Ms(), out _));
        Assert.Equal(Errno.EINPROGRESS, ConnectEphemeral(h, 1111.Ms(), out var s));
        // The new ISN continues after the old connection's: tw_snd_nxt + 65535 + 2.
        h.ExpectSent(1111.Ms(), Seg.Flags(Syn), Seg.Seq(twSndNxt + 65537), Seg.Where("sport 40000", x => x.Tcp.SourcePort == 40000));
        Assert.Equal(1, h.Ext(TcpExtMib.TWRecycled));
        Assert.Equal(0, h.Host.Tcp.TimeWaitCount);
        Assert.Equal(TcpState.SynSent, s.State);
    }

    [Fact]
    public void Connect_FromAnExplicitlyBoundPort_ReusesTheTimeWaitAtOnce_EvenWithTwReuse0()
    {
        // __inet_hash_connect() with a bound port calls check_established(..., twp = NULL): tcp_twsk_unique() then
        // only needs timestamps. bind() itself needs SO_REUSEADDR on the new socket and on the old one.
        using var h = new TcpHarness();
        h.Host.Sysctl.Set("net.ipv4.tcp_tw_reuse", "0");
        ClientToTimeWait(h, c => c.ReuseAddress = true);
        var twSndNxt = h.LocalIsn + 2;
        var s = h.Host.Tcp.Open();
        Assert.Equal(Errno.EADDRINUSE, s.Bind(LocalIp, LocalPort));
        s.ReuseAddress = true;
        Assert.Equal(Errno.None, s.Bind(LocalIp, LocalPort));
        h.At(200.Ms(), () => Assert.Equal(Errno.EINPROGRESS, s.Connect(RemoteIp, RemotePort)));
        h.ExpectSent(200.Ms(), Seg.Flags(Syn), Seg.Seq(twSndNxt + 65537));
        Assert.Equal((1, 0), (h.Ext(TcpExtMib.TWRecycled), h.Host.Tcp.TimeWaitCount));
    }

    [Fact]
    public void Connect_WithoutAFreePort_FailsWithEaddrnotavail()
    {
        using var h = new TcpHarness();
        OnePort(h);
        Assert.Equal(Errno.EINPROGRESS, ConnectEphemeral(h, 0.Ms(), out _));
        h.ExpectSent(0.Ms(), Seg.Flags(Syn));
        Assert.Equal(Errno.EADDRNOTAVAIL, ConnectEphemeral(h, 10.Ms(), out var second));
        Assert.Equal((TcpState.Close, (ushort)0), (second.State, second.LocalPort));
        h.ExpectSent(1.Sec(), Seg.Flags(Syn)); // only the first connection's retransmission
    }

    [Fact]
    public void Connect_OverALoopbackTimeWait_IsReusedWithTheDefaultTwReuse2()
    {
        using var h = new TcpHarness();
        OnePort(h);
        var loopback = Core.Addressing.Ipv4Address.Parse("127.0.0.1");
        var l = h.Host.Tcp.Open();
        Assert.Equal(Errno.None, l.Bind(loopback, 5000));
        Assert.Equal(Errno.None, l.Listen(8));
        h.Run(async () =>
        {
            var c = h.Host.Tcp.Open();
            await c.ConnectAsync(loopback, 5000);
            var server = await l.AcceptAsync();
            c.Close();
            Assert.Equal(0, await server.ReceiveAsync(new byte[4]));
            server.Close();
            await Task.Delay(TimeSpan.FromMilliseconds(100), h.Scheduler.TimeProvider);
        });
        Assert.Equal(1, h.Host.Tcp.TimeWaitCount);
        // Everything on lo happened at one instant, 100 ms before now: the TIME_WAIT may be taken over strictly after
        // tw_entry_stamp + 1000 ms (tcp_tw_reuse 2: 127.0.0.1 is loopback).
        var startedAt = h.Now;
        Assert.Equal(Errno.EADDRNOTAVAIL, ConnectLoopback(h, startedAt + 900.Ms(), loopback));
        Assert.Equal(Errno.EINPROGRESS, ConnectLoopback(h, startedAt + 901.Ms(), loopback));
        Assert.Equal(1, h.Ext(TcpExtMib.TWRecycled));
        h.At(startedAt + 1100.Ms(), l.Close); // resets the new child over lo
        h.ExpectNothingUntil(startedAt + 2000.Ms()); // loopback traffic never reaches eth0
    }

    private static Errno ConnectLoopback(TcpHarness h, SimDuration at, Core.Addressing.Ipv4Address loopback)
    {
        var sock = h.Host.Tcp.Open();
        Errno err = Errno.None;
        h.At(at, () => err = sock.Connect(loopback, 5000));
        return err;
    }
}
