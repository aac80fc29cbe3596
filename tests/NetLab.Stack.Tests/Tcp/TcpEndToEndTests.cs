using System.Security.Cryptography;
using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Net;
using NetLab.Stack.Tcp;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>Two NetLab hosts talking TCP over virtual links: handshake, transfer, close, refusal.</summary>
public class TcpEndToEndTests
{
    private static readonly Ipv4Address B = Ipv4Address.Parse("10.0.0.2");

    [Fact]
    public void Transfer_OneMegabyte_ArrivesIntact_AndBothSidesClose()
    {
        var (w, a, b, _) = TestNetworks.TwoHostsOnSwitch(new LinkParameters { RateBitsPerSecond = 100_000_000, Delay = SimDuration.FromMilliseconds(1) });
        var data = RandomNumberGenerator.GetBytes(1 << 20);
        var listener = b.Tcp.Open();
        Assert.Equal(Errno.None, listener.Bind(Ipv4Address.Any, 5001));
        Assert.Equal(Errno.None, listener.Listen(128));
        byte[]? received = null;
        async Task Server()
        {
            var c = await listener.AcceptAsync();
            var buf = new byte[data.Length + 10];
            int n = await c.ReceiveAllAsync(buf);
            received = buf[..n];
            c.Close();
        }
        async Task Client()
        {
            var s = a.Tcp.Open();
            await s.ConnectAsync(B, 5001);
            await s.SendAsync(data);
            s.Shutdown(ShutdownHow.Write);
            var tmp = new byte[16];
            Assert.Equal(0, await s.ReceiveAsync(tmp));
            s.Close();
        }
        var t = TestNetworks.OnLoop(w, () => Task.WhenAll(Server(), Client()));
        w.Scheduler.Run(t, SimTime.Zero + SimDuration.FromSeconds(60));
        Assert.True(t.IsCompletedSuccessfully, t.Exception?.ToString());
        Assert.Equal(data, received);
    }

    [Fact]
    public void Transfer_ThroughAFullLocalQdisc_IsNotLoss_TheSegmentWaitsAndCwndIsReduced()
    {
        // A one-packet txqueuelen at 10 Mbit/s: TSQ lets two segments wait below TCP, so the sender's own qdisc
        // overflows. Linux sees NET_XMIT_DROP in __tcp_transmit_skb: tcp_enter_cwr(), and tcp_write_xmit() keeps
        // the segment unsent; nothing is lost.
        var (w, a, b, _) = TestNetworks.TwoHostsOnSwitch(new LinkParameters { RateBitsPerSecond = 10_000_000, Delay = SimDuration.FromMilliseconds(5) });
        var dev = a.FindDevice("eth0")!;
        dev.TxQueueLen = 1;
        var data = RandomNumberGenerator.GetBytes(1 << 20);
        var listener = b.Tcp.Open();
        Assert.Equal(Errno.None, listener.Bind(Ipv4Address.Any, 5001));
        Assert.Equal(Errno.None, listener.Listen(128));
        byte[]? received = null;
        async Task Server()
        {
            var c = await listener.AcceptAsync();
            var buf = new byte[data.Length + 10];
            received = buf[..await c.ReceiveAllAsync(buf)];
            c.Close();
        }
        async Task Client()
        {
            var s = a.Tcp.Open();
            await s.ConnectAsync(B, 5001);
            await s.SendAsync(data);
            s.Close();
        }
        var t = TestNetworks.OnLoop(w, () => Task.WhenAll(Server(), Client()));
        w.Scheduler.Run(t, SimTime.Zero + SimDuration.FromSeconds(60));
        Assert.True(t.IsCompletedSuccessfully, t.Exception?.ToString());
        Assert.Equal(data, received);
        Assert.True(dev.Qdisc.Stats.Drops > 0, "the qdisc never overflowed");
        Assert.Equal(0, a.TcpStats[TcpMib.RetransSegs]);
        Assert.Equal(0, a.IpStats[IpMib.OutDiscards]); // TCP's drops are not IP discards (ip_queue_xmit)
    }
}

/// <summary>The Stream and IDuplexPipe views, driven by library code that awaits with ConfigureAwait(false).</summary>
public class TcpStreamTests
{
    [Fact]
    public void StreamReaderAndPipes_CarryALineProtocol_InVirtualTime()
    {
        var (w, a, b, _) = TestNetworks.TwoHostsOnSwitch(new LinkParameters { Delay = SimDuration.FromMilliseconds(1) });
        var listener = b.Tcp.Open();
        listener.Bind(Ipv4Address.Any, 7);
        listener.Listen(8);
        string? heard = null, reply = null;
        SimTime repliedAt = default;
        int loopThread = Environment.CurrentManagedThreadId, wrongThread = 0;
        async Task Server()
        {
            await using var s = new TcpStream(await listener.AcceptAsync());
            var pipe = s.AsDuplexPipe();
            while (true)
            {
                var r = await pipe.Input.ReadAsync();
                if (Environment.CurrentManagedThreadId != loopThread) wrongThread++;
                if (r.IsCompleted)
                {
                    heard = System.Text.Encoding.ASCII.GetString(System.Buffers.BuffersExtensions.ToArray(r.Buffer));
                    pipe.Input.AdvanceTo(r.Buffer.End);
                    break;
                }
                pipe.Input.AdvanceTo(r.Buffer.Start, r.Buffer.End);
            }
            await pipe.Output.WriteAsync("bye\n"u8.ToArray());
            await pipe.Output.CompleteAsync();
        }
        async Task Client()
        {
            var c = a.Tcp.Open();
            await c.ConnectAsync(Ipv4Address.Parse("10.0.0.2"), 7);
            await using var s = new TcpStream(c);
            await s.WriteAsync("hello\nworld\n"u8.ToArray());
            c.Shutdown(ShutdownHow.Write);
            using var reader = new StreamReader(s);
            reply = await reader.ReadToEndAsync(); // awaits with ConfigureAwait(false) inside
            if (Environment.CurrentManagedThreadId != loopThread) wrongThread++;
            repliedAt = w.Now;
        }
        var t = TestNetworks.OnLoop(w, () => Task.WhenAll(Server(), Client()));
        w.Scheduler.Run(t, SimTime.Zero + SimDuration.FromSeconds(10));
        Assert.True(t.IsCompletedSuccessfully, t.Exception?.ToString());
        Assert.Equal("hello\nworld\n", heard);
        Assert.Equal("bye\n", reply);
        Assert.Equal(0, wrongThread);
        // One way is two 1 ms links through the switch: ARP (4 ms), SYN and SYN-ACK (4 ms), the request and its
        // FIN (2 ms), the reply and its FIN (2 ms) = 12 ms plus serialisation at 1 Gbit/s, all in virtual time.
        Assert.InRange(repliedAt.Nanoseconds, 12_000_000, 12_100_000);
    }

    [Fact]
    public void StreamRead_AfterAReset_ThrowsIOExceptionWithEconnreset()
    {
        var (w, a, b, _) = TestNetworks.TwoHostsOnSwitch();
        var listener = b.Tcp.Open();
        listener.Bind(Ipv4Address.Any, 7);
        listener.Listen(8);
        Exception? caught = null;
        async Task Server()
        {
            var c = await listener.AcceptAsync();
            c.Linger = 0;
            c.Close(); // SO_LINGER 0: RST
        }
        async Task Client()
        {
            var c = a.Tcp.Open();
            await c.ConnectAsync(Ipv4Address.Parse("10.0.0.2"), 7);
            await using var s = new TcpStream(c);
            try { _ = await s.ReadAsync(new byte[10]); }
            catch (IOException e) { caught = e; }
        }
        var t = TestNetworks.OnLoop(w, () => Task.WhenAll(Server(), Client()));
        w.Scheduler.Run(t, SimTime.Zero + SimDuration.FromSeconds(10));
        Assert.Equal(Errno.ECONNRESET, Assert.IsType<NetLabSocketException>(Assert.IsType<IOException>(caught).InnerException).Errno);
    }
}
