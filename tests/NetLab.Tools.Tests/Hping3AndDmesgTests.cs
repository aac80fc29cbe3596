using System.Text.RegularExpressions;
using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Net;
using NetLab.Stack;
using NetLab.Stack.Tcp;

namespace NetLab.Tools.Tests;

/// <summary>hping3's TCP mode over a raw IP_HDRINCL socket, and dmesg, on a — sw — b (100 Mbit/s, 1 ms).</summary>
public class Hping3AndDmesgTests
{
    [Fact]
    public void Syn_ToAListener_PrintsSynAckReplies_AndToAClosedPort_RstAck()
    {
        var (w, a, b) = Nets.Lan2();
        using (w)
        {
            Nets.Start(w, b, "tcprr -s -p 80");
            var (status, o) = Nets.Run(w, a, "hping3 -S -p 80 -c 3 10.0.0.2");
            Assert.Equal(0, status);
            Assert.Equal("HPING 10.0.0.2 (eth0 10.0.0.2): S set, 40 headers + 0 data bytes", o.Lines[0]);
            // A 44-byte SYN-ACK (MSS only: the SYN had no options) padded to Ethernet's 60 bytes: len=46, as libpcap sees it.
            Assert.Equal(3, o.Lines.Count(l => Regex.IsMatch(l, @"^len=46 ip=10\.0\.0\.2 ttl=64 DF id=\d+ sport=80 flags=SA seq=[0-2] win=\d+ rtt=[0-9.]+ ms$")));
            Assert.Equal(["", "--- 10.0.0.2 hping statistic ---", "3 packets tramitted, 3 packets received, 0% packet loss"], o.Errors.Take(3));
            Assert.Matches(@"^round-trip min/avg/max = [0-9.]+/[0-9.]+/[0-9.]+ ms$", o.Errors[3]);
            // a's kernel has no socket for the SYN-ACKs and resets them, as with the real hping3.
            Assert.True(a.TcpStats[TcpMib.OutRsts] >= 3);

            var closed = Nets.Run(w, a, "hping3 -S -p 81 -c 1 10.0.0.2");
            Assert.Matches(@"^len=46 ip=10\.0\.0\.2 ttl=64 DF id=0 sport=81 flags=RA seq=0 win=0 rtt=[0-9.]+ ms$", closed.Out.Lines[1]);
        }
    }

    [Fact]
    public void Spoofed_SourcesLeaveHalfOpenConnections_AndNoReplies()
    {
        var (w, a, b) = Nets.Lan2();
        using (w)
        {
            Nets.Start(w, b, "tcprr -s -p 80");
            var (status, o) = Nets.Run(w, a, "hping3 -S -p 80 -c 2 -a 10.0.0.99 -s 2000 10.0.0.2");
            Assert.Equal(1, status);
            Assert.Equal("2 packets tramitted, 0 packets received, 100% packet loss", o.Errors[2]);
            Assert.Equal("round-trip min/avg/max = 0.0/0.0/0.0 ms", o.Errors[3]);
            // b answered 10.0.0.99 (whose ARP never resolves): two half-open connections from ports 2000 and 2001.
            var half = b.Tcp.Entries().Where(e => e.State == TcpState.NewSynRecv).ToArray();
            Assert.Equal([(Ipv4Address.Parse("10.0.0.99"), (ushort)2000), (Ipv4Address.Parse("10.0.0.99"), (ushort)2001)],
                half.Select(e => (e.RemoteAddress, e.RemotePort)).Order());
        }
    }

    [Fact]
    public void Flood_SendsAtTheInterfaceRate_UntilInterrupted()
    {
        var (w, a, b) = Nets.Lan2();
        using (w)
        {
            Nets.Run(w, a, "ping -c 1 10.0.0.2"); // resolve b first: a flood into an unresolved neighbour queues and drops
            var flood = Nets.Start(w, a, "hping3 -S -p 80 --flood --rand-source 10.0.0.2");
            w.RunFor(SimDuration.FromMilliseconds(90));
            flood.Stop.Cancel();
            Assert.Equal(1, w.Scheduler.Run(flood.Task));
            Assert.Equal("hping in flood mode, no replies will be shown", flood.Out.Errors[0]);
            // 60-byte frames at 100 Mbit/s (84 bytes with preamble and gap: 6.72 us each) for 100 ms, plus what the
            // send buffer holds in the qdisc: about 14900 + 330.
            var sent = int.Parse(Regex.Match(flood.Out.Errors[3], @"^(\d+) packets tramitted").Groups[1].Value);
            Assert.InRange(sent, 14000, 16000);
            Assert.Equal(0, a.FindDevice("eth0")!.Qdisc.Stats.Drops);
        }
    }

    [Fact]
    public void Dmesg_PrintsKernelLinesStampedFromBoot()
    {
        var (w, a, _) = Nets.Lan2();
        using (w)
        {
            w.RunFor(SimDuration.FromMilliseconds(1500));
            a.KernelLog("TCP: request_sock_TCP: Possible SYN flooding on port 0.0.0.0:80. Sending cookies.");
            var (status, o) = Nets.Run(w, a, "dmesg");
            Assert.Equal(0, status);
            // The host booted one second before the world started (CLOCK_MONOTONIC).
            Assert.Equal(["[    2.500000] TCP: request_sock_TCP: Possible SYN flooding on port 0.0.0.0:80. Sending cookies."], o.Lines);
            Assert.Equal(1, Nets.Run(w, a, "dmesg -x").Status);
        }
    }
}
