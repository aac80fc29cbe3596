using NetLab.Stack.Tcp;
using static NetLab.Stack.Tcp.TcpFlags;
using static NetLab.Stack.Tests.Tcp.TcpConnScripts;
using static NetLab.Stack.Tests.Tcp.TcpHarness;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>
/// Resets: what Linux answers for segments without a socket (tcp_v4_send_reset), which RSTs a connection accepts
/// (RFC 5961 as tcp_validate_incoming() applies it, with challenge ACKs rate-limited by tcp_invalid_ratelimit), and
/// the errors the application sees afterwards (§4.6-4.8 and §10.2 of docs/reference/linux-tcp.md).
/// </summary>
public class TcpResetTests
{
    // ------------------------------------------------------------------ no socket

    [Fact]
    public void SynToAClosedPort_GetsRstAck_Seq0_AckIsnPlus1_Window0()
    {
        using var h = new TcpHarness();
        h.Send(0.Ms(), SendTemplate with { Flags = Syn, Seq = RemoteIsn, Ack = default, Window = 64240, Options = LinuxSynOptions(PeerTs) });
        h.ExpectSent(0.Ms(), Seg.Flags(Rst | Ack), Seg.Seq(new SeqNum(0)), Seg.Ack(RemoteIsn + 1), Seg.Window(0), Seg.NoOptions(),
            Seg.Ttl(64), Seg.PayloadLength(0), Seg.Where("40000 > 8080", s => s.Tcp.SourcePort == LocalPort && s.Tcp.DestinationPort == RemotePort));
        Assert.Equal((1, 1, 1), (h.Mib(TcpMib.InSegs), h.Mib(TcpMib.OutSegs), h.Mib(TcpMib.OutRsts)));
    }

    [Fact]
    public void AckToAClosedPort_GetsRst_WithSeqFromItsAck_AndNoAckFlag()
    {
        using var h = new TcpHarness();
        h.Send(0.Ms(), SendTemplate with { Ack = new SeqNum(777), Payload = new byte[10] });
        h.ExpectSent(0.Ms(), Seg.Flags(Rst), Seg.Seq(new SeqNum(777)), Seg.Ack(new SeqNum(0)), Seg.Window(0), Seg.NoOptions());
    }

    [Fact]
    public void FinWithDataWithoutAck_ToAClosedPort_IsAcknowledgedInTheRst_ByLengthPlusFin()
    {
        using var h = new TcpHarness();
        h.Send(0.Ms(), SendTemplate with { Flags = Fin, Ack = default, Payload = new byte[5] });
        h.ExpectSent(0.Ms(), Seg.Flags(Rst | Ack), Seg.Seq(new SeqNum(0)), Seg.Ack(RemoteIsn + 1 + 5 + 1));
    }

    [Fact]
    public void RstToAClosedPort_IsNeverAnswered()
    {
        using var h = new TcpHarness();
        h.Send(0.Ms(), SendTemplate with { Flags = Rst | Ack });
        h.Send(1.Ms(), SendTemplate with { Flags = Rst, Ack = default });
        h.ExpectNothingUntil(10.Sec());
        Assert.Equal(0, h.Mib(TcpMib.OutRsts));
    }

    // ------------------------------------------------------------------ RST acceptance (RFC 5961 §3)

    [Fact]
    public void Established_RstAtRcvNxt_ResetsTheConnection_ReadGetsEconnresetOnceThenEof()
    {
        using var h = new TcpHarness();
        var (s, _) = Establish(h);
        h.Send(100.Ms(), SendTemplate with { Flags = Rst, Seq = RemoteIsn + 1, Ack = default, Window = 0 });
        h.ExpectNothingUntil(200.Sec());
        Assert.Equal(TcpState.Close, s.State);
        Assert.Equal((1, 0), (h.Mib(TcpMib.EstabResets), h.Mib(TcpMib.CurrEstab)));
        var buf = new byte[10];
        Assert.Equal(Errno.ECONNRESET, s.TryReceive(buf, out _));
        Assert.Equal(Errno.None, s.TryReceive(buf, out int n));
        Assert.Equal(0, n);
        Assert.Equal(Errno.EPIPE, s.TrySend("x"u8, out _));
        s.Dispose();
        h.ExpectNothingUntil(300.Sec());
    }

    [Fact]
    public void Established_AfterRst_TheFirstWriteGetsEconnreset_ThenEpipe()
    {
        using var h = new TcpHarness();
        var (s, _) = Establish(h);
        h.Send(100.Ms(), SendTemplate with { Flags = Rst | Ack, Seq = RemoteIsn + 1, Ack = h.LocalIsn + 1, Window = 0 });
        Assert.Equal(Errno.ECONNRESET, s.TrySend("x"u8, out _));
        Assert.Equal(Errno.EPIPE, s.TrySend("x"u8, out _));
        Assert.Equal(Errno.None, s.TakeError()); // SO_ERROR was consumed by the write
    }

    [Fact]
    public void Established_RstAfterData_LetsTheQueuedDataBeReadFirst()
    {
        using var h = new TcpHarness();
        var (s, _) = Establish(h);
        h.Send(100.Ms(), SendTemplate with { Flags = Psh | Ack, Ack = h.LocalIsn + 1, Payload = "hello"u8.ToArray() });
        h.ExpectSent(100.Ms(), Seg.Flags(Ack), Seg.Ack(RemoteIsn + 6)); // quick ACK
        h.Send(200.Ms(), SendTemplate with { Flags = Rst, Seq = RemoteIsn + 6, Ack = default });
        var buf = new byte[10];
        Assert.Equal(Errno.None, s.TryReceive(buf, out int n));
        Assert.Equal("hello", System.Text.Encoding.ASCII.GetString(buf, 0, n));
        Assert.Equal(Errno.ECONNRESET, s.TryReceive(buf, out _));
    }

    [Fact]
    public void Established_InWindowRstNotAtRcvNxt_GetsAChallengeAck_RateLimitedPerSocket()
    {
        using var h = new TcpHarness();
        var (s, off) = Establish(h);
        h.Send(100.Ms(), SendTemplate with { Flags = Rst, Seq = RemoteIsn + 1 + 1000, Ack = default });
        // tcp_send_challenge_ack() → tcp_send_ack(): seq snd_nxt, ack rcv_nxt, with the timestamp option.
        h.ExpectSent(100.Ms(), Seg.Flags(Ack), Seg.Seq(h.LocalIsn + 1), Seg.Ack(RemoteIsn + 1), Seg.Window(63),
            Seg.Timestamp(DutTsAt(off, 100.Ms()), PeerTsAt(10.Ms())));
        Assert.Equal(TcpState.Established, s.State);
        Assert.Equal(1, h.Ext(TcpExtMib.TCPChallengeACK));
        // __tcp_oow_rate_limited(): none within tcp_invalid_ratelimit (500 ms) of the last one.
        h.Send(599.Ms(), SendTemplate with { Flags = Rst, Seq = RemoteIsn + 1 + 2000, Ack = default });
        h.ExpectNothingUntil(600.Ms());
        Assert.Equal((1, 1), (h.Ext(TcpExtMib.TCPChallengeACK), h.Ext(TcpExtMib.TCPACKSkippedChallenge)));
        h.Send(600.Ms(), SendTemplate with { Flags = Rst, Seq = RemoteIsn + 1 + 3000, Ack = default });
        h.ExpectSent(600.Ms(), Seg.Flags(Ack), Seg.Ack(RemoteIsn + 1));
        Assert.Equal(2, h.Ext(TcpExtMib.TCPChallengeACK));
        // The challenge's answer, a RST at exactly rcv_nxt, is believed.
        h.Send(700.Ms(), SendTemplate with { Flags = Rst, Seq = RemoteIsn + 1, Ack = default });
        Assert.Equal(TcpState.Close, s.State);
        Assert.Equal(Errno.ECONNRESET, s.TakeError());
    }

    [Fact]
    public void Established_RstOutsideTheWindow_IsDroppedSilently()
    {
        using var h = new TcpHarness();
        var (s, _) = Establish(h);
        h.Send(100.Ms(), SendTemplate with { Flags = Rst, Seq = RemoteIsn + 1 + 200_000, Ack = default });
        h.Send(200.Ms(), SendTemplate with { Flags = Rst, Seq = RemoteIsn - 5000, Ack = default });
        h.ExpectNothingUntil(10.Sec());
        Assert.Equal(TcpState.Established, s.State);
        Assert.Equal(0, h.Ext(TcpExtMib.TCPChallengeACK));
    }

    [Fact]
    public void Established_RstAtTheRightEdgeOfTheHighestSackBlock_IsAccepted()
    {
        // tcp_validate_incoming(): "If seq num matches RCV.NXT or ... the right-most SACK block, then RESET".
        using var h = new TcpHarness();
        var (s, _) = Establish(h);
        h.Send(100.Ms(), SendTemplate with { Seq = RemoteIsn + 1 + 100, Ack = h.LocalIsn + 1, Payload = new byte[100] });
        h.ExpectSent(100.Ms(), Seg.Flags(Ack), Seg.Ack(RemoteIsn + 1),
            Seg.SackBlocks(new SackBlock(RemoteIsn + 101, RemoteIsn + 201)));
        h.Send(200.Ms(), SendTemplate with { Flags = Rst, Seq = RemoteIsn + 201, Ack = default });
        Assert.Equal(TcpState.Close, s.State);
        Assert.Equal(0, h.Ext(TcpExtMib.TCPChallengeACK));
        s.Dispose(); // the out-of-order segment stays queued until close(), as in Linux
    }

    [Fact]
    public void CloseWait_RstAtTheFinsSequence_IsAccepted_AndReportedAsEpipe()
    {
        // tcp_reset_check(): rcv_nxt - 1 after a FIN (Mac OS X resets with the FIN's sequence number);
        // tcp_reset() in CLOSE_WAIT stores EPIPE.
        using var h = new TcpHarness();
        var (s, _) = Establish(h);
        h.Send(100.Ms(), SendTemplate with { Flags = Fin | Ack, Ack = h.LocalIsn + 1 });
        Assert.Equal(TcpState.CloseWait, s.State);
        h.Send(150.Ms(), SendTemplate with { Flags = Rst, Seq = RemoteIsn + 1, Ack = default });
        Assert.Equal(TcpState.Close, s.State);
        Assert.Equal(Errno.EPIPE, s.TrySend("x"u8, out _));
        Assert.Equal(1, h.Mib(TcpMib.EstabResets));
    }

    // ------------------------------------------------------------------ SYN in a synchronized state (RFC 5961 §4)

    [Fact]
    public void Established_InWindowSyn_GetsAChallengeAck_TcpSynChallenge()
    {
        using var h = new TcpHarness();
        var (s, off) = Establish(h);
        h.Send(100.Ms(), SendTemplate with
        {
            Flags = Syn, Seq = RemoteIsn + 50, Ack = default, Window = 64240, Options = LinuxSynOptions(PeerTsAt(100.Ms())),
        });
        h.ExpectSent(100.Ms(), Seg.Flags(Ack), Seg.Seq(h.LocalIsn + 1), Seg.Ack(RemoteIsn + 1),
            Seg.Timestamp(DutTsAt(off, 100.Ms()), PeerTsAt(10.Ms())));
        Assert.Equal(TcpState.Established, s.State);
        Assert.Equal((1, 1), (h.Ext(TcpExtMib.TCPSYNChallenge), h.Ext(TcpExtMib.TCPChallengeACK)));
        Assert.Equal(1, h.Mib(TcpMib.InErrs)); // syn_inerr: counted on the ESTABLISHED path only
    }

    [Fact]
    public void Established_SynAtRcvNxt_IsChallenged_WithoutTouchingTsRecent()
    {
        using var h = new TcpHarness();
        var (s, off) = Establish(h);
        h.Send(100.Ms(), SendTemplate with
        {
            Flags = Syn, Seq = RemoteIsn + 1, Ack = default, Window = 64240, Options = LinuxSynOptions(PeerTsAt(100.Ms())),
        });
        // ts_recent is replaced in tcp_ack(), which a challenged SYN never reaches: TSecr still echoes the SYN-ACK.
        h.ExpectSent(100.Ms(), Seg.Flags(Ack), Seg.Ack(RemoteIsn + 1), Seg.Timestamp(DutTsAt(off, 100.Ms()), PeerTsAt(10.Ms())));
        Assert.Equal(TcpState.Established, s.State);
    }

    [Fact]
    public void Established_SynOutsideTheWindow_GetsAChallengeAckToo()
    {
        using var h = new TcpHarness();
        var (s, _) = Establish(h);
        h.Send(100.Ms(), SendTemplate with { Flags = Syn, Seq = RemoteIsn + 500_000, Ack = default, Window = 64240 });
        h.ExpectSent(100.Ms(), Seg.Flags(Ack), Seg.Ack(RemoteIsn + 1));
        Assert.Equal(1, h.Ext(TcpExtMib.TCPSYNChallenge));
        Assert.Equal(TcpState.Established, s.State);
    }

    [Fact]
    public void FinWait2_SynGetsAChallengeAck_WithoutInErrs()
    {
        using var h = new TcpHarness();
        var (s, _) = Establish(h);
        h.At(100.Ms(), () => s.Shutdown(ShutdownHow.Write));
        h.ExpectSent(100.Ms(), Seg.Flags(Fin | Ack));
        h.Send(110.Ms(), SendTemplate with { Ack = h.LocalIsn + 2 });
        Assert.Equal(TcpState.FinWait2, s.State);
        h.Send(200.Ms(), SendTemplate with { Flags = Syn, Seq = RemoteIsn + 50, Ack = default, Window = 64240 });
        h.ExpectSent(200.Ms(), Seg.Flags(Ack), Seg.Seq(h.LocalIsn + 2), Seg.Ack(RemoteIsn + 1));
        Assert.Equal((1, 0), (h.Ext(TcpExtMib.TCPSYNChallenge), h.Mib(TcpMib.InErrs)));
    }
}
