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
}
