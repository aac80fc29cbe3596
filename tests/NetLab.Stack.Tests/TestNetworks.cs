using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Net;
using NetLab.Stack;
using NetLab.Stack.Icmp;
using NetLab.Stack.IPv4;
using NetLab.Stack.Link;
using NetLab.Stack.Sockets;

namespace NetLab.Stack.Tests;

/// <summary>Small topologies for tests, built on a <see cref="World"/>.</summary>
internal static class TestNetworks
{
    public static EthernetDevice AddInterface(Host h, string dev, string cidr)
    {
        var d = h.AddEthernet(dev);
        d.SetUp(true);
        h.Ipv4.AddAddress(d, Ipv4Prefix.Parse(cidr));
        return d;
    }

    /// <summary>a (10.0.0.1) and b (10.0.0.2) on one switch, each link with <paramref name="p"/>.</summary>
    public static (World World, Host A, Host B, Switch Sw) TwoHostsOnSwitch(LinkParameters? p = null, ulong seed = 1)
    {
        var w = new World(seed);
        var a = w.AddHost("a");
        var b = w.AddHost("b");
        var sw = w.AddSwitch("sw");
        w.Connect(AddInterface(a, "eth0", "10.0.0.1/24"), sw.AddPort(), p);
        w.Connect(AddInterface(b, "eth0", "10.0.0.2/24"), sw.AddPort(), p);
        return (w, a, b, sw);
    }

    /// <summary>h1..hN (10.0.0.1..N/24) each cabled to one switch port.</summary>
    public static (World World, Switch Sw, Host[] Hosts) HostsOnSwitch(int count, LinkParameters? p = null)
    {
        var w = new World();
        var sw = w.AddSwitch("sw");
        var hosts = Enumerable.Range(1, count).Select(i =>
        {
            var h = w.AddHost($"h{i}");
            w.Connect(AddInterface(h, "eth0", $"10.0.0.{i}/24"), sw.AddPort(), p);
            return h;
        }).ToArray();
        return (w, sw, hosts);
    }

    /// <summary>a — r — b: 10.0.1.0/24 and 10.0.2.0/24 joined by router r (forwarding on).</summary>
    public static (World World, Host A, Host R, Host B) Routed(LinkParameters? left = null, LinkParameters? right = null, ulong seed = 1)
    {
        var w = new World(seed);
        var a = w.AddHost("a");
        var r = w.AddHost("r");
        var b = w.AddHost("b");
        r.Sysctl.Set("net.ipv4.ip_forward", "1");
        w.Connect(AddInterface(a, "eth0", "10.0.1.2/24"), AddInterface(r, "eth0", "10.0.1.1/24"), left);
        w.Connect(AddInterface(r, "eth1", "10.0.2.1/24"), AddInterface(b, "eth0", "10.0.2.2/24"), right);
        a.Ipv4.AddRoute(Ipv4Prefix.Parse("0.0.0.0/0"), Ipv4Address.Parse("10.0.1.1"), null);
        b.Ipv4.AddRoute(Ipv4Prefix.Parse("0.0.0.0/0"), Ipv4Address.Parse("10.0.2.1"), null);
        return (w, a, r, b);
    }

    /// <summary>Starts async code on the world's loop, so its awaits resume in virtual time.</summary>
    public static Task OnLoop(World w, Func<Task> start)
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(w.Scheduler.SynchronizationContext);
        try { return start(); }
        finally { SynchronizationContext.SetSynchronizationContext(previous); }
    }

    /// <summary>An ICMP echo request message with <paramref name="dataLength"/> bytes of pattern data.</summary>
    public static byte[] EchoRequest(ushort id, ushort seq, int dataLength)
    {
        var msg = new byte[IcmpHeaderView.Length + dataLength];
        for (int i = 0; i < dataLength; i++) msg[IcmpHeaderView.Length + i] = (byte)i;
        new IcmpRepr(IcmpType.EchoRequest, 0, ((uint)id << 16) | seq, dataLength).Emit(msg);
        return msg;
    }

    /// <summary>Sends one echo request from <paramref name="from"/> and returns the first ICMP datagram received within 10 s.</summary>
    public static (RawDatagram? Reply, SimDuration Rtt) Ping(World w, Host from, string to, int dataLength = 56, int ttl = -1, PmtuDisc pmtu = PmtuDisc.Want)
    {
        using var s = RawSocket.Open(from, IpProtocol.Icmp);
        s.Ttl = ttl;
        s.PmtuDisc = pmtu;
        var start = w.Now;
        var err = s.SendTo(EchoRequest(1234, 1, dataLength), Ipv4Address.Parse(to));
        Assert.Equal(Errno.None, err);
        var deadline = start + SimDuration.FromSeconds(10);
        while (w.Now < deadline)
        {
            if (s.TryReceive(out var d) && d!.Datagram[20] != IcmpType.EchoRequest) return (d, w.Now - start);
            if (!w.Scheduler.Step(deadline)) break;
        }
        return (null, w.Now - start);
    }
}
