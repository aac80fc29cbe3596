using NetLab.Core.Time;
using NetLab.Stack.Tcp;
using static NetLab.Stack.Tcp.TcpFlags;
using static NetLab.Stack.Tests.Tcp.TcpConnScripts;
using static NetLab.Stack.Tests.Tcp.TcpHarness;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>
/// Closing (FIN_WAIT1/2, CLOSING, CLOSE_WAIT, LAST_ACK): the FIN handshakes, abortive closes, half-close, and the
/// orphan timers (§4.1-4.3 and §4.9 of docs/reference/linux-tcp.md; tcp_close(), tcp_fin(), tcp_rcv_state_process()).
/// </summary>
public class TcpCloseTests
{
    [Fact]
    public void ActiveClose_SendsFinAtOnce_ThenFinWait2_ThenTimeWaitOnThePeersFin()
    {
        using var h = new TcpHarness();
        var (s, off) = Establish(h);
        h.At(100.Ms(), s.Close);
        h.ExpectSent(100.Ms(), Seg.Flags(Fin | Ack), Seg.Seq(h.LocalIsn + 1), Seg.Ack(RemoteIsn + 1), Seg.Window(63), Seg.PayloadLength(0),
            Seg.Timestamp(DutTsAt(off, 100.Ms()), PeerTsAt(10.Ms())));
        Assert.Equal(TcpState.FinWait1, s.State);
        h.Send(110.Ms(), SendTemplate with { Ack = h.LocalIsn + 2, Window = 502, Options = Ts(PeerTsAt(110.Ms()), DutTsAt(off, 100.Ms())) });
        // An orphan whose FIN is acknowledged becomes a FIN_WAIT2 mini-socket (tcp_time_wait(sk, TCP_FIN_WAIT2, 60 s)).
        Assert.Equal(TcpState.Close, s.State);
        Assert.Equal(1, h.Host.Tcp.TimeWaitCount);
        var entry = Assert.Single(h.Host.Tcp.Entries()); // ss shows tw_substate: FIN-WAIT-2, timer timewait 60 s
        Assert.Equal((TcpState.FinWait2, "timewait", 60_000_000L), (entry.State, entry.Timer, entry.TimerRemainingUs));
        h.Send(200.Ms(), SendTemplate with { Flags = Fin | Ack, Ack = h.LocalIsn + 2, Window = 502, Options = Ts(PeerTsAt(200.Ms()), DutTsAt(off, 100.Ms())) });
        // tcp_v4_timewait_ack(): seq tw_snd_nxt, ack tw_rcv_nxt, window tw_rcv_wnd >> tw_rcv_wscale, TS echoing the FIN.
        h.ExpectSent(200.Ms(), Seg.Flags(Ack), Seg.Seq(h.LocalIsn + 2), Seg.Ack(RemoteIsn + 2), Seg.Window(63),
            Seg.Timestamp(DutTsAt(off, 200.Ms()), PeerTsAt(200.Ms())));
        h.ExpectNothingUntil(60.Sec() + 200.Ms());
        Assert.Equal(1, h.Host.Tcp.TimeWaitCount);
        h.ExpectNothingUntil(60.Sec() + 201.Ms());
        Assert.Equal(0, h.Host.Tcp.TimeWaitCount);
        Assert.Equal((1, 0), (h.Ext(TcpExtMib.TW), h.Ext(TcpExtMib.TWKilled)));
        Assert.Equal(0, h.Mib(TcpMib.EstabResets));
    }

    [Fact]
    public void ActiveClose_PeersFinAckTogether_AckedAtOnce_IntoTimeWait()
    {
        using var h = new TcpHarness();
        var (s, _) = Establish(h);
        h.At(100.Ms(), s.Close);
        h.ExpectSent(100.Ms(), Seg.Flags(Fin | Ack));
        h.Send(110.Ms(), SendTemplate with { Flags = Fin | Ack, Ack = h.LocalIsn + 2, Window = 502 });
        h.ExpectSent(110.Ms(), Seg.Flags(Ack), Seg.Seq(h.LocalIsn + 2), Seg.Ack(RemoteIsn + 2));
        Assert.Equal(1, h.Host.Tcp.TimeWaitCount);
        h.ExpectNothingUntil(60.Sec() + 111.Ms());
        Assert.Equal(0, h.Host.Tcp.TimeWaitCount);
    }

    /// <summary>Request and response, then the peer's FIN: the DUT is in pingpong mode and its ACK waits (ato 40 ms).</summary>
    private static TcpSocket ToCloseWait(TcpHarness h)
    {
        var (s, _) = Establish(h);
        h.Send(100.Ms(), SendTemplate with { Flags = Psh | Ack, Ack = h.LocalIsn + 1, Payload = "req"u8.ToArray() });
        h.ExpectSent(100.Ms(), Seg.Flags(Ack), Seg.Ack(RemoteIsn + 4)); // quick-ACK mode at first
        h.At(150.Ms(), () =>
        {
            Assert.Equal(Errno.None, s.TryReceive(new byte[10], out int n));
            Assert.Equal(Errno.None, s.TrySend("resp"u8, out _));
        });
        h.ExpectSent(150.Ms(), Seg.Flags(Psh | Ack), Seg.PayloadLength(4));
        h.Send(160.Ms(), SendTemplate with { Flags = Fin | Ack, Seq = RemoteIsn + 4, Ack = h.LocalIsn + 5, Window = 502 });
        Assert.Equal(TcpState.CloseWait, s.State);
        return s;
    }

    [Fact]
    public void PassiveClose_WithinTheDelayedAck_IsAThreeSegmentClose()
    {
        using var h = new TcpHarness();
        var s = ToCloseWait(h);
        Assert.Equal(Errno.None, s.TryReceive(new byte[10], out int eof));
        Assert.Equal(0, eof);
        h.At(170.Ms(), s.Close);
        // tcp_fin() entered pingpong mode: the ACK of the FIN rides on our FIN.
        h.ExpectSent(170.Ms(), Seg.Flags(Fin | Ack), Seg.Seq(h.LocalIsn + 5), Seg.Ack(RemoteIsn + 5));
        Assert.Equal(TcpState.LastAck, s.State);
        h.ExpectNothingUntil(180.Ms());
        h.Send(180.Ms(), SendTemplate with { Seq = RemoteIsn + 5, Ack = h.LocalIsn + 6, Window = 502 });
        Assert.Equal(TcpState.Close, s.State);
        Assert.Equal(0, h.Host.Tcp.TimeWaitCount); // the passive closer has no TIME_WAIT
        Assert.Empty(h.Host.Tcp.Entries());
        h.ExpectNothingUntil(100.Sec());
    }

    [Fact]
    public void PassiveClose_TheFinIsAckedByTheDelayedAckTimer_AfterAto40ms()
    {
        using var h = new TcpHarness();
        var s = ToCloseWait(h);
        h.ExpectSent(200.Ms(), Seg.Flags(Ack), Seg.Seq(h.LocalIsn + 5), Seg.Ack(RemoteIsn + 5));
        Assert.Equal(1, h.Ext(TcpExtMib.DelayedACKs));
        h.At(300.Ms(), s.Close);
        h.ExpectSent(300.Ms(), Seg.Flags(Fin | Ack), Seg.Seq(h.LocalIsn + 5), Seg.Ack(RemoteIsn + 5));
        // LAST_ACK: the FIN is probed again by the TLP (2·srtt + 200 ms, capped by the 210 ms RTO).
        h.ExpectSent(510.Ms(), Seg.Flags(Fin | Ack), Seg.Seq(h.LocalIsn + 5));
        h.Send(520.Ms(), SendTemplate with { Seq = RemoteIsn + 5, Ack = h.LocalIsn + 6, Window = 502 });
        Assert.Equal(TcpState.Close, s.State);
    }

    [Fact]
    public void CloseWait_WriteStillWorks_AndReadGivesEof()
    {
        using var h = new TcpHarness();
        var s = ToCloseWait(h);
        var buf = new byte[10];
        Assert.Equal(Errno.None, s.TryReceive(buf, out int n));
        Assert.Equal(0, n);
        h.At(170.Ms(), () => Assert.Equal(Errno.None, s.TrySend("more"u8, out _)));
        h.ExpectSent(170.Ms(), Seg.Flags(Psh | Ack), Seg.Seq(h.LocalIsn + 5), Seg.Ack(RemoteIsn + 5), Seg.PayloadLength(4));
        s.Dispose();
    }

    [Fact]
    public void SimultaneousClose_GoesThroughClosing_IntoTimeWait()
    {
        using var h = new TcpHarness();
        var (s, _) = Establish(h);
        h.At(100.Ms(), s.Close);
        h.ExpectSent(100.Ms(), Seg.Flags(Fin | Ack), Seg.Seq(h.LocalIsn + 1));
        // The peer's FIN crossed ours: it does not acknowledge our FIN.
        h.Send(105.Ms(), SendTemplate with { Flags = Fin | Ack, Ack = h.LocalIsn + 1, Window = 502 });
        // tcp_fin() in FIN_WAIT1: ACK now, CLOSING.
        h.ExpectSent(105.Ms(), Seg.Flags(Ack), Seg.Seq(h.LocalIsn + 2), Seg.Ack(RemoteIsn + 2));
        Assert.Equal(TcpState.Closing, s.State);
        h.Send(110.Ms(), SendTemplate with { Seq = RemoteIsn + 2, Ack = h.LocalIsn + 2, Window = 502 });
        Assert.Equal(TcpState.Close, s.State);
        Assert.Equal(1, h.Host.Tcp.TimeWaitCount);
        h.ExpectNothingUntil(60.Sec() + 111.Ms());
        Assert.Equal(0, h.Host.Tcp.TimeWaitCount);
    }

    // ------------------------------------------------------------------ abortive close

    [Fact]
    public void Close_WithUnreadData_SendsRstAck_TCPAbortOnClose()
    {
        using var h = new TcpHarness();
        var (s, off) = Establish(h);
        h.Send(100.Ms(), SendTemplate with
        {
            Flags = Psh | Ack, Ack = h.LocalIsn + 1, Payload = new byte[20], Options = Ts(PeerTsAt(100.Ms()), DutTsAt(off, 10.Ms())),
        });
        h.ExpectSent(100.Ms(), Seg.Flags(Ack), Seg.Ack(RemoteIsn + 21));
        h.At(200.Ms(), s.Close);
        // tcp_send_active_reset(): RST|ACK at tcp_acceptable_seq() = snd_nxt, ack rcv_nxt, with TS; no FIN.
        h.ExpectSent(200.Ms(), Seg.Flags(Rst | Ack), Seg.Seq(h.LocalIsn + 1), Seg.Ack(RemoteIsn + 21), Seg.PayloadLength(0),
            Seg.Timestamp(DutTsAt(off, 200.Ms()), PeerTsAt(100.Ms())));
        Assert.Equal(TcpState.Close, s.State);
        Assert.Equal((1, 1, 0), (h.Ext(TcpExtMib.TCPAbortOnClose), h.Mib(TcpMib.EstabResets), h.Mib(TcpMib.CurrEstab)));
        Assert.Equal(1, h.Mib(TcpMib.OutRsts));
        // Nothing is left: the peer's next segment meets no socket.
        h.Send(300.Ms(), SendTemplate with { Seq = RemoteIsn + 21, Ack = h.LocalIsn + 1, Payload = new byte[1] });
        h.ExpectSent(300.Ms(), Seg.Flags(Rst), Seg.Seq(h.LocalIsn + 1));
        Assert.Equal(0, h.Host.Tcp.TimeWaitCount);
    }

    [Fact]
    public void Close_WithLingerZero_SendsRst_CountedAsTCPAbortOnData()
    {
        using var h = new TcpHarness();
        var (s, _) = Establish(h);
        s.Linger = 0;
        h.At(100.Ms(), s.Close);
        h.ExpectSent(100.Ms(), Seg.Flags(Rst | Ack), Seg.Seq(h.LocalIsn + 1), Seg.Ack(RemoteIsn + 1));
        Assert.Equal((1, 0, 1), (h.Ext(TcpExtMib.TCPAbortOnData), h.Ext(TcpExtMib.TCPAbortOnClose), h.Mib(TcpMib.EstabResets)));
        Assert.Equal(0, h.Host.Tcp.TimeWaitCount);
        h.ExpectNothingUntil(100.Sec());
    }

    [Fact]
    public void Close_WithUnsentData_AndLingerZero_DiscardsIt()
    {
        using var h = new TcpHarness();
        var (s, _) = Establish(h);
        h.Send(20.Ms(), SendTemplate with { Ack = h.LocalIsn + 1, Window = 0 }); // a zero window holds the data back
        h.At(30.Ms(), () => s.TrySend(new byte[500], out _));
        s.Linger = 0;
        h.At(40.Ms(), s.Close);
        h.ExpectSent(40.Ms(), Seg.Flags(Rst | Ack), Seg.Seq(h.LocalIsn + 1));
        h.ExpectNothingUntil(100.Sec());
    }

    [Fact]
    public void DataArrivingAfterClose_ResetsTheConnection_TCPAbortOnData()
    {
        using var h = new TcpHarness();
        var (s, _) = Establish(h);
        h.At(100.Ms(), s.Close);
        h.ExpectSent(100.Ms(), Seg.Flags(Fin | Ack));
        // "RFC 793 says to queue data in these states, RFC 1122 says we MUST send a reset."
        h.Send(105.Ms(), SendTemplate with { Flags = Psh | Ack, Ack = h.LocalIsn + 1, Payload = new byte[10] });
        h.ExpectSent(105.Ms(), Seg.Flags(Rst), Seg.Seq(h.LocalIsn + 1));
        Assert.Equal(1, h.Ext(TcpExtMib.TCPAbortOnData));
        Assert.Equal(0, h.Host.Tcp.TimeWaitCount);
        h.ExpectNothingUntil(100.Sec());
    }

    [Fact]
    public void CloseInSynSent_SendsNothing_AndTheLateSynAckIsReset()
    {
        using var h = new TcpHarness();
        var s = StartConnect(h, 0.Ms());
        var syn = h.ExpectSent(0.Ms(), Seg.Flags(Syn));
        h.At(100.Ms(), s.Close);
        h.ExpectNothingUntil(200.Ms());
        Assert.Equal(TcpState.Close, s.State);
        h.Send(200.Ms(), SendTemplate with
        {
            Flags = Syn | Ack, Seq = RemoteIsn, Ack = h.LocalIsn + 1, Window = 65160, Options = LinuxSynOptions(PeerTsAt(200.Ms()), syn.TsVal()),
        });
        h.ExpectSent(200.Ms(), Seg.Flags(Rst), Seg.Seq(h.LocalIsn + 1));
        h.ExpectNothingUntil(300.Sec());
    }

    // ------------------------------------------------------------------ half-close

    [Fact]
    public void ShutdownWrite_SendsFin_ThenStillReceives_UntilThePeersFin()
    {
        using var h = new TcpHarness();
        var (s, _) = Establish(h);
        h.At(100.Ms(), () => Assert.Equal(Errno.None, s.Shutdown(ShutdownHow.Write)));
        h.ExpectSent(100.Ms(), Seg.Flags(Fin | Ack), Seg.Seq(h.LocalIsn + 1));
        Assert.Equal(Errno.EPIPE, s.TrySend("x"u8, out _));
        h.Send(110.Ms(), SendTemplate with { Ack = h.LocalIsn + 2, Window = 502 });
        Assert.Equal(TcpState.FinWait2, s.State);
        // Not an orphan: FIN_WAIT2 lasts as long as the application wants.
        h.ExpectNothingUntil(1000.Sec());
        Assert.Equal(TcpState.FinWait2, s.State);
        h.Send(1000.Sec(), SendTemplate with { Flags = Psh | Ack, Ack = h.LocalIsn + 2, Window = 502, Payload = "late"u8.ToArray() });
        h.ExpectSent(1000.Sec(), Seg.Flags(Ack), Seg.Seq(h.LocalIsn + 2), Seg.Ack(RemoteIsn + 5));
        var buf = new byte[10];
        Assert.Equal(Errno.None, s.TryReceive(buf, out int n));
        Assert.Equal("late", System.Text.Encoding.ASCII.GetString(buf, 0, n));
        h.Send(1001.Sec(), SendTemplate with { Flags = Fin | Ack, Seq = RemoteIsn + 5, Ack = h.LocalIsn + 2, Window = 502 });
        h.ExpectSent(1001.Sec(), Seg.Flags(Ack), Seg.Ack(RemoteIsn + 6));
        Assert.Equal(Errno.None, s.TryReceive(buf, out n));
        Assert.Equal(0, n);
        Assert.Equal(1, h.Host.Tcp.TimeWaitCount);
        s.Dispose();
        h.ExpectNothingUntil(1100.Sec());
    }

    [Fact]
    public void ShutdownRead_SendsNothing_AndReadsReturnEof()
    {
        using var h = new TcpHarness();
        var (s, _) = Establish(h);
        h.At(100.Ms(), () => Assert.Equal(Errno.None, s.Shutdown(ShutdownHow.Read)));
        h.ExpectNothingUntil(1.Sec());
        Assert.Equal(Errno.None, s.TryReceive(new byte[4], out int n));
        Assert.Equal(0, n);
        Assert.Equal(TcpState.Established, s.State);
    }

    // ------------------------------------------------------------------ orphans

    [Fact]
    public void OrphanFinWait2_LastsTcpFinTimeout_ThenVanishes_AndLaterSegmentsAreReset()
    {
        using var h = new TcpHarness();
        var (s, _) = Establish(h);
        h.At(100.Ms(), s.Close);
        h.ExpectSent(100.Ms(), Seg.Flags(Fin | Ack));
        h.Send(110.Ms(), SendTemplate with { Ack = h.LocalIsn + 2, Window = 502 });
        Assert.Equal(1, h.Host.Tcp.TimeWaitCount);
        // A bare duplicate ACK is ignored by the mini-socket.
        h.Send(20.Sec(), SendTemplate with { Ack = h.LocalIsn + 2, Window = 502 });
        h.ExpectNothingUntil(60.Sec() + 110.Ms());
        Assert.Equal(1, h.Host.Tcp.TimeWaitCount);
        h.ExpectNothingUntil(60.Sec() + 111.Ms());
        Assert.Equal(0, h.Host.Tcp.TimeWaitCount);
        Assert.Equal(1, h.Ext(TcpExtMib.TW)); // counted when scheduled, timeout 60 s > 4 s
        h.Send(61.Sec(), SendTemplate with { Flags = Fin | Ack, Ack = h.LocalIsn + 2, Window = 502 });
        h.ExpectSent(61.Sec(), Seg.Flags(Rst), Seg.Seq(h.LocalIsn + 2));
    }

    [Fact]
    public void OrphanFinWait2_WithAShortFinTimeout_IsCountedAsTWKilled()
    {
        using var h = new TcpHarness();
        h.Host.Sysctl.Set("net.ipv4.tcp_fin_timeout", "3");
        var (s, _) = Establish(h);
        h.At(100.Ms(), s.Close);
        h.ExpectSent(100.Ms(), Seg.Flags(Fin | Ack));
        h.Send(110.Ms(), SendTemplate with { Ack = h.LocalIsn + 2, Window = 502 });
        Assert.Equal((0, 1), (h.Ext(TcpExtMib.TW), h.Ext(TcpExtMib.TWKilled))); // __inet_twsk_schedule(): timeo <= 4 s
        h.ExpectNothingUntil(3.Sec() + 110.Ms());
        Assert.Equal(1, h.Host.Tcp.TimeWaitCount);
        h.ExpectNothingUntil(3.Sec() + 111.Ms());
        Assert.Equal(0, h.Host.Tcp.TimeWaitCount);
    }

    [Fact]
    public void OrphanFinWait2_DataFromThePeer_IsAnsweredWithRst()
    {
        using var h = new TcpHarness();
        var (s, _) = Establish(h);
        h.At(100.Ms(), s.Close);
        h.ExpectSent(100.Ms(), Seg.Flags(Fin | Ack));
        h.Send(110.Ms(), SendTemplate with { Ack = h.LocalIsn + 2, Window = 502 });
        // tcp_timewait_state_process(), substate FIN_WAIT2: "If new data arrive after half-duplex close, reset."
        h.Send(200.Ms(), SendTemplate with { Flags = Psh | Ack, Ack = h.LocalIsn + 2, Window = 502, Payload = new byte[3] });
        h.ExpectSent(200.Ms(), Seg.Flags(Rst), Seg.Seq(h.LocalIsn + 2));
        Assert.Equal(1, h.Host.Tcp.TimeWaitCount); // TCP_TW_RST does not kill the mini-socket
    }

    [Fact]
    public void OrphanFinWait2_WithLinger2Above60s_KeepsTheFullSocketForTheDifference()
    {
        // tcp_fin_time() = 90 s > TCP_TIMEWAIT_LEN: the keepalive timer runs 30 s on the full socket, then
        // tcp_keepalive_timer() calls tcp_time_wait(sk, TCP_FIN_WAIT2, tmo) with the same tmo = 90 - 60 = 30 s, so the
        // orphan lives 60 s in all, not 90 (Linux's code, not its comment's intent).
        using var h = new TcpHarness();
        var (s, _) = Establish(h, configure: c => c.Linger2 = 90);
        h.At(100.Ms(), s.Close);
        h.ExpectSent(100.Ms(), Seg.Flags(Fin | Ack));
        h.Send(110.Ms(), SendTemplate with { Ack = h.LocalIsn + 2, Window = 502 });
        Assert.Equal(TcpState.FinWait2, s.State);
        Assert.Equal(0, h.Host.Tcp.TimeWaitCount);
        h.ExpectNothingUntil(30.Sec() + 111.Ms());
        Assert.Equal(TcpState.Close, s.State);
        Assert.Equal(1, h.Host.Tcp.TimeWaitCount);
        h.ExpectNothingUntil(60.Sec() + 110.Ms());
        Assert.Equal(1, h.Host.Tcp.TimeWaitCount);
        h.ExpectNothingUntil(60.Sec() + 111.Ms());
        Assert.Equal(0, h.Host.Tcp.TimeWaitCount);
        Assert.Equal(1, h.Ext(TcpExtMib.TW));
    }

    [Fact]
    public void OrphanFinWait1_WithNegativeLinger2_AbortsWhenTheFinIsAcked()
    {
        using var h = new TcpHarness();
        var (s, _) = Establish(h, configure: c => c.Linger2 = -5);
        Assert.Equal(-1, s.Linger2);
        h.At(100.Ms(), s.Close);
        h.ExpectSent(100.Ms(), Seg.Flags(Fin | Ack));
        h.Send(110.Ms(), SendTemplate with { Ack = h.LocalIsn + 2, Window = 502 });
        // tcp_rcv_state_process(): tcp_done() + TCPAbortOnData, and the caller resets in reply to that ACK.
        h.ExpectSent(110.Ms(), Seg.Flags(Rst), Seg.Seq(h.LocalIsn + 2));
        Assert.Equal(1, h.Ext(TcpExtMib.TCPAbortOnData));
        Assert.Equal(0, h.Host.Tcp.TimeWaitCount);
    }

    [Fact]
    public void OrphanFinWait1_RetransmitsTheFinEightTimes_ThenGivesUpSilently()
    {
        // tcp_orphan_retries(): tcp_orphan_retries = 0 means 8 while the RTO is below rto_max; the time budget is
        // tcp_model_timeout(8, TCP_RTO_MIN) = 511 × 200 ms = 102.2 s from the first RTO retransmission.
        using var h = new TcpHarness();
        var (s, _) = Establish(h); // srtt 10 ms → RTO 210 ms
        h.At(100.Ms(), s.Close);
        h.ExpectSent(100.Ms(), Seg.Flags(Fin | Ack), Seg.Seq(h.LocalIsn + 1));
        // tcp_schedule_loss_probe(): PTO = 2·srtt + TCP_RTO_MIN (one packet out), capped by the RTO: a TLP at 310 ms,
        // then the RTO, rearmed from the probe (tcp_rearm_rto), doubling from 210 ms.
        h.ExpectSent(310.Ms(), Seg.Flags(Fin | Ack), Seg.Seq(h.LocalIsn + 1));
        Assert.Equal(1, h.Ext(TcpExtMib.TCPLossProbes));
        long at = 310, rto = 210;
        for (int i = 0; i < 8; i++)
        {
            at += rto;
            rto *= 2;
            h.ExpectSent(((int)at).Ms(), Seg.Flags(Fin | Ack), Seg.Seq(h.LocalIsn + 1));
        }
        Assert.Equal(53_860, at);
        h.ExpectNothingUntil(107_620.Ms());
        Assert.Equal(0, h.Ext(TcpExtMib.TCPAbortOnTimeout));
        h.ExpectNothingUntil(600.Sec());
        Assert.Equal(1, h.Ext(TcpExtMib.TCPAbortOnTimeout));
        Assert.Equal(0, h.Host.Tcp.TimeWaitCount);
    }
}
