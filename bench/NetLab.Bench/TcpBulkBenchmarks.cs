using BenchmarkDotNet.Attributes;
using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Net;
using NetLab.Stack;
using NetLab.Stack.Tcp;

namespace NetLab.Bench;

/// <summary>
/// A bulk TCP transfer between two hosts over one virtual link (10 ms one way), loss free. One
/// operation simulates 100 ms of the transfer in steady state, so "simulated seconds per wall second"
/// is 0.1 s / (time per operation). The sender's tcp_wmem max is raised to 32 MB so 10 Gbit/s fills. The memory diagnoser shows allocations in steady state.
/// </summary>
[MemoryDiagnoser]
public class TcpBulkBenchmarks
{
    [Params(1_000_000_000L, 10_000_000_000L)]
    public long RateBitsPerSecond;

    private World _world = null!;
    private TcpSocket _sender = null!;
    private TcpSocket _receiver = null!;
    private readonly byte[] _chunk = new byte[1 << 20];
    private readonly byte[] _sink = new byte[1 << 20];

    [GlobalSetup]
    public void Setup()
    {
        _world = new World(1);
        var a = _world.AddHost("a");
        var b = _world.AddHost("b");
        var da = a.AddEthernet("eth0");
        var db = b.AddEthernet("eth0");
        da.SetUp(true);
        db.SetUp(true);
        a.Ipv4.AddAddress(da, Ipv4Prefix.Parse("10.0.0.1/24"));
        b.Ipv4.AddAddress(db, Ipv4Prefix.Parse("10.0.0.2/24"));
        da.TxQueueLen = 10_000;
        // A send buffer that covers the 10 Gbit/s path's bandwidth-delay product (25 MB), as one tunes Linux for it.
        a.Sysctl.Set("net.ipv4.tcp_wmem", "4096 16384 33554432");
        _world.Connect(da, db, new LinkParameters { RateBitsPerSecond = RateBitsPerSecond, Delay = SimDuration.FromMilliseconds(10) });
        var listener = b.Tcp.Open();
        listener.Bind(Ipv4Address.Any, 5001);
        listener.Listen(16);
        _sender = a.Tcp.Open();
        _sender.Connect(Ipv4Address.Parse("10.0.0.2"), 5001);
        _world.RunFor(SimDuration.FromMilliseconds(200));
        listener.TryAccept(out var r);
        _receiver = r!;
        // Keep the sender's buffer full and the receiver's empty from event callbacks, as an application would.
        _sender.Changed += Fill;
        _receiver.Changed += Drain;
        Fill();
        // Warm up past slow start.
        _world.RunFor(SimDuration.FromSeconds(3));
    }

    private void Fill()
    {
        while (_sender.TrySend(_chunk, out int n) == Errno.None && n > 0) { }
    }

    private void Drain()
    {
        while (_receiver.TryReceive(_sink, out int n) == Errno.None && n > 0) { }
    }

    [Benchmark]
    public long Simulate100Ms()
    {
        _world.RunFor(SimDuration.FromMilliseconds(100));
        return _receiver.GetInfo().BytesReceived;
    }
}
