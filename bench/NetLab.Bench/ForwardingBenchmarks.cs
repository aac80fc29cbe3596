using BenchmarkDotNet.Attributes;
using NetLab.Core.Addressing;
using NetLab.Core.Packets;
using NetLab.Core.Time;
using NetLab.Net;
using NetLab.Stack;
using NetLab.Stack.IPv4;
using NetLab.Stack.Link;
using NetLab.Stack.Udp;

namespace NetLab.Bench;

/// <summary>
/// Packets per second through one router in virtual time: a UDP frame arrives on r:eth0, is
/// validated, routed, TTL-decremented, queued and serialised out of r:eth1 onto a 400 Gbit/s
/// link whose far end discards it. Measures the whole receive-forward-transmit path, two timer
/// events per packet, and (with the memory diagnoser) that it allocates nothing.
/// </summary>
[MemoryDiagnoser]
public class ForwardingBenchmarks
{
    [Params(64, 1500)]
    public int FrameBytes;

    private World _world = null!;
    private EthernetDevice _in = null!;
    private byte[] _frame = null!;

    private sealed class Sink : IWireEnd
    {
        public long Frames;
        public void OnFrameReceived(Packet frame) { Frames++; frame.Dispose(); }
        public void OnWireIdle() { }
        public void OnCarrierChanged(bool up) { }
        public void AttachWire(IWire wire, int mtu) { }
    }

    [GlobalSetup]
    public void Setup()
    {
        _world = new World(1);
        var r = _world.AddHost("r");
        r.Sysctl.Set("net.ipv4.ip_forward", "1");
        _in = r.AddEthernet("eth0");
        var outDev = r.AddEthernet("eth1");
        _in.SetUp(true);
        outDev.SetUp(true);
        r.Ipv4.AddAddress(_in, Ipv4Prefix.Parse("10.0.1.1/24"));
        r.Ipv4.AddAddress(outDev, Ipv4Prefix.Parse("10.0.2.1/24"));
        var fast = new LinkParameters { RateBitsPerSecond = 400_000_000_000 };
        _world.Connect(_in, new Sink(), fast);
        _world.Connect(outDev, new Sink(), fast);
        var next = MacAddress.Parse("02:00:00:00:02:02");
        r.Neighbours.SetStatic(outDev, Ipv4Address.Parse("10.0.2.2"), next);

        // Ethernet + IPv4 + UDP 10.0.1.2:4000 -> 10.0.2.2:5000, padded to FrameBytes.
        _frame = new byte[FrameBytes];
        new EthernetRepr(_in.Mac, MacAddress.Parse("02:00:00:00:01:02"), EtherType.Ipv4).Emit(_frame);
        int ipLength = FrameBytes - EthernetHeaderView.Length;
        var src = Ipv4Address.Parse("10.0.1.2");
        var dst = Ipv4Address.Parse("10.0.2.2");
        new UdpRepr(4000, 5000, ipLength - 28).Emit(_frame.AsSpan(EthernetHeaderView.Length + 20), src, dst);
        new Ipv4Repr(src, dst, IpProtocol.Udp, ipLength - 20, 64).Emit(_frame.AsSpan(EthernetHeaderView.Length));
    }

    [Benchmark(OperationsPerInvoke = 10_000)]
    public long Forward()
    {
        var pool = _world.Pool;
        var sched = _world.Scheduler;
        for (int i = 0; i < 10_000; i++)
        {
            var p = pool.Rent(PacketPool.DefaultHeadroom, _frame.Length);
            _frame.CopyTo(p.Data);
            _in.OnFrameReceived(p);
            sched.RunUntil(sched.Now + new SimDuration(100));
        }
        return sched.Dispatched;
    }
}
