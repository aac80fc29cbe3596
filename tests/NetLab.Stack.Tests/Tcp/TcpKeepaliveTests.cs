using NetLab.Core.Time;
using NetLab.Stack.Tcp;
using static NetLab.Stack.Tcp.TcpFlags;
using static NetLab.Stack.Tests.Tcp.TcpConnScripts;
using static NetLab.Stack.Tests.Tcp.TcpHarness;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>
/// SO_KEEPALIVE (tcp_keepalive_timer, tcp_write_wakeup → tcp_xmit_probe_skb): probes at keepalive_time +
/// k·keepalive_intvl with seq = snd_una - 1 and no data, RST and ETIMEDOUT after keepalive_probes unanswered
/// (§7 and §12.4 of docs/reference/linux-tcp.md). The handshake's SYN-ACK arrives at 10 ms: idle from then on.
/// </summary>
public class TcpKeepaliveTests
{
    private static SimDuration S(double seconds) => SimDuration.FromMicroseconds((long)Math.Round(seconds * 1_000_000));

    [Fact]
    public void DeadPeer_NineProbesEvery75s_From7200s_ThenRstAndEtimedoutAt7875s()
    {
        using var h = new TcpHarness();
        var (s, off) = Establish(h, configure: c => c.KeepAlive = true);
        var read = h.Start(20.Ms(), () => s.ReceiveAsync(new byte[10]));
        for (int k = 0; k < 9; k++)
        {
            var at = S(7200.010 + 75 * k);
            // tcp_xmit_probe_skb(): a bare ACK one byte below snd_una, so the peer must answer with a duplicate ACK.
            h.ExpectSent(at, Seg.Flags(Ack), Seg.Seq(h.LocalIsn), Seg.Ack(RemoteIsn + 1), Seg.PayloadLength(0), Seg.Window(63),
                Seg.Timestamp(DutTsAt(off, at), PeerTsAt(10.Ms())));
        }
        Assert.Equal(9, s.GetInfo().Probes);
        h.ExpectSent(S(7875.010), Seg.Flags(Rst | Ack), Seg.Seq(h.LocalIsn + 1), Seg.Ack(RemoteIsn + 1));
        Assert.Equal(TcpState.Close, s.State);
        h.ExpectNothingUntil(10_000.Sec());
        Assert.Equal(Errno.ETIMEDOUT, read.FailedWith());
        Assert.Equal((9, 1), (h.Ext(TcpExtMib.TCPKeepAlive), h.Ext(TcpExtMib.TCPAbortOnTimeout)));
        Assert.Equal((1, 1), (h.Mib(TcpMib.OutRsts), h.Mib(TcpMib.EstabResets)));
    }

    [Fact]
    public void LivePeer_AnsweringAProbe_ResetsTheProbeCount_AndTheNextProbeIs7200sAfterItsAck()
    {
        using var h = new TcpHarness();
        var (s, off) = Establish(h, configure: c => c.KeepAlive = true);
        h.ExpectSent(S(7200.010), Seg.Flags(Ack), Seg.Seq(h.LocalIsn));
        // The peer's duplicate ACK: tcp_ack() clears icsk_probes_out and stamps rcv_tstamp.
        h.Send(S(7200.020), SendTemplate with { Ack = h.LocalIsn + 1, Window = 502, Options = Ts(PeerTsAt(S(7200.020)), DutTsAt(off, S(7200.010))) });
        Assert.Equal(0, s.GetInfo().Probes);
        // At 7275.010 the timer finds only 75 s of silence and re-arms for the rest of keepalive_time.
        h.ExpectSent(S(14400.020), Seg.Flags(Ack), Seg.Seq(h.LocalIsn));
        Assert.Equal(TcpState.Established, s.State);
        Assert.Equal(2, h.Ext(TcpExtMib.TCPKeepAlive));
        s.Dispose();
    }

    [Fact]
    public void DataFromThePeer_PostponesTheFirstProbe()
    {
        using var h = new TcpHarness();
        var (s, _) = Establish(h, configure: c => c.KeepAlive = true);
        h.Send(100.Sec(), SendTemplate with { Flags = Psh | Ack, Ack = h.LocalIsn + 1, Payload = "x"u8.ToArray() });
        h.ExpectSent(100.Sec(), Seg.Flags(Ack), Seg.Ack(RemoteIsn + 2));
        h.ExpectSent(7300.Sec(), Seg.Flags(Ack), Seg.Seq(h.LocalIsn), Seg.Ack(RemoteIsn + 2));
        s.Dispose();
    }

    [Fact]
    public void PerSocketOptions_KeepIdleIntervalCount_OverrideTheSysctls()
    {
        using var h = new TcpHarness();
        var (s, _) = Establish(h, configure: c => { c.KeepAlive = true; c.KeepIdle = 10; c.KeepInterval = 5; c.KeepCount = 3; });
        foreach (var at in new[] { 10.010, 15.010, 20.010 })
            h.ExpectSent(S(at), Seg.Flags(Ack), Seg.Seq(h.LocalIsn));
        h.ExpectSent(S(25.010), Seg.Flags(Rst | Ack), Seg.Seq(h.LocalIsn + 1));
        Assert.Equal(Errno.ETIMEDOUT, s.TakeError());
    }

    [Fact]
    public void Sysctls_SetTheDefaults()
    {
        using var h = new TcpHarness();
        h.Host.Sysctl.Set("net.ipv4.tcp_keepalive_time", "60");
        h.Host.Sysctl.Set("net.ipv4.tcp_keepalive_intvl", "10");
        h.Host.Sysctl.Set("net.ipv4.tcp_keepalive_probes", "2");
        var (s, _) = Establish(h, configure: c => c.KeepAlive = true);
        h.ExpectSent(S(60.010), Seg.Flags(Ack), Seg.Seq(h.LocalIsn));
        h.ExpectSent(S(70.010), Seg.Flags(Ack), Seg.Seq(h.LocalIsn));
        h.ExpectSent(S(80.010), Seg.Flags(Rst | Ack));
        Assert.Equal(Errno.ETIMEDOUT, s.TakeError());
    }

    [Fact]
    public void KeepIdle_SetOnAnIdleKeepaliveSocket_ReArmsForWhatIsLeft()
    {
        // tcp_sock_set_keepidle_locked(): the timer is reset to keepalive_time - elapsed.
        using var h = new TcpHarness();
        var (s, _) = Establish(h, configure: c => c.KeepAlive = true);
        h.At(100.Sec(), () => s.KeepIdle = 300);
        h.ExpectSent(S(300.010), Seg.Flags(Ack), Seg.Seq(h.LocalIsn));
        s.Dispose();
    }

    [Fact]
    public void KeepAlive_EnabledLater_CountsFromTheSetsockopt_ThenFromTheLastSegmentReceived()
    {
        // tcp_set_keepalive(): the timer is armed keepalive_time after setsockopt; it then measures the silence.
        using var h = new TcpHarness();
        h.Host.Sysctl.Set("net.ipv4.tcp_keepalive_time", "60");
        var (s, _) = Establish(h);
        h.At(30.Sec(), () => s.KeepAlive = true);
        h.ExpectSent(90.Sec(), Seg.Flags(Ack), Seg.Seq(h.LocalIsn));
        s.Dispose();
    }

    [Fact]
    public void KeepAlive_Off_SendsNothing()
    {
        using var h = new TcpHarness();
        var (s, _) = Establish(h, configure: c => c.KeepAlive = true);
        h.At(100.Sec(), () => s.KeepAlive = false);
        h.ExpectNothingUntil(20_000.Sec());
        Assert.Equal(TcpState.Established, s.State);
        s.Dispose();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(32768)]
    public void KeepIdle_OutOfRange_IsEinval(int seconds)
    {
        using var h = new TcpHarness();
        using var s = h.Host.Tcp.Open();
        Assert.Equal(Errno.EINVAL, Assert.Throws<NetLabSocketException>(() => s.KeepIdle = seconds).Errno);
    }
}
