using NetLab.Core.Time;
using NetLab.Stack.Icmp;
using NetLab.Stack.IPv4;
using NetLab.Stack.Tcp;
using NetLab.Stack.Tcp.CongestionControl;
using static NetLab.Stack.Tcp.TcpFlags;
using static NetLab.Stack.Tests.Tcp.TcpConnScripts;
using static NetLab.Stack.Tests.Tcp.TcpHarness;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>
/// Active open (SYN_SENT): the SYN Linux 6.18 sends, the SYN-ACK and the third ACK, MSS and window negotiation,
/// the SYN retransmission schedule, and the ways connect() fails (§2 and §10.1 of docs/reference/linux-tcp.md).
/// </summary>
public class TcpHandshakeTests
{
    [Fact]
    public void Connect_SendsLinuxSyn_WithItsOptionBytesWindowTtlAndDf()
    {
        using var h = new TcpHarness();
        using var s = StartConnect(h, 0.Ms());
        var frame = h.ExpectSentFrame(0.Ms());
        var syn = frame.Tcp!;
        // tcpdump: Flags [S], seq N, win 64240, options [mss 1460,sackOK,TS val T ecr 0,nop,wscale 10], length 0
        Seg.Verify(syn, Seg.Flags(Syn), Seg.Ack(new SeqNum(0)), Seg.Window(64240), Seg.Mss(1460), Seg.SackPermitted(),
            Seg.Timestamp(ecr: 0), Seg.WScale(10), Seg.PayloadLength(0), Seg.Ttl(64), Seg.DontFragment());
        Assert.Equal((LocalPort, RemotePort), (syn.Tcp.SourcePort, syn.Tcp.DestinationPort));
        // tcp_options_write(): 02 04 05b4 | 04 02 08 0a TSval 00000000 | 01 03 03 0a — 20 option bytes, doff 10.
        var tcp = frame.IpPayload;
        Assert.Equal(0xa0, tcp[12]);
        Assert.Equal("020405B40402080A", Convert.ToHexString(tcp[20..28]));
        Assert.Equal("00000000" + "0103030A", Convert.ToHexString(tcp[32..40]));
        Assert.Equal(60, 20 + tcp.Length);
        Assert.Equal(TcpState.SynSent, s.State);
        Assert.Equal(1, h.Mib(TcpMib.ActiveOpens));
        Assert.Equal(1, h.Mib(TcpMib.OutSegs));
    }

    [Fact]
    public void SynAck_IsAnsweredAtOnce_WithTheThirdAck_AndTheWindowScaledBy1024()
    {
        using var h = new TcpHarness();
        using var s = StartConnect(h, 0.Ms());
        var syn = h.ExpectSent(0.Ms(), Seg.Flags(Syn));
        uint off = syn.TsOffset();
        Assert.Equal(off, syn.TsVal()); // sent at time 0
        var connected = h.Start(0.Ms(), () => s.WaitAsync());
        h.Send(25.Ms(), SendTemplate with
        {
            Flags = Syn | Ack, Seq = RemoteIsn, Ack = h.LocalIsn + 1, Window = 65160,
            Options = LinuxSynOptions(PeerTsAt(25.Ms()), syn.TsVal()),
        });
        // tcp_select_window(): ALIGN(min(free_space 65536, rcv_ssthresh 64240), 1 << 10) >> 10 = 64512 >> 10 = 63.
        h.ExpectSent(25.Ms(), Seg.Flags(Ack), Seg.Seq(h.LocalIsn + 1), Seg.Ack(RemoteIsn + 1), Seg.Window(63),
            Seg.Timestamp(DutTsAt(off, 25.Ms()), PeerTsAt(25.Ms())), Seg.PayloadLength(0));
        Assert.True(connected.IsCompleted);
        Assert.Equal(TcpState.Established, s.State);
        var info = s.GetInfo();
        Assert.Equal((7, 10, 7), (info.SndWscale, info.RcvWscale, (int)info.Options)); // TS | SACK | WSCALE
        Assert.Equal(1448, info.SndMss);    // min(1460, 1460) less the 12 timestamp bytes
        Assert.Equal(1448, info.Advmss);    // advmss -= TCPOLEN_TSTAMP_ALIGNED
        Assert.Equal(536, info.RcvMss);     // tcp_initialize_rcv_mss(): at most TCP_MSS_DEFAULT
        Assert.Equal(65160, info.SndWnd);   // the SYN-ACK's window is never scaled
        Assert.Equal(10u, info.SndCwnd);
        Assert.Equal(25_000, info.RttUs);   // the SYN's RTT sample
        Assert.Equal(1, h.Mib(TcpMib.CurrEstab));
        h.ExpectNothingUntil(10.Sec());
    }

    [Fact]
    public void Established_SendsFullSegmentsOf1448_WhenThePeerOffersMss1460AndTimestamps()
    {
        using var h = new TcpHarness();
        var (s, off) = Establish(h);
        h.At(20.Ms(), () => Assert.Equal(Errno.None, s.TrySend(new byte[3000], out int n)));
        h.ExpectSent(20.Ms(), Seg.Flags(Ack), Seg.Seq(h.LocalIsn + 1), Seg.PayloadLength(1448));
        // Two-segment GSO skbs (tcp_tso_autosize at a 25 ms RTT): PSH ends each one (__tcp_transmit_skb).
        h.ExpectSent(20.Ms(), Seg.Flags(Psh | Ack), Seg.Seq(h.LocalIsn + 1 + 1448), Seg.PayloadLength(1448));
        h.ExpectSent(20.Ms(), Seg.Flags(Psh | Ack), Seg.Seq(h.LocalIsn + 1 + 2896), Seg.PayloadLength(104),
            Seg.Timestamp(DutTsAt(off, 20.Ms()), PeerTsAt(10.Ms())));
        s.Dispose();
    }

    [Fact]
    public void SynAck_WithSmallerMss_LimitsSegmentsToThePeersMssLessTimestamps()
    {
        using var h = new TcpHarness();
        using var s = StartConnect(h, 0.Ms());
        var syn = h.ExpectSent(0.Ms(), Seg.Flags(Syn));
        h.Send(10.Ms(), SendTemplate with
        {
            Flags = Syn | Ack, Seq = RemoteIsn, Ack = h.LocalIsn + 1, Window = 65160,
            Options = LinuxSynOptions(PeerTsAt(10.Ms()), syn.TsVal(), mss: 1200),
        });
        h.ExpectSent(10.Ms(), Seg.Flags(Ack));
        Assert.Equal(1188, s.GetInfo().SndMss);
        h.At(20.Ms(), () => s.TrySend(new byte[2000], out _));
        h.ExpectSent(20.Ms(), Seg.PayloadLength(1188));
        h.ExpectSent(20.Ms(), Seg.PayloadLength(812));
    }

    [Fact]
    public void SynAck_WithoutOptions_Means536ByteSegments_NoTimestamps_NoScaling()
    {
        using var h = new TcpHarness();
        using var s = StartConnect(h, 0.Ms());
        h.ExpectSent(0.Ms(), Seg.Flags(Syn));
        h.Send(10.Ms(), SendTemplate with { Flags = Syn | Ack, Seq = RemoteIsn, Ack = h.LocalIsn + 1, Window = 29200 });
        // Without window scaling the window is rcv_wnd itself: 64240, no options at all.
        h.ExpectSent(10.Ms(), Seg.Flags(Ack), Seg.Ack(RemoteIsn + 1), Seg.Window(64240), Seg.NoOptions());
        var info = s.GetInfo();
        Assert.Equal((0, 0, 0), (info.SndWscale, info.RcvWscale, (int)info.Options));
        Assert.Equal(536, info.SndMss); // TCP_MSS_DEFAULT when the SYN-ACK has no MSS option
        Assert.Equal(29200, info.SndWnd);
        h.At(20.Ms(), () => s.TrySend(new byte[1000], out _));
        h.ExpectSent(20.Ms(), Seg.Flags(Ack), Seg.PayloadLength(536), Seg.NoOptions(), Seg.Window(64240));
        h.ExpectSent(20.Ms(), Seg.Flags(Psh | Ack), Seg.PayloadLength(464));
    }

    [Fact]
    public void MaxSegment_LowersTheAdvertisedMss_AndCapsThePeers()
    {
        // TCP_MAXSEG 1000: advmss = min(1000, 1460), the SYN's window is whole 1000-byte segments (65000), and the
        // peer's MSS 1460 is clamped to user_mss by tcp_parse_options().
        using var h = new TcpHarness();
        using var s = StartConnect(h, 0.Ms(), c => c.MaxSegment = 1000);
        var syn = h.ExpectSent(0.Ms(), Seg.Flags(Syn), Seg.Mss(1000), Seg.Window(65000), Seg.WScale(10));
        h.Send(10.Ms(), SendTemplate with
        {
            Flags = Syn | Ack, Seq = RemoteIsn, Ack = h.LocalIsn + 1, Window = 65160, Options = LinuxSynOptions(PeerTsAt(10.Ms()), syn.TsVal()),
        });
        h.ExpectSent(10.Ms(), Seg.Flags(Ack), Seg.Window(64)); // ALIGN(65000, 1024) >> 10
        Assert.Equal((988, 988), (s.GetInfo().SndMss, s.GetInfo().Advmss));
        Assert.Equal(988, s.MaxSegment); // getsockopt(TCP_MAXSEG) = mss_cache once connected
    }

    [Fact]
    public void ReceiveBufferSetBeforeConnect_ShrinksTheSynWindow_AndTheWindowScale()
    {
        // SO_RCVBUF 8192 → sk_rcvbuf 16384, full space 8192 = window_clamp (SOCK_RCVBUF_LOCK): rcv_wnd = 5 × 1460,
        // rcv_wscale = ilog2(min(32 MiB, 8192)) - 15 < 0 → 0.
        using var h = new TcpHarness();
        using var s = StartConnect(h, 0.Ms(), c => c.ReceiveBufferSize = 8192);
        h.ExpectSent(0.Ms(), Seg.Flags(Syn), Seg.Window(7300), Seg.WScale(0));
    }

    [Theory]
    [InlineData("tcp_timestamps", "020405B4" + "01010402" + "0103030A", 64240)]                       // mss, nop,nop,sackOK, nop,wscale
    [InlineData("tcp_sack", "020405B4" + "0101080A" + "TSTSTSTS" + "00000000" + "0103030A", 64240)]   // mss, nop,nop,TS, nop,wscale
    [InlineData("tcp_window_scaling", "020405B4" + "0402080A" + "TSTSTSTS" + "00000000", 64240)]      // mss, sackOK+TS
    public void SynOptions_FollowTheSysctls(string sysctl, string options, ushort window)
    {
        using var h = new TcpHarness();
        h.Host.Sysctl.Set("net.ipv4." + sysctl, "0");
        using var s = StartConnect(h, 0.Ms());
        var frame = h.ExpectSentFrame(0.Ms());
        Seg.Verify(frame.Tcp!, Seg.Flags(Syn), Seg.Window(window));
        string hex = Convert.ToHexString(frame.IpPayload[20..]);
        if (frame.Tcp!.Tcp.Options.Timestamp is { } ts) hex = hex.Replace(ts.TsVal.ToString("X8"), "TSTSTSTS");
        Assert.Equal(options, hex);
    }

    // ------------------------------------------------------------------ SYN retransmission

    [Fact]
    public void Syn_IsRetransmittedLinearlyFourTimes_ThenWithBackoff_AndConnectTimesOutAt131s()
    {
        using var h = new TcpHarness();
        using var s = StartConnect(h, 0.Ms());
        var connect = h.Start(0.Ms(), async () =>
        {
            while (s.State == TcpState.SynSent) await s.WaitAsync();
        });
        var first = h.ExpectSent(0.Ms(), Seg.Flags(Syn));
        uint off = first.TsOffset();
        // Linux 6.5+ with tcp_syn_linear_timeouts = 4 (ip-sysctl.rst: "final timeout ... after 131 seconds").
        foreach (int t in new[] { 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 })
            h.ExpectSent(t.Sec(), Seg.Flags(Syn), Seg.Seq(h.LocalIsn), Seg.Window(64240), Seg.Mss(1460), Seg.WScale(10),
                Seg.Timestamp(DutTsAt(off, t.Sec()), 0));
        h.ExpectNothingUntil(131.Sec());
        Assert.Equal(TcpState.SynSent, s.State);
        h.ExpectNothingUntil(131.Sec() + 1.Ms());
        Assert.True(connect.IsCompleted);
        Assert.Equal(TcpState.Close, s.State);
        Assert.Equal(Errno.ETIMEDOUT, s.TakeError());
        // §12.3: one failed attempt.
        Assert.Equal((1, 1, 10, 1), (h.Mib(TcpMib.ActiveOpens), h.Mib(TcpMib.AttemptFails), h.Mib(TcpMib.RetransSegs), h.Mib(TcpMib.OutSegs)));
        Assert.Equal((10, 11, 1), (h.Ext(TcpExtMib.TCPSynRetrans), h.Ext(TcpExtMib.TCPTimeouts), h.Ext(TcpExtMib.TCPAbortOnTimeout)));
        h.ExpectNothingUntil(1000.Sec());
    }

    [Fact]
    public void Syn_WithoutLinearTimeouts_FollowsTheClassicSchedule_AndConnectTimesOutAt127s()
    {
        using var h = new TcpHarness();
        h.Host.Sysctl.Set("net.ipv4.tcp_syn_linear_timeouts", "0");
        using var s = StartConnect(h, 0.Ms());
        h.ExpectSent(0.Ms(), Seg.Flags(Syn));
        foreach (int t in new[] { 1, 3, 7, 15, 31, 63 })
            h.ExpectSent(t.Sec(), Seg.Flags(Syn), Seg.Seq(h.LocalIsn));
        h.ExpectNothingUntil(127.Sec());
        Assert.Equal(TcpState.SynSent, s.State);
        h.ExpectNothingUntil(127.Sec() + 1.Ms());
        Assert.Equal(TcpState.Close, s.State);
        Assert.Equal(Errno.ETIMEDOUT, s.TakeError());
        Assert.Equal((6, 7), (h.Ext(TcpExtMib.TCPSynRetrans), h.Ext(TcpExtMib.TCPTimeouts)));
        Assert.Equal((6, 1), (h.Mib(TcpMib.RetransSegs), h.Mib(TcpMib.AttemptFails)));
    }

    [Fact]
    public void ConnectAsync_ThrowsEtimedout_AfterTheLastSyn()
    {
        using var h = new TcpHarness();
        h.Host.Sysctl.Set("net.ipv4.tcp_syn_linear_timeouts", "0");
        var s = h.Host.Tcp.Open();
        var connect = h.Start(0.Ms(), () => s.ConnectAsync(RemoteIp, RemotePort));
        foreach (int t in new[] { 0, 1, 3, 7, 15, 31, 63 }) h.ExpectSent(t.Sec(), Seg.Flags(Syn));
        h.ExpectNothingUntil(200.Sec());
        Assert.Equal(Errno.ETIMEDOUT, connect.FailedWith());
    }

    [Fact]
    public void SynCount_LimitsRetransmissions_ByTheTimeBudgetOfTcpModelTimeout()
    {
        // TCP_SYNCNT 2: max_retransmits = 2 + 4 linear, but retransmits_timed_out(2) gives up once
        // tcp_model_timeout(2, 1 s) = 7 s have passed since the first SYN: SYNs at 0..5 s, ETIMEDOUT at 7 s.
        using var h = new TcpHarness();
        using var s = StartConnect(h, 0.Ms(), c => c.SynCount = 2);
        foreach (int t in new[] { 0, 1, 2, 3, 4, 5 }) h.ExpectSent(t.Sec(), Seg.Flags(Syn));
        h.ExpectNothingUntil(7.Sec());
        Assert.Equal(TcpState.SynSent, s.State);
        h.ExpectNothingUntil(7.Sec() + 1.Ms());
        Assert.Equal(TcpState.Close, s.State);
        Assert.Equal(Errno.ETIMEDOUT, s.TakeError());
        Assert.Equal(5, h.Ext(TcpExtMib.TCPSynRetrans));
    }

    [Fact]
    public void SynCount_WithoutLinearTimeouts_GivesUpAfterThatManyRetransmissions()
    {
        using var h = new TcpHarness();
        h.Host.Sysctl.Set("net.ipv4.tcp_syn_linear_timeouts", "0");
        using var s = StartConnect(h, 0.Ms(), c => c.SynCount = 3);
        foreach (int t in new[] { 0, 1, 3, 7 }) h.ExpectSent(t.Sec(), Seg.Flags(Syn));
        h.ExpectNothingUntil(15.Sec());
        Assert.Equal(TcpState.SynSent, s.State);
        h.ExpectNothingUntil(15.Sec() + 1.Ms());
        Assert.Equal(Errno.ETIMEDOUT, s.TakeError());
    }

    [Theory]
    [InlineData(1, 10u)] // one SYN retransmission: tcp_init_cwnd()
    [InlineData(2, 1u)]  // two or more: "Cut cwnd down to 1 per RFC5681" (tcp_init_transfer)
    public void SynAck_AfterRetransmittedSyns_StartsWithCwnd1_OnlyFromTheSecondRetransmission(int retransmissions, uint cwnd)
    {
        using var h = new TcpHarness();
        using var s = StartConnect(h, 0.Ms());
        h.ExpectSent(0.Ms(), Seg.Flags(Syn));
        SentSegment last = null!;
        for (int i = 1; i <= retransmissions; i++) last = h.ExpectSent(i.Sec(), Seg.Flags(Syn));
        var at = retransmissions.Sec() + 10.Ms();
        // The SYN-ACK answers the last SYN (its TSecr is not the first SYN's, so tcp_try_undo_spurious_syn keeps undo_marker).
        h.Send(at, SendTemplate with
        {
            Flags = Syn | Ack, Seq = RemoteIsn, Ack = h.LocalIsn + 1, Window = 65160, Options = LinuxSynOptions(PeerTsAt(at), last.TsVal()),
        });
        h.ExpectSent(at, Seg.Flags(Ack), Seg.Ack(RemoteIsn + 1));
        var info = s.GetInfo();
        Assert.Equal(cwnd, info.SndCwnd);
        Assert.Equal(retransmissions, info.TotalRetrans);
    }

    [Fact]
    public void SynAck_EchoingTheFirstSyn_UndoesTheSpuriousTimeouts_AndKeepsCwnd10()
    {
        // tcp_try_undo_spurious_syn(): TSecr == retrans_stamp (the first SYN's TSval) proves the timeouts spurious.
        using var h = new TcpHarness();
        using var s = StartConnect(h, 0.Ms());
        var first = h.ExpectSent(0.Ms(), Seg.Flags(Syn));
        h.ExpectSent(1.Sec(), Seg.Flags(Syn));
        h.ExpectSent(2.Sec(), Seg.Flags(Syn));
        h.Send(2100.Ms(), SendTemplate with
        {
            Flags = Syn | Ack, Seq = RemoteIsn, Ack = h.LocalIsn + 1, Window = 65160, Options = LinuxSynOptions(PeerTsAt(2100.Ms()), first.TsVal()),
        });
        h.ExpectSent(2100.Ms(), Seg.Flags(Ack));
        Assert.Equal(10u, s.GetInfo().SndCwnd);
    }

    [Theory]
    [InlineData(true, 10_000, 210_000)]   // the echoed TSval still gives a sample (tcp_ack_update_rtt → tcp_rtt_tsopt_us)
    [InlineData(false, 0, 3_000_000)]     // none (Karn): tcp_init_metrics() falls back to TCP_TIMEOUT_FALLBACK (RFC 6298 §5.7)
    public void SynAck_AfterASynTimeout_LeavesLossState_WithSsthreshHalved(bool timestamps, long rttUs, long rtoUs)
    {
        // tcp_enter_loss() on the SYN timeout set ssthresh = max(cwnd / 2, 2) (Reno); tcp_init_transfer() keeps it.
        using var h = new TcpHarness();
        h.Host.Sysctl.Set("net.ipv4.tcp_congestion_control", "reno");
        using var s = StartConnect(h, 0.Ms());
        h.ExpectSent(0.Ms(), Seg.Flags(Syn));
        var retx = h.ExpectSent(1.Sec(), Seg.Flags(Syn));
        h.Send(1010.Ms(), SendTemplate with
        {
            Flags = Syn | Ack, Seq = RemoteIsn, Ack = h.LocalIsn + 1, Window = 65160,
            Options = timestamps ? LinuxSynOptions(PeerTsAt(1010.Ms()), retx.TsVal()) : new TcpOptionSet { Mss = 1460, SackPermitted = true },
        });
        h.ExpectSent(1010.Ms(), Seg.Flags(Ack));
        var info = s.GetInfo();
        Assert.Equal(TcpCaState.Open, info.CaState);
        Assert.Equal((10u, 5u), (info.SndCwnd, info.SndSsthresh));
        Assert.Equal((rttUs, rtoUs), (info.RttUs, info.RtoUs));
    }

    [Fact]
    public void SynAck_WhileAWriterWaits_IsAcknowledgedByTheData_NotByASeparateAck()
    {
        // tcp_rcv_synsent_state_process(): sk_write_pending → "Save one ACK": delayed ACK in quick-ACK mode, and the
        // writer's first segment carries the acknowledgment.
        using var h = new TcpHarness();
        using var s = StartConnect(h, 0.Ms());
        var syn = h.ExpectSent(0.Ms(), Seg.Flags(Syn));
        var send = h.Start(1.Ms(), () => s.SendAsync(new byte[100]));
        h.Send(10.Ms(), SendTemplate with
        {
            Flags = Syn | Ack, Seq = RemoteIsn, Ack = h.LocalIsn + 1, Window = 65160, Options = LinuxSynOptions(PeerTsAt(10.Ms()), syn.TsVal()),
        });
        h.ExpectSent(10.Ms(), Seg.Flags(Psh | Ack), Seg.Seq(h.LocalIsn + 1), Seg.Ack(RemoteIsn + 1), Seg.PayloadLength(100), Seg.Window(63));
        Assert.True(send.IsCompletedSuccessfully);
        h.Send(20.Ms(), SendTemplate with { Ack = h.LocalIsn + 101, Window = 502, Options = Ts(PeerTsAt(20.Ms()), DutTsAt(syn.TsOffset(), 10.Ms())) });
        h.ExpectNothingUntil(10.Sec()); // no delayed ACK either: the data acknowledged the SYN-ACK
    }

    // ------------------------------------------------------------------ simultaneous open

    [Fact]
    public void SimultaneousOpen_SynSynSynAckSynAck_EstablishesBothWays()
    {
        using var h = new TcpHarness();
        using var s = StartConnect(h, 0.Ms());
        var syn = h.ExpectSent(0.Ms(), Seg.Flags(Syn));
        uint off = syn.TsOffset();
        // The peer's SYN crosses ours: SYN_RECV, and tcp_send_synack() resends our SYN (same ISN, SYN options) with ACK.
        h.Send(10.Ms(), SendTemplate with { Flags = Syn, Seq = RemoteIsn, Ack = default, Window = 64240, Options = LinuxSynOptions(PeerTsAt(10.Ms())) });
        h.ExpectSent(10.Ms(), Seg.Flags(Syn | Ack), Seg.Seq(h.LocalIsn), Seg.Ack(RemoteIsn + 1), Seg.Window(64240), Seg.Mss(1460),
            Seg.SackPermitted(), Seg.WScale(10), Seg.Timestamp(DutTsAt(off, 10.Ms()), PeerTsAt(10.Ms())));
        Assert.Equal(TcpState.SynRecv, s.State);
        Assert.Equal(1, h.Mib(TcpMib.OutSegs)); // the SYN-ACK covers no new sequence space: not in OutSegs
        // The peer's SYN-ACK is the handshake's ACK (tcp_validate_incoming()'s SYN_RECV exemption) → ESTABLISHED; as a
        // segment its SYN is old, so tcp_data_queue() D-SACKs it and ACKs at once.
        h.Send(20.Ms(), SendTemplate with
        {
            Flags = Syn | Ack, Seq = RemoteIsn, Ack = h.LocalIsn + 1, Window = 64240, Options = LinuxSynOptions(PeerTsAt(20.Ms()), DutTsAt(off, 10.Ms())),
        });
        h.ExpectSent(20.Ms(), Seg.Flags(Ack), Seg.Seq(h.LocalIsn + 1), Seg.Ack(RemoteIsn + 1),
            Seg.SackBlocks(new SackBlock(RemoteIsn, RemoteIsn + 1)), Seg.Timestamp(DutTsAt(off, 20.Ms()), PeerTsAt(20.Ms())));
        Assert.Equal(TcpState.Established, s.State);
        Assert.Equal((0, 0), (h.Ext(TcpExtMib.TCPSYNChallenge), h.Ext(TcpExtMib.TCPChallengeACK)));
        Assert.Equal(1, h.Ext(TcpExtMib.DelayedACKLost));
        var info = s.GetInfo();
        Assert.Equal((1448, 7, 10), (info.SndMss, info.SndWscale, info.RcvWscale));
        Assert.Equal(1, h.Mib(TcpMib.CurrEstab));
        h.ExpectNothingUntil(10.Sec());
    }

    [Fact]
    public void SimultaneousOpen_UnansweredSynAck_IsRetransmittedOnTheSynsTimer()
    {
        using var h = new TcpHarness();
        using var s = StartConnect(h, 0.Ms());
        h.ExpectSent(0.Ms(), Seg.Flags(Syn));
        h.Send(10.Ms(), SendTemplate with { Flags = Syn, Seq = RemoteIsn, Ack = default, Window = 64240, Options = LinuxSynOptions(PeerTsAt(10.Ms())) });
        h.ExpectSent(10.Ms(), Seg.Flags(Syn | Ack));
        // The retransmit timer armed for the SYN at 0 fires at 1 s, then doubles (no linear timeouts in SYN_RECV).
        h.ExpectSent(1.Sec(), Seg.Flags(Syn | Ack), Seg.Seq(h.LocalIsn), Seg.Ack(RemoteIsn + 1));
        h.ExpectSent(3.Sec(), Seg.Flags(Syn | Ack), Seg.Seq(h.LocalIsn));
        h.Send(3010.Ms(), SendTemplate with { Seq = RemoteIsn + 1, Ack = h.LocalIsn + 1, Window = 502 });
        Assert.Equal(TcpState.Established, s.State);
        h.ExpectNothingUntil(100.Sec());
    }

    // ------------------------------------------------------------------ refusals

    [Fact]
    public void RstAckToTheSyn_FailsConnectWithEconnrefused_AndStopsRetransmitting()
    {
        using var h = new TcpHarness();
        var s = h.Host.Tcp.Open();
        var connect = h.Start(0.Ms(), () => s.ConnectAsync(RemoteIp, RemotePort));
        var syn = h.ExpectSent(0.Ms(), Seg.Flags(Syn));
        h.Send(10.Ms(), SendTemplate with
        {
            SourcePort = RemotePort, DestinationPort = syn.Tcp.SourcePort, Flags = Rst | Ack, Seq = new(0), Ack = h.LocalIsn + 1, Window = 0,
        });
        h.ExpectNothingUntil(300.Sec());
        Assert.Equal(Errno.ECONNREFUSED, connect.FailedWith());
        Assert.Equal(TcpState.Close, s.State);
        Assert.Equal((1, 0), (h.Mib(TcpMib.AttemptFails), h.Mib(TcpMib.EstabResets)));
    }

    [Fact]
    public void NonBlockingConnect_Refused_ReportsTheErrorThroughSoErrorOrTheNextConnect()
    {
        using var h = new TcpHarness();
        using var a = StartConnect(h, 0.Ms());
        h.ExpectSent(0.Ms(), Seg.Flags(Syn));
        h.Send(10.Ms(), SendTemplate with { Flags = Rst | Ack, Seq = new(0), Ack = h.LocalIsn + 1, Window = 0 });
        Assert.Equal(Errno.ECONNREFUSED, a.Connect(RemoteIp, RemotePort)); // sock_error() on the next connect()
        Assert.Equal(Errno.None, a.TakeError());

        using var b = h.Host.Tcp.Open();
        h.At(20.Ms(), () => Assert.Equal(Errno.EINPROGRESS, b.Connect(RemoteIp, RemotePort)));
        Assert.Equal(Errno.EALREADY, b.Connect(RemoteIp, RemotePort));
        var syn = h.ExpectSent(20.Ms(), Seg.Flags(Syn));
        h.Send(30.Ms(), SendTemplate with
        {
            DestinationPort = syn.Tcp.SourcePort, Flags = Rst | Ack, Seq = new(0), Ack = syn.Tcp.Seq + 1, Window = 0,
        });
        Assert.Equal(Errno.ECONNREFUSED, b.TakeError()); // SO_ERROR
        Assert.Equal(Errno.ECONNABORTED, b.Connect(RemoteIp, RemotePort));
    }

    [Fact]
    public void SynSent_RstWithBadAck_IsIgnored_ButTheSynIsResentAfterTcpTimeoutMin()
    {
        // tcp_rcv_synsent_state_process(): an unacceptable ACK → reset_and_undo (no RST answers a RST) and, before any
        // retransmission, the SYN timer is cut to TCP_TIMEOUT_MIN (2 jiffies = 2 ms at HZ=1000).
        using var h = new TcpHarness();
        using var s = StartConnect(h, 0.Ms());
        h.ExpectSent(0.Ms(), Seg.Flags(Syn));
        h.Send(100.Ms(), SendTemplate with { Flags = Rst | Ack, Seq = new(0), Ack = h.LocalIsn + 1000 });
        h.ExpectSent(102.Ms(), Seg.Flags(Syn), Seg.Seq(h.LocalIsn));
        Assert.Equal(TcpState.SynSent, s.State);
        // The retransmission was a timeout like any other: the next one 1 s later (linear), not at 1 s from the start.
        h.ExpectSent(1102.Ms(), Seg.Flags(Syn));
        Assert.Equal(TcpState.SynSent, s.State);
    }

    [Fact]
    public void SynSent_RstWithoutAck_IsIgnored()
    {
        using var h = new TcpHarness();
        using var s = StartConnect(h, 0.Ms());
        h.ExpectSent(0.Ms(), Seg.Flags(Syn));
        h.Send(100.Ms(), SendTemplate with { Flags = Rst, Seq = new(0), Ack = default });
        h.ExpectSent(1.Sec(), Seg.Flags(Syn));
        Assert.Equal(TcpState.SynSent, s.State);
    }

    [Fact]
    public void SynSent_SynAckWithBadAck_IsAnsweredWithRst_AndTheSynResentAfter2ms()
    {
        using var h = new TcpHarness();
        using var s = StartConnect(h, 0.Ms());
        h.ExpectSent(0.Ms(), Seg.Flags(Syn));
        var badAck = h.LocalIsn + 5000;
        h.Send(100.Ms(), SendTemplate with
        {
            Flags = Syn | Ack, Seq = RemoteIsn, Ack = badAck, Window = 65160, Options = LinuxSynOptions(PeerTsAt(100.Ms()), 1),
        });
        // tcp_v4_send_reset(): the segment has ACK, so seq = its ack and no ACK flag.
        h.ExpectSent(100.Ms(), Seg.Flags(Rst), Seg.Seq(badAck), Seg.Window(0), Seg.NoOptions());
        h.ExpectSent(102.Ms(), Seg.Flags(Syn), Seg.Seq(h.LocalIsn));
        Assert.Equal(TcpState.SynSent, s.State);
    }

    [Fact]
    public void SynSent_AckWithoutSyn_IsDropped()
    {
        using var h = new TcpHarness();
        using var s = StartConnect(h, 0.Ms());
        h.ExpectSent(0.Ms(), Seg.Flags(Syn));
        h.Send(100.Ms(), SendTemplate with { Flags = Ack, Seq = RemoteIsn + 1, Ack = h.LocalIsn + 1 });
        h.ExpectSent(1.Sec(), Seg.Flags(Syn));
        Assert.Equal(TcpState.SynSent, s.State);
    }

    [Fact]
    public void IcmpPortUnreachable_ForTheSyn_FailsConnectAtOnce_WithEconnrefused()
    {
        using var h = new TcpHarness();
        var s = h.Host.Tcp.Open();
        var connect = h.Start(0.Ms(), () => s.ConnectAsync(RemoteIp, RemotePort));
        var synFrame = h.ExpectSentFrame(0.Ms());
        h.SendFrame(30.Ms(), IcmpErrorFor(h, synFrame, IcmpType.DestinationUnreachable, IcmpCode.PortUnreachable));
        h.ExpectNothingUntil(200.Sec());
        Assert.Equal(Errno.ECONNREFUSED, connect.FailedWith());
        // tcp_done_with_error(): AttemptFails, but not TCPAbortOnTimeout (that is tcp_write_err()'s).
        Assert.Equal((1, 0), (h.Mib(TcpMib.AttemptFails), h.Ext(TcpExtMib.TCPAbortOnTimeout)));
    }

    [Fact]
    public void IcmpHostUnreachable_ForTheSyn_FailsConnectAtOnce_WithEhostunreach()
    {
        using var h = new TcpHarness();
        using var s = StartConnect(h, 0.Ms());
        var synFrame = h.ExpectSentFrame(0.Ms());
        h.SendFrame(30.Ms(), IcmpErrorFor(h, synFrame, IcmpType.DestinationUnreachable, IcmpCode.HostUnreachable));
        h.ExpectNothingUntil(10.Sec());
        Assert.Equal(TcpState.Close, s.State);
        Assert.Equal(Errno.EHOSTUNREACH, s.TakeError());
    }

    /// <summary>An ICMP error from the gateway quoting the IP header and 8 bytes of <paramref name="sent"/>.</summary>
    internal static byte[] IcmpErrorFor(TcpHarness h, SentFrame sent, byte type, byte code)
    {
        var quoted = sent.Bytes.AsSpan(14, 20 + 8).ToArray();
        var message = new byte[8 + quoted.Length];
        quoted.CopyTo(message, 8);
        new IcmpRepr(type, code, 0, quoted.Length).Emit(message);
        return h.IpFrame(new Ipv4Repr(GatewayIp, LocalIp, IpProtocol.Icmp, 0), message);
    }
}
