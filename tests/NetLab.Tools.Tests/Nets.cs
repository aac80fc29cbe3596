using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Net;
using NetLab.Stack;
using NetLab.Stack.Link;

namespace NetLab.Tools.Tests;

/// <summary>Topologies and a command runner for tool tests.</summary>
internal static class Nets
{
    /// <summary>100 Mbit/s with 1 ms of propagation delay: serialisation is visible in RTTs.</summary>
    public static readonly LinkParameters Lan = new() { RateBitsPerSecond = 100_000_000, Delay = SimDuration.FromMilliseconds(1) };

    public static EthernetDevice AddInterface(Host h, string dev, string cidr)
    {
        var d = h.AddEthernet(dev);
        d.SetUp(true);
        h.Ipv4.AddAddress(d, Ipv4Prefix.Parse(cidr));
        return d;
    }

    /// <summary>a (10.0.1.2) — r — b (10.0.2.2); r is 10.0.1.1 and 10.0.2.1 and forwards.</summary>
    public static (World W, Host A, Host R, Host B) Routed(LinkParameters? left = null, LinkParameters? right = null)
    {
        var w = new World();
        var a = w.AddHost("a");
        var r = w.AddHost("r");
        var b = w.AddHost("b");
        r.Sysctl.Set("net.ipv4.ip_forward", "1");
        w.Connect(AddInterface(a, "eth0", "10.0.1.2/24"), AddInterface(r, "eth0", "10.0.1.1/24"), left ?? Lan);
        w.Connect(AddInterface(r, "eth1", "10.0.2.1/24"), AddInterface(b, "eth0", "10.0.2.2/24"), right ?? Lan);
        a.Ipv4.AddRoute(Ipv4Prefix.Parse("0.0.0.0/0"), Ipv4Address.Parse("10.0.1.1"), null);
        b.Ipv4.AddRoute(Ipv4Prefix.Parse("0.0.0.0/0"), Ipv4Address.Parse("10.0.2.1"), null);
        return (w, a, r, b);
    }

    /// <summary>a (10.0.1.2) — r1 — r2 — b (10.0.3.2): r1 is 10.0.1.1/10.0.2.1, r2 is 10.0.2.2/10.0.3.1.</summary>
    public static (World W, Host A, Host R1, Host R2, Host B) TwoRouters(LinkParameters? p = null, LinkParameters? middle = null)
    {
        var w = new World();
        var a = w.AddHost("a");
        var r1 = w.AddHost("r1");
        var r2 = w.AddHost("r2");
        var b = w.AddHost("b");
        r1.Sysctl.Set("net.ipv4.ip_forward", "1");
        r2.Sysctl.Set("net.ipv4.ip_forward", "1");
        w.Connect(AddInterface(a, "eth0", "10.0.1.2/24"), AddInterface(r1, "eth0", "10.0.1.1/24"), p ?? Lan);
        w.Connect(AddInterface(r1, "eth1", "10.0.2.1/24"), AddInterface(r2, "eth0", "10.0.2.2/24"), middle ?? p ?? Lan);
        w.Connect(AddInterface(r2, "eth1", "10.0.3.1/24"), AddInterface(b, "eth0", "10.0.3.2/24"), p ?? Lan);
        a.Ipv4.AddRoute(Ipv4Prefix.Parse("0.0.0.0/0"), Ipv4Address.Parse("10.0.1.1"), null);
        r1.Ipv4.AddRoute(Ipv4Prefix.Parse("10.0.3.0/24"), Ipv4Address.Parse("10.0.2.2"), null);
        r2.Ipv4.AddRoute(Ipv4Prefix.Parse("10.0.1.0/24"), Ipv4Address.Parse("10.0.2.1"), null);
        b.Ipv4.AddRoute(Ipv4Prefix.Parse("0.0.0.0/0"), Ipv4Address.Parse("10.0.3.1"), null);
        return (w, a, r1, r2, b);
    }

    /// <summary>a (10.0.0.1) and b (10.0.0.2) on one switch.</summary>
    public static (World W, Host A, Host B) Lan2()
    {
        var w = new World();
        var a = w.AddHost("a");
        var b = w.AddHost("b");
        var sw = w.AddSwitch("sw");
        w.Connect(AddInterface(a, "eth0", "10.0.0.1/24"), sw.AddPort(), Lan);
        w.Connect(AddInterface(b, "eth0", "10.0.0.2/24"), sw.AddPort(), Lan);
        return (w, a, b);
    }

    /// <summary>Runs a command to completion in virtual time.</summary>
    public static (int Status, CapturingOutput Out) Run(World w, Host h, string commandLine, CancellationToken ct = default)
    {
        var output = new CapturingOutput(w.Scheduler);
        int status = w.Scheduler.Run(ToolRunner.RunAsync(h, commandLine, output, ct));
        return (status, output);
    }

    /// <summary>Starts a long-running tool (a server) on <paramref name="h"/> and lets it come up for 10 ms.</summary>
    public static (Task<int> Task, CapturingOutput Out, CancellationTokenSource Stop) Start(World w, Host h, string cmd)
    {
        var output = new CapturingOutput(w.Scheduler);
        var stop = new CancellationTokenSource();
        var task = ToolRunner.RunAsync(h, cmd, output, stop.Token);
        w.RunFor(SimDuration.FromMilliseconds(10));
        return (task, output, stop);
    }

    /// <summary>Serialisation of a frame of <paramref name="frameBytes"/> on <see cref="Lan"/> plus its delay.</summary>
    public static long HopNs(int frameBytes) => Channel.SerializationNs(frameBytes, Lan.RateBitsPerSecond) + Lan.Delay.Nanoseconds;
}
