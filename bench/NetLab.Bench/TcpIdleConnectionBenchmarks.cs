using BenchmarkDotNet.Attributes;
using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Net;
using NetLab.Stack;
using NetLab.Stack.Tcp;

namespace NetLab.Bench;

/// <summary>
/// Memory and time to hold idle TCP connections: one operation builds a world and establishes 10,000
/// connections (20,000 sockets) from four client addresses to one listener. The memory diagnoser's
/// "Allocated" divided by 20,000 bounds the memory per idle socket (everything allocated stays alive:
/// sockets, hash entries, timers); the target is 2 KB.
/// </summary>
[MemoryDiagnoser]
public class TcpIdleConnectionBenchmarks
{
    private const int Connections = 10_000;

    [Benchmark]
    public int Establish10kIdleConnections()
    {
        var w = new World(1);
        var a = w.AddHost("a");
        var b = w.AddHost("b");
        var da = a.AddEthernet("eth0");
        var db = b.AddEthernet("eth0");
        da.SetUp(true);
        db.SetUp(true);
        for (int i = 0; i < 4; i++) a.Ipv4.AddAddress(da, Ipv4Prefix.Parse($"10.0.{i}.1/16"));
        b.Ipv4.AddAddress(db, Ipv4Prefix.Parse("10.0.100.2/16"));
        w.Connect(da, db, new LinkParameters { RateBitsPerSecond = 10_000_000_000 });
        var listener = b.Tcp.Open();
        listener.Bind(Ipv4Address.Any, 5001);
        listener.Listen(Connections);
        b.Sysctl.Set("net.core.somaxconn", Connections.ToString(System.Globalization.CultureInfo.InvariantCulture));
        listener.Listen(Connections);
        var server = Ipv4Address.Parse("10.0.100.2");
        var sources = Enumerable.Range(0, 4).Select(i => Ipv4Address.Parse($"10.0.{i}.1")).ToArray();
        var sockets = new List<TcpSocket>(2 * Connections);
        for (int i = 0; i < Connections; i++)
        {
            var s = a.Tcp.Open();
            s.Bind(sources[i % 4], 0);
            s.Connect(server, 5001);
            sockets.Add(s);
            if (i % 100 == 99) w.RunFor(SimDuration.FromMilliseconds(1));
        }
        w.RunFor(SimDuration.FromSeconds(1));
        while (listener.TryAccept(out var c) == Errno.None) sockets.Add(c!);
        return sockets.Count(s => s.State == TcpState.Established);
    }
}
