using System.Security.Cryptography;
using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Net;
using NetLab.Stack.Tcp;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>
/// Randomised transfers between two NetLab hosts over impaired links: each seed picks a size (1-10 MB), a rate,
/// a delay, loss up to 10 %, reordering, duplication and corruption (on both directions, so on data and ACKs). Every
/// transfer must arrive byte-exact — or fail with ETIMEDOUT on both ends — and both sockets must close cleanly
/// with every packet back in the pool. NETLAB_CHAOS_SEEDS sets how many seeds run (20 by default; the acceptance
/// run uses 200); NETLAB_CHAOS_SEED=n reruns one.
/// </summary>
public class TcpChaosTests
{
    public static TheoryData<int> Seeds()
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("NETLAB_CHAOS_SEED"), out var one)) return new TheoryData<int>(one);
        int n = int.TryParse(Environment.GetEnvironmentVariable("NETLAB_CHAOS_SEEDS"), out var v) && v > 0 ? v : 20;
        var data = new TheoryData<int>();
        for (int i = 1; i <= n; i++) data.Add(i);
        return data;
    }

    internal sealed record ChaosCase(int Bytes, LinkParameters Link)
    {
        public override string ToString() =>
            $"{Bytes} B, {Link.RateBitsPerSecond / 1e6} Mbit/s, delay {Link.Delay}, loss {Link.Loss:P1}, reorder {Link.Reorder:P1}, " +
            $"dup {Link.Duplicate:P1}, corrupt {Link.Corrupt:P1}";
    }

    internal static ChaosCase CaseFor(int seed)
    {
        var r = new Random(seed); // test-side choice of the scenario; the world itself uses its seeded streams
        long[] rates = [10_000_000, 100_000_000, 1_000_000_000];
        var link = new LinkParameters
        {
            RateBitsPerSecond = rates[r.Next(rates.Length)],
            Delay = SimDuration.FromMicroseconds(100 + r.Next(10_000)),
            Loss = r.NextDouble() * 0.10,
            Reorder = r.Next(2) == 0 ? 0 : r.NextDouble() * 0.05,
            ReorderDelay = SimDuration.FromMicroseconds(100 + r.Next(5_000)),
            Duplicate = r.Next(3) == 0 ? r.NextDouble() * 0.02 : 0,
            Corrupt = r.Next(3) == 0 ? r.NextDouble() * 0.02 : 0,
        };
        return new ChaosCase(1_000_000 + r.Next(9_000_001), link);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Transfer_ArrivesByteExact_OrTimesOut_AndLeavesNoPacketBehind(int seed)
    {
        var c = CaseFor(seed);
        // a — switch — b. Corruption only on a's cable: two single-bit flips in one frame (one per hop) can cancel
        // in the 16-bit Internet checksum — real links drop such frames by their FCS.
        var w = new World((ulong)seed);
        var a = w.AddHost("a");
        var b = w.AddHost("b");
        var sw = w.AddSwitch("sw");
        w.Connect(TestNetworks.AddInterface(a, "eth0", "10.0.0.1/24"), sw.AddPort(), c.Link);
        w.Connect(TestNetworks.AddInterface(b, "eth0", "10.0.0.2/24"), sw.AddPort(), c.Link with { Corrupt = 0 });
        // ARP is not under test: static neighbours, so a corrupted ARP reply cannot stall the connection.
        var ea = a.FindDevice("eth0")!;
        var eb = b.FindDevice("eth0")!;
        a.Neighbours.SetStatic(ea, Ipv4Address.Parse("10.0.0.2"), eb.Mac);
        b.Neighbours.SetStatic(eb, Ipv4Address.Parse("10.0.0.1"), ea.Mac);
        var data = new byte[c.Bytes];
        new Random(seed).NextBytes(data);
        byte[] expectedHash = SHA256.HashData(data);
        var listener = b.Tcp.Open();
        Assert.Equal(Errno.None, listener.Bind(Ipv4Address.Any, 5001));
        Assert.Equal(Errno.None, listener.Listen(8));
        byte[]? receivedHash = null;
        long receivedBytes = 0;
        Errno? serverError = null, clientError = null;
        async Task Server()
        {
            using var s = await listener.AcceptAsync();
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buf = new byte[64 * 1024];
            try
            {
                int n;
                while ((n = await s.ReceiveAsync(buf)) > 0)
                {
                    sha.AppendData(buf, 0, n);
                    receivedBytes += n;
                }
                receivedHash = sha.GetHashAndReset();
            }
            catch (NetLabSocketException e) { serverError = e.Errno; }
        }
        async Task Client()
        {
            using var s = a.Tcp.Open();
            try
            {
                await s.ConnectAsync(Ipv4Address.Parse("10.0.0.2"), 5001);
                await s.SendAsync(data);
                s.Shutdown(ShutdownHow.Write);
                Assert.Equal(0, await s.ReceiveAsync(new byte[1]));
            }
            catch (NetLabSocketException e) { clientError = e.Errno; }
        }
        var t = TestNetworks.OnLoop(w, () => Task.WhenAll(Server(), Client()));
        try { w.Scheduler.Run(t, SimTime.Zero + SimDuration.FromSeconds(24 * 3600)); }
        catch (InvalidOperationException e)
        {
            throw new Exception($"seed {seed} ({c}): {e.Message}\n" + string.Join("\n",
                a.Tcp.Entries().Concat(b.Tcp.Entries()).Select(x => x.ToString())) + $"\nreceived {receivedBytes}");
        }
        Assert.True(t.IsCompletedSuccessfully, $"seed {seed} ({c}): {t.Exception?.ToString() ?? "not finished in a day"}");
        if (serverError is null && clientError is null)
        {
            Assert.True(receivedBytes == c.Bytes, $"seed {seed} ({c}): {receivedBytes} of {c.Bytes} bytes");
            Assert.True(receivedHash!.AsSpan().SequenceEqual(expectedHash), $"seed {seed} ({c}): data differs");
        }
        else
        {
            Assert.True(serverError is null or Errno.ETIMEDOUT && clientError is null or Errno.ETIMEDOUT,
                $"seed {seed} ({c}): server {serverError}, client {clientError}");
        }
        listener.Dispose();
        // FINs (and their retransmissions), then TIME_WAIT.
        w.RunFor(SimDuration.FromSeconds(600));
        Assert.True(w.Pool.Outstanding == 0, $"seed {seed} ({c}): {w.Pool.Outstanding} packets outstanding");
    }
}
