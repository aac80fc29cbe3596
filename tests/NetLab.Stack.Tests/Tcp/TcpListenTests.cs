using NetLab.Core.Time;
using NetLab.Stack.Tcp;
using static NetLab.Stack.Tcp.TcpFlags;
using static NetLab.Stack.Tests.Tcp.TcpConnScripts;
using static NetLab.Stack.Tests.Tcp.TcpHarness;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>
/// Passive open (LISTEN, request socks, the accept queue, SYN cookies): §3 of docs/reference/linux-tcp.md, checked
/// against tcp_conn_request() (tcp_input.c), reqsk_timer_handler() (inet_connection_sock.c), tcp_check_req() and
/// tcp_create_openreq_child() (tcp_minisocks.c) of Linux 6.18.
/// </summary>
public class TcpListenTests
{
    private static InboundSegment Syn(SimDuration at, ushort port = RemotePort, SeqNum? isn = null, TcpOptionSet? options = null) =>
        SendTemplate with
        {
            SourcePort = port, Flags = TcpFlags.Syn, Seq = isn ?? RemoteIsn, Ack = default, Window = 64240,
            Options = options ?? LinuxSynOptions(PeerTsAt(at)),
        };

    private static InboundSegment FinalAck(SimDuration at, SentSegment synAck, ushort port = RemotePort, SeqNum? isn = null) =>
        SendTemplate with
        {
            SourcePort = port, Seq = (isn ?? RemoteIsn) + 1, Ack = synAck.Tcp.Seq + 1, Window = 502,
            Options = Ts(PeerTsAt(at), synAck.TsVal()),
        };

    private static SegCheck To(ushort port) => Seg.Where($"dport {port}", s => s.Tcp.DestinationPort == port);

    [Fact]
    public void Syn_GetsASynAck_WithLinuxOptionsInOrder_AndWindow65160()
    {
        using var h = new TcpHarness();
        using var l = Listen(h);
        h.Send(100.Ms(), Syn(100.Ms()));
        var frame = h.ExpectSentFrame(100.Ms());
        var synAck = frame.Tcp!;
        // tcp_openreq_init_rwin(): full space 65536 in whole segments of 1460 - 12 = 1448 → 45 × 1448 = 65160.
        Seg.Verify(synAck, Seg.Flags(TcpFlags.Syn | Ack), Seg.Ack(RemoteIsn + 1), Seg.Window(65160), Seg.Mss(1460),
            Seg.SackPermitted(), Seg.Timestamp(ecr: PeerTsAt(100.Ms())), Seg.WScale(10), Seg.Ttl(64), Seg.DontFragment(), Seg.PayloadLength(0));
        Assert.Equal((LocalPort, RemotePort), (synAck.Tcp.SourcePort, synAck.Tcp.DestinationPort));
        // tcp_options_write(): MSS, then SACK_PERM packed in front of TS, then nop,wscale.
        Assert.Equal("020405B40402080A", Convert.ToHexString(frame.IpPayload[20..28]));
        Assert.Equal("0103030A", Convert.ToHexString(frame.IpPayload[36..40]));
        Assert.Equal(1, l.SynQueueLength);
        Assert.Equal(0, l.AcceptQueueLength);
        Assert.Equal((0, 1), (h.Mib(TcpMib.PassiveOpens), h.Mib(TcpMib.OutSegs)));
    }

    [Fact]
    public void SynWithoutTimestamps_GetsWindow64240_AndSackPermittedAlone()
    {
        using var h = new TcpHarness();
        using var l = Listen(h);
        h.Send(0.Ms(), Syn(0.Ms(), options: new TcpOptionSet { Mss = 1460, SackPermitted = true, WindowScale = 7 }));
        var frame = h.ExpectSentFrame(0.Ms());
        Seg.Verify(frame.Tcp!, Seg.Flags(TcpFlags.Syn | Ack), Seg.Window(64240), Seg.Mss(1460), Seg.SackPermitted(), Seg.WScale(10),
            Seg.Where("no TS", s => s.Tcp.Options.Timestamp is null));
        // mss, nop,nop,sackOK, nop,wscale: 12 option bytes.
        Assert.Equal("020405B4" + "01010402" + "0103030A", Convert.ToHexString(frame.IpPayload[20..]));
    }

    [Fact]
    public void SynWithoutOptions_GetsOnlyMss_AndTheChildSends536ByteSegments()
    {
        using var h = new TcpHarness();
        using var l = Listen(h);
        h.Send(0.Ms(), Syn(0.Ms(), options: new TcpOptionSet()));
        var synAck = h.ExpectSent(0.Ms(), Seg.Flags(TcpFlags.Syn | Ack), Seg.Window(64240), Seg.Mss(1460),
            Seg.Where("only mss", s => s.Tcp.Options == new TcpOptionSet { Mss = 1460 }));
        h.Send(10.Ms(), SendTemplate with { Seq = RemoteIsn + 1, Ack = synAck.Tcp.Seq + 1, Window = 8192 });
        using var c = Accept(l);
        var info = c.GetInfo();
        Assert.Equal((536, 0, 0), (info.SndMss, info.SndWscale, (int)info.Options));
        Assert.Equal(8192, info.SndWnd);
        h.At(20.Ms(), () => c.TrySend(new byte[600], out _));
        h.ExpectSent(20.Ms(), Seg.Flags(Ack), Seg.PayloadLength(536), Seg.NoOptions(), Seg.Window(64240));
        h.ExpectSent(20.Ms(), Seg.Flags(Psh | Ack), Seg.PayloadLength(64));
    }

    [Fact]
    public void FinalAck_CreatesTheChild_PassiveOpens_AndAcceptReturnsItEstablished()
    {
        using var h = new TcpHarness();
        using var l = Listen(h);
        h.Send(0.Ms(), Syn(0.Ms()));
        var synAck = h.ExpectSent(0.Ms(), Seg.Flags(TcpFlags.Syn | Ack));
        uint off = synAck.TsOffset();
        TcpSocket? accepted = null;
        var accept = h.Start(0.Ms(), async () => accepted = await l.AcceptAsync());
        h.Send(10.Ms(), FinalAck(10.Ms(), synAck));
        Assert.True(accept.IsCompletedSuccessfully);
        using var c = accepted!;
        Assert.Equal(TcpState.Established, c.State);
        Assert.Equal((LocalIp, LocalPort, RemoteIp, RemotePort), (c.LocalAddress, c.LocalPort, c.RemoteAddress, c.RemotePort));
        Assert.Equal((1, 1), (h.Mib(TcpMib.PassiveOpens), h.Mib(TcpMib.CurrEstab)));
        Assert.Equal((0, 0), (l.SynQueueLength, l.AcceptQueueLength));
        var info = c.GetInfo();
        Assert.Equal((1448, 1448, 7, 10), (info.SndMss, info.Advmss, info.SndWscale, info.RcvWscale));
        Assert.Equal(502 << 7, info.SndWnd);
        Assert.Equal((10_000L, 210_000L, 10u), (info.RttUs, info.RtoUs, info.SndCwnd)); // the SYN-ACK's RTT (tcp_synack_rtt_meas)
        h.At(20.Ms(), () => c.TrySend("hi"u8, out _));
        // ⌈65160 / 1024⌉ = 64: the first window the server advertises (§1.6).
        h.ExpectSent(20.Ms(), Seg.Flags(Psh | Ack), Seg.Seq(synAck.Tcp.Seq + 1), Seg.Ack(RemoteIsn + 1), Seg.Window(64),
            Seg.Timestamp(DutTsAt(off, 20.Ms()), PeerTsAt(10.Ms())), Seg.PayloadLength(2));
    }

    [Fact]
    public void SynAck_IsRetransmittedAt1_3_7_15_31s_AndTheRequestDroppedAt63s()
    {
        using var h = new TcpHarness();
        using var l = Listen(h);
        h.Send(0.Ms(), Syn(0.Ms()));
        var first = h.ExpectSent(0.Ms(), Seg.Flags(TcpFlags.Syn | Ack));
        uint off = first.TsOffset();
        foreach (int t in new[] { 1, 3, 7, 15, 31 })
            h.ExpectSent(t.Sec(), Seg.Flags(TcpFlags.Syn | Ack), Seg.Seq(first.Tcp.Seq), Seg.Ack(RemoteIsn + 1), Seg.Window(65160),
                Seg.Timestamp(DutTsAt(off, t.Sec()), PeerTsAt(0.Ms())));
        h.ExpectNothingUntil(63.Sec());
        Assert.Equal(1, l.SynQueueLength);
        h.ExpectNothingUntil(63.Sec() + 1.Ms());
        Assert.Equal(0, l.SynQueueLength);
        Assert.Equal((5, 6), (h.Ext(TcpExtMib.TCPSynRetrans), h.Ext(TcpExtMib.TCPTimeouts)));
        Assert.Equal(5, h.Mib(TcpMib.RetransSegs));
        // The request is gone without a trace: its ACK now meets the listener, which answers with a RST (seq = ack).
        h.Send(64.Sec(), FinalAck(64.Sec(), first));
        h.ExpectSent(64.Sec(), Seg.Flags(Rst), Seg.Seq(first.Tcp.Seq + 1), Seg.Window(0), Seg.NoOptions());
        Assert.Equal(0, h.Mib(TcpMib.PassiveOpens));
    }

    [Fact]
    public void SynAckRetries_FollowTcpSynackRetries_AndTheListenersSynCount()
    {
        using var h = new TcpHarness();
        h.Host.Sysctl.Set("net.ipv4.tcp_synack_retries", "2");
        using var l = Listen(h);
        h.Send(0.Ms(), Syn(0.Ms()));
        h.ExpectSent(0.Ms(), Seg.Flags(TcpFlags.Syn | Ack));
        h.ExpectSent(1.Sec(), Seg.Flags(TcpFlags.Syn | Ack));
        h.ExpectSent(3.Sec(), Seg.Flags(TcpFlags.Syn | Ack));
        h.ExpectNothingUntil(7.Sec());
        Assert.Equal(1, l.SynQueueLength);
        h.ExpectNothingUntil(7.Sec() + 1.Ms());
        Assert.Equal(0, l.SynQueueLength);

        using var l2 = h.Host.Tcp.Open();
        l2.SynCount = 1; // TCP_SYNCNT on the listener overrides tcp_synack_retries (reqsk_timer_handler)
        Assert.Equal(Errno.None, l2.Bind(default, 40001));
        Assert.Equal(Errno.None, l2.Listen(8));
        h.Send(10.Sec(), Syn(10.Sec()) with { DestinationPort = 40001 });
        h.ExpectSent(10.Sec(), Seg.Flags(TcpFlags.Syn | Ack));
        h.ExpectSent(11.Sec(), Seg.Flags(TcpFlags.Syn | Ack));
        h.ExpectNothingUntil(13.Sec() + 1.Ms());
        Assert.Equal(0, l2.SynQueueLength);
    }

    [Fact]
    public void RetransmittedSyn_GetsTheSynAckAgain_AndRestartsTheRequestTimer_RateLimitedTo500ms()
    {
        using var h = new TcpHarness();
        using var l = Listen(h);
        h.Send(0.Ms(), Syn(0.Ms()));
        var first = h.ExpectSent(0.Ms(), Seg.Flags(TcpFlags.Syn | Ack));
        // tcp_check_req(): a pure retransmitted SYN → tcp_rtx_synack() and mod_timer_pending(now + tcp_reqsk_timeout()).
        h.Send(400.Ms(), Syn(0.Ms()));
        h.ExpectSent(400.Ms(), Seg.Flags(TcpFlags.Syn | Ack), Seg.Seq(first.Tcp.Seq), Seg.Ack(RemoteIsn + 1));
        Assert.Equal((1, 1), (h.Ext(TcpExtMib.TCPSynRetrans), h.Mib(TcpMib.RetransSegs)));
        // Another within tcp_invalid_ratelimit (500 ms): nothing sent, and the timer is left alone.
        h.Send(800.Ms(), Syn(0.Ms()));
        Assert.Equal(1, h.Ext(TcpExtMib.TCPACKSkippedSynRecv));
        h.ExpectSent(1400.Ms(), Seg.Flags(TcpFlags.Syn | Ack), Seg.Seq(first.Tcp.Seq));
        var last = h.ExpectSent(3400.Ms(), Seg.Flags(TcpFlags.Syn | Ack)); // num_timeout 1: 2 s
        // Three SYN-ACK retransmissions (num_retrans 3, num_timeout 2) → the child starts with cwnd 1, since the ACK
        // echoes the last SYN-ACK, not the first (tcp_try_undo_spurious_syn).
        h.Send(3410.Ms(), FinalAck(3410.Ms(), last));
        using var c = Accept(l);
        Assert.Equal((1u, 3), (c.GetInfo().SndCwnd, c.GetInfo().TotalRetrans));
    }

    [Fact]
    public void FinalAck_WithAWrongAckNumber_IsAnsweredWithRst_AndTheRequestKept()
    {
        using var h = new TcpHarness();
        using var l = Listen(h);
        h.Send(0.Ms(), Syn(0.Ms()));
        var synAck = h.ExpectSent(0.Ms(), Seg.Flags(TcpFlags.Syn | Ack));
        h.Send(10.Ms(), FinalAck(10.Ms(), synAck) with { Ack = synAck.Tcp.Seq + 100 });
        h.ExpectSent(10.Ms(), Seg.Flags(Rst), Seg.Seq(synAck.Tcp.Seq + 100));
        Assert.Equal(1, l.SynQueueLength);
        h.Send(20.Ms(), FinalAck(20.Ms(), synAck));
        Assert.Equal(1, l.AcceptQueueLength);
    }

    [Fact]
    public void RstForARequest_DropsIt_EmbryonicRsts_AttemptFails()
    {
        using var h = new TcpHarness();
        using var l = Listen(h);
        h.Send(0.Ms(), Syn(0.Ms()));
        var synAck = h.ExpectSent(0.Ms(), Seg.Flags(TcpFlags.Syn | Ack));
        h.Send(10.Ms(), SendTemplate with { Flags = Rst, Seq = RemoteIsn + 1, Ack = default });
        Assert.Equal(0, l.SynQueueLength);
        Assert.Equal((1, 1), (h.Ext(TcpExtMib.EmbryonicRsts), h.Mib(TcpMib.AttemptFails)));
        h.ExpectNothingUntil(100.Sec());
        _ = synAck;
    }

    // ------------------------------------------------------------------ the accept queue

    [Fact]
    public void AcceptQueue_WithBacklogN_AdmitsNPlus1_ThenDropsTheFinalAck_AndCompletesWhenThereIsRoom()
    {
        using var h = new TcpHarness();
        using var l = Listen(h, backlog: 1);
        // The same backlog bounds the SYN queue (qlen > backlog is full), so the third request waits for room there.
        h.Send(0.Ms(), Syn(0.Ms(), port: 9000));
        var a = h.ExpectSent(0.Ms(), Seg.Flags(TcpFlags.Syn | Ack), To(9000));
        h.Send(1.Ms(), Syn(1.Ms(), port: 9001));
        var b = h.ExpectSent(1.Ms(), Seg.Flags(TcpFlags.Syn | Ack), To(9001));
        h.Send(10.Ms(), FinalAck(10.Ms(), a, port: 9000));
        h.Send(11.Ms(), Syn(11.Ms(), port: 9002));
        var c = h.ExpectSent(11.Ms(), Seg.Flags(TcpFlags.Syn | Ack), To(9002));
        h.Send(12.Ms(), FinalAck(12.Ms(), b, port: 9001));
        Assert.Equal((2, 1), (l.AcceptQueueLength, l.SynQueueLength)); // sk_acceptq_is_full(): sk_ack_backlog > sk_max_ack_backlog
        // tcp_abort_on_overflow = 0: the ACK is dropped silently, the request stays ("acked").
        h.Send(21.Ms(), FinalAck(21.Ms(), c, port: 9002));
        Assert.Equal((1, 1), (h.Ext(TcpExtMib.ListenOverflows), h.Ext(TcpExtMib.ListenDrops)));
        Assert.Equal((2, 1), (l.AcceptQueueLength, l.SynQueueLength));
        // A new SYN meets the full accept queue and is dropped too (tcp_conn_request), even without a full SYN queue.
        h.Send(30.Ms(), Syn(30.Ms(), port: 9003));
        Assert.Equal((2, 2), (h.Ext(TcpExtMib.ListenOverflows), h.Ext(TcpExtMib.ListenDrops)));
        // The acked request's SYN-ACK is still retransmitted on its schedule; the peer's ACK is dropped again.
        h.ExpectSent(1011.Ms(), Seg.Flags(TcpFlags.Syn | Ack), To(9002), Seg.Seq(c.Tcp.Seq));
        h.Send(1021.Ms(), FinalAck(1021.Ms(), c, port: 9002));
        Assert.Equal(3, h.Ext(TcpExtMib.ListenOverflows));
        // Room again: the next ACK provoked by a SYN-ACK retransmission creates the child.
        TcpSocket? first = null;
        h.At(2.Sec(), () => first = Accept(l));
        Assert.Equal(9000, first!.RemotePort);
        h.ExpectSent(3011.Ms(), Seg.Flags(TcpFlags.Syn | Ack), To(9002));
        h.Send(3021.Ms(), FinalAck(3021.Ms(), c, port: 9002));
        Assert.Equal((2, 0), (l.AcceptQueueLength, l.SynQueueLength));
        Assert.Equal(3, h.Mib(TcpMib.PassiveOpens));
    }

    [Fact]
    public void AcceptQueueOverflow_WithAbortOnOverflow_AnswersTheFinalAckWithRst()
    {
        using var h = new TcpHarness();
        h.Host.Sysctl.Set("net.ipv4.tcp_abort_on_overflow", "1");
        using var l = Listen(h, backlog: 1);
        h.Send(0.Ms(), Syn(0.Ms(), port: 9000));
        var a = h.ExpectSent(0.Ms(), Seg.Flags(TcpFlags.Syn | Ack), To(9000));
        h.Send(1.Ms(), Syn(1.Ms(), port: 9001));
        var b = h.ExpectSent(1.Ms(), Seg.Flags(TcpFlags.Syn | Ack), To(9001));
        h.Send(10.Ms(), FinalAck(10.Ms(), a, port: 9000));
        h.Send(11.Ms(), Syn(11.Ms(), port: 9002));
        var c = h.ExpectSent(11.Ms(), Seg.Flags(TcpFlags.Syn | Ack), To(9002));
        h.Send(12.Ms(), FinalAck(12.Ms(), c, port: 9002));
        Assert.Equal(2, l.AcceptQueueLength);
        // embryonic_reset: a reply to the ACK (seq = its ack, no ACK flag); the request is unlinked.
        h.Send(21.Ms(), FinalAck(21.Ms(), b, port: 9001));
        h.ExpectSent(21.Ms(), Seg.Flags(Rst), To(9001), Seg.Seq(b.Tcp.Seq + 1));
        Assert.Equal((1, 1, 1), (h.Ext(TcpExtMib.ListenOverflows), h.Ext(TcpExtMib.ListenDrops), h.Ext(TcpExtMib.EmbryonicRsts)));
        Assert.Equal((2, 0), (l.AcceptQueueLength, l.SynQueueLength));
        h.ExpectNothingUntil(100.Sec());
    }

    [Fact]
    public void ChildResetWhileQueued_IsStillAccepted_AndReportsEconnreset()
    {
        using var h = new TcpHarness();
        using var l = Listen(h);
        PassiveOpen(h, 0.Ms());
        h.Send(20.Ms(), SendTemplate with { Flags = Rst, Seq = RemoteIsn + 1, Ack = default });
        Assert.Equal(1, l.AcceptQueueLength); // inet_csk_accept() takes the oldest child whatever its state
        using var c = Accept(l);
        Assert.Equal(TcpState.Close, c.State);
        Assert.Equal(Errno.ECONNRESET, c.TryReceive(new byte[1], out _));
        Assert.Equal(1, h.Mib(TcpMib.EstabResets));
        h.ExpectNothingUntil(10.Sec());
    }

    [Fact]
    public void ClosingAListener_ResetsItsUnacceptedChildren_AndDropsRequestsSilently()
    {
        using var h = new TcpHarness();
        var l = Listen(h);
        var (isn, _) = PassiveOpen(h, 0.Ms(), peerPort: 9000);
        h.Send(20.Ms(), Syn(20.Ms(), port: 9001));
        h.ExpectSent(20.Ms(), Seg.Flags(TcpFlags.Syn | Ack), To(9001));
        h.At(30.Ms(), l.Close);
        // inet_csk_listen_stop() → tcp_disconnect() of each queued child: RST|ACK at snd_nxt, ack rcv_nxt.
        h.ExpectSent(30.Ms(), Seg.Flags(Rst | Ack), To(9000), Seg.Seq(isn + 1), Seg.Ack(RemoteIsn + 1));
        h.ExpectNothingUntil(100.Sec());
        Assert.Equal(1, h.Mib(TcpMib.EstabResets));
    }

    // ------------------------------------------------------------------ SYN queue and cookies

    [Fact]
    public void SynQueueFull_WithoutSyncookies_DropsTheSyn_AndLogsPossibleSynFloodingOnce()
    {
        using var h = new TcpHarness();
        h.Host.Sysctl.Set("net.ipv4.tcp_syncookies", "0");
        using var l = Listen(h, backlog: 1);
        for (int i = 0; i < 2; i++)
        {
            h.Send(i.Ms(), Syn(i.Ms(), port: (ushort)(9000 + i)));
            h.ExpectSent(i.Ms(), Seg.Flags(TcpFlags.Syn | Ack));
        }
        Assert.Equal(2, l.SynQueueLength); // inet_csk_reqsk_queue_is_full(): qlen > sk_max_ack_backlog
        h.Send(5.Ms(), Syn(5.Ms(), port: 9002));
        h.Send(6.Ms(), Syn(6.Ms(), port: 9003));
        h.ExpectSent(1.Sec(), Seg.Flags(TcpFlags.Syn | Ack), To(9000)); // only the two requests' retransmissions
        h.ExpectSent(1001.Ms(), Seg.Flags(TcpFlags.Syn | Ack), To(9001));
        Assert.Equal((2, 2), (h.Ext(TcpExtMib.TCPReqQFullDrop), h.Ext(TcpExtMib.ListenDrops)));
        Assert.Equal(0, h.Ext(TcpExtMib.TCPReqQFullDoCookies));
        var log = Assert.Single(h.Host.KernelLogLines, e => e.Line.Contains("SYN flooding"));
        Assert.Equal("TCP: request_sock_TCP: Possible SYN flooding on port 0.0.0.0:40000. Dropping request.", log.Line);
        Assert.Equal(5.Ms(), log.Time - SimTime.Zero);
    }

    [Fact]
    public void SynQueueFull_WithSyncookies_AnswersWithACookie_ThatTheAckTurnsIntoAChild()
    {
        using var h = new TcpHarness();
        using var l = Listen(h, backlog: 1);
        var normal = new List<SentSegment>();
        for (int i = 0; i < 2; i++)
        {
            h.Send(i.Ms(), Syn(i.Ms(), port: (ushort)(9000 + i)));
            normal.Add(h.ExpectSent(i.Ms(), Seg.Flags(TcpFlags.Syn | Ack)));
        }
        uint off = normal[0].TsOffset(); // secure_tcp_ts_off() is per address pair: the cookie SYN-ACK shares it
        var peerIsn = new SeqNum(0x5000_0000);
        h.Send(500.Ms(), Syn(500.Ms(), port: 9002, isn: peerIsn));
        var cookie = h.ExpectSent(500.Ms(), Seg.Flags(TcpFlags.Syn | Ack), To(9002), Seg.Ack(peerIsn + 1), Seg.Window(65160),
            Seg.Mss(1460), Seg.SackPermitted(), Seg.WScale(10), Seg.Timestamp(ecr: PeerTsAt(500.Ms())));
        Assert.Equal((1, 1), (h.Ext(TcpExtMib.TCPReqQFullDoCookies), h.Ext(TcpExtMib.SyncookiesSent)));
        Assert.Equal(2, l.SynQueueLength); // nothing is kept for a cookie
        Assert.Equal("TCP: request_sock_TCP: Possible SYN flooding on port 0.0.0.0:40000. Sending cookies.",
            Assert.Single(h.Host.KernelLogLines).Line);
        // cookie_init_timestamp(): TSval = ((now_ms >> 6) << 6 | options) + ts_off, options = wscale 7 | SACK (0x10).
        uint ts = cookie.TsVal() - off;
        Assert.Equal(0x17u, ts & 0x3f);
        Assert.Equal(500u >> 6 << 6 | 0x17, ts);
        // The ISN is the cookie: __cookie_v4_check() accepts it (MSS index 3 = 1460).
        Assert.True(SynCookies.CookieV4Check(h.Host.Tcp.Secrets, RemoteIp, LocalIp, 9002, LocalPort, peerIsn + 1, cookie.Tcp.Seq + 1,
            (SimTime.Zero + 510.Ms()).Nanoseconds, out ushort mss));
        Assert.Equal(1460, mss);
        // No SYN-ACK retransmission for a cookie.
        h.ExpectSent(1.Sec(), Seg.Flags(TcpFlags.Syn | Ack), To(9000));
        h.ExpectSent(1001.Ms(), Seg.Flags(TcpFlags.Syn | Ack), To(9001));
        h.ExpectSent(3.Sec(), Seg.Flags(TcpFlags.Syn | Ack), To(9000));
        h.ExpectSent(3001.Ms(), Seg.Flags(TcpFlags.Syn | Ack), To(9001));
        h.ExpectNothingUntil(3600.Ms());
        // The ACK, 3.1 s after the cookie (still in its 60 s slot or the previous one): a child with the options the
        // TSecr carries back.
        h.Send(3600.Ms(), SendTemplate with
        {
            SourcePort = 9002, Seq = peerIsn + 1, Ack = cookie.Tcp.Seq + 1, Window = 502, Options = Ts(PeerTsAt(3600.Ms()), cookie.TsVal()),
        });
        Assert.Equal(1, h.Ext(TcpExtMib.SyncookiesRecv));
        using var c = Accept(l);
        Assert.Equal(TcpState.Established, c.State);
        Assert.Equal(9002, c.RemotePort);
        var info = c.GetInfo();
        Assert.Equal((7, 10, 7, 1448), (info.SndWscale, info.RcvWscale, (int)info.Options, info.SndMss));
        Assert.Equal(1, h.Mib(TcpMib.PassiveOpens));
        h.At(3700.Ms(), () => c.TrySend("x"u8, out _));
        h.ExpectSent(3700.Ms(), Seg.Flags(Psh | Ack), To(9002), Seg.Seq(cookie.Tcp.Seq + 1), Seg.Ack(peerIsn + 1), Seg.Window(64));
    }

    [Fact]
    public void CookieAck_WithABadCookie_IsCountedAsFailed_AndReset()
    {
        using var h = new TcpHarness();
        using var l = Listen(h, backlog: 0);
        h.Send(0.Ms(), Syn(0.Ms(), port: 9000));
        h.ExpectSent(0.Ms(), Seg.Flags(TcpFlags.Syn | Ack));
        h.Send(1.Ms(), Syn(1.Ms(), port: 9001));
        var cookie = h.ExpectSent(1.Ms(), Seg.Flags(TcpFlags.Syn | Ack), To(9001));
        Assert.Equal(1, h.Ext(TcpExtMib.SyncookiesSent));
        h.Send(10.Ms(), SendTemplate with
        {
            SourcePort = 9001, Seq = RemoteIsn + 1, Ack = cookie.Tcp.Seq + 7, Window = 502, Options = Ts(PeerTsAt(10.Ms()), cookie.TsVal()),
        });
        h.ExpectSent(10.Ms(), Seg.Flags(Rst), To(9001), Seg.Seq(cookie.Tcp.Seq + 7));
        Assert.Equal((1, 0), (h.Ext(TcpExtMib.SyncookiesFailed), h.Ext(TcpExtMib.SyncookiesRecv)));
        Assert.Equal(0, l.AcceptQueueLength);
    }

    [Fact]
    public void AckToAListener_WithoutARecentOverflow_IsResetWithoutCookieCheck()
    {
        using var h = new TcpHarness();
        using var l = Listen(h);
        h.Send(0.Ms(), SendTemplate with { Seq = RemoteIsn + 1, Ack = new SeqNum(12345) });
        h.ExpectSent(0.Ms(), Seg.Flags(Rst), Seg.Seq(new SeqNum(12345)));
        Assert.Equal(0, h.Ext(TcpExtMib.SyncookiesFailed));
    }

    [Fact]
    public void Syncookies2_SendsCookiesAlways_WithoutTheLogLine()
    {
        using var h = new TcpHarness();
        h.Host.Sysctl.Set("net.ipv4.tcp_syncookies", "2");
        using var l = Listen(h);
        h.Send(0.Ms(), Syn(0.Ms()));
        var cookie = h.ExpectSent(0.Ms(), Seg.Flags(TcpFlags.Syn | Ack));
        Assert.Equal(0, l.SynQueueLength);
        Assert.Equal((1, 1), (h.Ext(TcpExtMib.TCPReqQFullDoCookies), h.Ext(TcpExtMib.SyncookiesSent)));
        Assert.Empty(h.Host.KernelLogLines);
        h.ExpectNothingUntil(10.Sec());
        h.Send(10.Sec(), FinalAck(10.Sec(), cookie));
        Assert.Equal(1, l.AcceptQueueLength);
    }
}
