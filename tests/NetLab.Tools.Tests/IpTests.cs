using NetLab.Core.Time;
using NetLab.Stack;

namespace NetLab.Tools.Tests;

public class IpTests
{
    private static string Mac(Host h, string dev = "eth0") => h.FindDevice(dev)!.Mac.ToString();

    [Fact]
    public void IpAddr_ShowsLinksAndAddressesAsIproute2()
    {
        var (w, a, _, _) = Nets.Routed();
        var (status, o) = Nets.Run(w, a, "ip addr");
        Assert.Equal($"""
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
                inet 127.0.0.1/8 scope host lo
                   valid_lft forever preferred_lft forever
            2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP group default qlen 1000
                link/ether {Mac(a)} brd ff:ff:ff:ff:ff:ff
                inet 10.0.1.2/24 brd 10.0.1.255 scope global eth0
                   valid_lft forever preferred_lft forever

            """, o.Text);
        Assert.Equal(0, status);
        // A family filter leaves out the link-layer line (print_linkinfo()).
        Assert.Equal([
            "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP group default qlen 1000",
            "    inet 10.0.1.2/24 brd 10.0.1.255 scope global eth0",
            "       valid_lft forever preferred_lft forever"], Nets.Run(w, a, "ip -4 addr show dev eth0").Out.Lines);

        // Without brd the address has no broadcast; a second address in the subnet is secondary.
        Assert.Equal(0, Nets.Run(w, a, "ip addr add 10.0.1.3/24 dev eth0").Status);
        Assert.Equal(0, Nets.Run(w, a, "ip address add 192.168.5.1/24 brd + dev eth0").Status);
        var eth0 = Nets.Run(w, a, "ip a show dev eth0").Out.Lines;
        Assert.Equal([
            "    inet 10.0.1.2/24 brd 10.0.1.255 scope global eth0",
            "    inet 10.0.1.3/24 scope global secondary eth0",
            "    inet 192.168.5.1/24 brd 192.168.5.255 scope global eth0"], eth0.Where(l => l.StartsWith("    inet", StringComparison.Ordinal)));
        Assert.Equal((2, "Error: ipv4: Address already assigned."), Err(Nets.Run(w, a, "ip addr add 10.0.1.3/24 dev eth0")));
        Assert.Equal(0, Nets.Run(w, a, "ip addr del 10.0.1.3/24 dev eth0").Status);
        Assert.Equal((2, "Error: ipv4: Address not found."), Err(Nets.Run(w, a, "ip addr del 10.0.1.3/24 dev eth0")));
        Assert.Equal((1, "Device \"eth9\" does not exist."), Err(Nets.Run(w, a, "ip addr show eth9")));
        Assert.Equal((1, "Cannot find device \"eth9\""), Err(Nets.Run(w, a, "ip addr add 10.1.1.1/24 dev eth9")));
        Assert.Equal((1, "Error: any valid prefix is expected rather than \"10.1.x\"."), Err(Nets.Run(w, a, "ip addr add 10.1.x dev eth0")));
        Assert.Equal((1, "Not enough information: \"dev\" argument is required."), Err(Nets.Run(w, a, "ip addr add 10.1.1.1/24")));
        Assert.Equal((2, "RTNETLINK answers: Operation not supported"), Err(Nets.Run(w, a, "ip addr add dev eth0")));
        // get_addr_ipv4(): missing parts are zero, and parts may be hex or octal.
        Assert.Equal(0, Nets.Run(w, a, "ip addr add 10.1.1 dev eth0").Status);
        Assert.Equal(0, Nets.Run(w, a, "ip addr add 0x0a.2/16 dev eth0").Status);
        Assert.Equal([
            "    inet 10.1.1.0/32 scope global eth0",
            "    inet 10.2.0.0/16 scope global eth0"], Nets.Run(w, a, "ip addr show eth0").Out.Lines.Where(l => l.StartsWith("    inet 10.1.1.0", StringComparison.Ordinal) || l.StartsWith("    inet 10.2.", StringComparison.Ordinal)));
    }

    [Fact]
    public void IpLink_ShowsStateAndQdisc_AndSetChangesThem()
    {
        var (w, a, _, _) = Nets.Routed();
        var eth1 = a.AddEthernet("eth1"); // no cable
        Assert.Equal([
            "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP mode DEFAULT group default qlen 1000",
            $"    link/ether {Mac(a)} brd ff:ff:ff:ff:ff:ff",
            "3: eth1: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000",
            $"    link/ether {Mac(a, "eth1")} brd ff:ff:ff:ff:ff:ff"], Nets.Run(w, a, "ip link").Out.Lines.Skip(2));
        Assert.Equal(0, Nets.Run(w, a, "ip link set dev eth1 up").Status);
        Assert.Equal(0, Nets.Run(w, a, "ip link set eth0 mtu 1400").Status);
        Assert.Equal("3: eth1: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc pfifo_fast state DOWN mode DEFAULT group default qlen 1000",
            Nets.Run(w, a, "ip link show eth1").Out.Lines[0]);
        Assert.Equal(1400, a.FindDevice("eth0")!.Mtu);
        Assert.True(eth1.IsUp);
        Assert.Equal((2, "Error: mtu greater than device maximum."), Err(Nets.Run(w, a, "ip link set eth0 mtu 9001")));
        Assert.Equal((2, "Error: mtu less than device minimum."), Err(Nets.Run(w, a, "ip link set eth0 mtu 67")));
        // invarg() messages end in a newline of their own: a blank line follows.
        Assert.Equal(["Error: argument \"abc\" is wrong: Invalid \"mtu\" value", ""], Nets.Run(w, a, "ip link set eth0 mtu abc").Out.Errors);
        Assert.Equal((1, "Cannot find device \"eth7\""), Err(Nets.Run(w, a, "ip link set eth7 down")));
    }

    [Fact]
    public void IpStatsLink_PrintsCountersInSizedColumns()
    {
        var (w, a, _, _) = Nets.Routed();
        Nets.Run(w, a, "ping -c 1 10.0.2.2");
        var lines = Nets.Run(w, a, "ip -s link show eth0").Out.Lines;
        // ARP request (42) + echo request (98) out, ARP reply (60 with padding) + echo reply (98) in.
        Assert.Equal([
            "    RX:  bytes packets errors dropped  missed   mcast           ",
            "           158       2      0       0       0       0 ",
            "    TX:  bytes packets errors dropped carrier collsns           ",
            "           140       2      0       0       0       0 "], lines.Skip(2));
    }

    [Fact]
    public void IpRoute_ShowsAddsDeletesAndGets()
    {
        var (w, a, _, _) = Nets.Routed();
        Assert.Equal("""
            default via 10.0.1.1 dev eth0 
            10.0.1.0/24 dev eth0 proto kernel scope link src 10.0.1.2 

            """, Nets.Run(w, a, "ip r").Out.Text);
        Assert.Equal("""
            local 10.0.1.2 dev eth0 proto kernel scope host src 10.0.1.2 
            broadcast 10.0.1.255 dev eth0 proto kernel scope link src 10.0.1.2 
            local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1 
            local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1 
            broadcast 127.255.255.255 dev lo proto kernel scope link src 127.0.0.1 

            """, Nets.Run(w, a, "ip route show table local").Out.Text);

        Assert.Equal(0, Nets.Run(w, a, "ip route add 10.9.0.0/16 via 10.0.1.1 metric 5 mtu 1400").Status);
        Assert.Equal(0, Nets.Run(w, a, "ip route add 10.10.10.0/24 dev eth0").Status);
        Assert.Equal(0, Nets.Run(w, a, "ip route add unreachable 10.7.0.0/16").Status);
        Assert.Equal((2, "RTNETLINK answers: File exists"), Err(Nets.Run(w, a, "ip route add 10.9.0.0/16 via 10.0.1.1 metric 5")));
        Assert.Equal((2, "Error: Nexthop has invalid gateway."), Err(Nets.Run(w, a, "ip route add 10.8.0.0/16 via 10.0.2.1")));
        Assert.Equal("""
            default via 10.0.1.1 dev eth0 
            10.0.1.0/24 dev eth0 proto kernel scope link src 10.0.1.2 
            unreachable 10.7.0.0/16 
            10.9.0.0/16 via 10.0.1.1 dev eth0 metric 5 mtu 1400 
            10.10.10.0/24 dev eth0 scope link 

            """, Nets.Run(w, a, "ip route show").Out.Text);

        Assert.Equal("""
            10.0.2.2 via 10.0.1.1 dev eth0 src 10.0.1.2 uid 0 
                cache 

            """, Nets.Run(w, a, "ip route get 10.0.2.2").Out.Text);
        Assert.Equal("""
            local 10.0.1.2 dev lo src 10.0.1.2 uid 0 
                cache <local> 

            """, Nets.Run(w, a, "ip route get 10.0.1.2").Out.Text);
        Assert.Equal("broadcast 10.0.1.255 dev eth0 src 10.0.1.2 uid 0 ", Nets.Run(w, a, "ip route get 10.0.1.255").Out.Lines[0]);
        Assert.Equal("""
            10.0.1.7 dev eth0 src 10.0.1.2 uid 0 
                cache 

            """, Nets.Run(w, a, "ip route get 10.0.1.7").Out.Text);
        Assert.Equal((2, "RTNETLINK answers: No route to host"), Err(Nets.Run(w, a, "ip route get 10.7.1.1")));

        Assert.Equal(0, Nets.Run(w, a, "ip route del 10.9.0.0/16").Status);
        Assert.Equal((2, "RTNETLINK answers: No such process"), Err(Nets.Run(w, a, "ip route del 10.9.0.0/16")));
        Assert.Equal(0, Nets.Run(w, a, "ip route del default").Status);
        Assert.Equal((2, "RTNETLINK answers: Network is unreachable"), Err(Nets.Run(w, a, "ip route get 10.0.2.2")));
    }

    [Fact]
    public void IpRouteGet_ShowsALearnedPathMtuAndItsExpiry()
    {
        var (w, a, _, _) = Nets.Routed(right: Nets.Lan with { Mtu = 1400 });
        Nets.Run(w, a, "ping -c 1 -M do -s 1472 10.0.2.2");
        // The exception was learned when the error came back and lives net.ipv4.route.mtu_expires
        // = 600 s; 1.5 s later 598.5 s are left, and iproute2 prints whole seconds.
        w.RunFor(SimDuration.FromSeconds(1.5));
        Assert.Equal("""
            10.0.2.2 via 10.0.1.1 dev eth0 src 10.0.1.2 uid 0 
                cache expires 598sec mtu 1400 

            """, Nets.Run(w, a, "ip route get 10.0.2.2").Out.Text);
    }

    [Fact]
    public void IpNeigh_FollowsTheNudStates()
    {
        var (w, a, b) = Nets.Lan2();
        Nets.Run(w, a, "ping -c 1 10.0.0.2");
        // a resolved b: REACHABLE. b learned a from the ARP request (STALE), then sent its reply: DELAY.
        Assert.Equal($"10.0.0.2 dev eth0 lladdr {Mac(b)} REACHABLE ", Nets.Run(w, a, "ip neigh").Out.Lines.Single());
        Assert.Equal($"10.0.0.1 dev eth0 lladdr {Mac(a)} DELAY ", Nets.Run(w, b, "ip neigh show").Out.Lines.Single());
        // delay_first_probe_time (5 s) after the reply, b probes a by unicast ARP: PROBE until the answer.
        long delayed = 4 * Nets.HopNs(60) + 2 * Nets.HopNs(98) + 5_000_000_000;
        w.RunUntil(new SimTime(delayed + 1_000_000));
        Assert.Equal($"10.0.0.1 lladdr {Mac(a)} PROBE ", Nets.Run(w, b, "ip neigh show dev eth0").Out.Lines.Single());
        w.RunUntil(new SimTime(delayed + 10_000_000));
        Assert.Equal($"10.0.0.1 dev eth0 lladdr {Mac(a)} REACHABLE ", Nets.Run(w, b, "ip n").Out.Lines.Single());
        // reachable_time is random in [15 s, 45 s): after it, unused, a's entry is STALE.
        w.RunFor(SimDuration.FromSeconds(45));
        Assert.Equal($"10.0.0.2 dev eth0 lladdr {Mac(b)} STALE ", Nets.Run(w, a, "ip neigh").Out.Lines.Single());
        Nets.Run(w, a, "ping -c 1 10.0.0.2");
        Assert.Equal($"10.0.0.2 dev eth0 lladdr {Mac(b)} DELAY ", Nets.Run(w, a, "ip neigh").Out.Lines.Single());

        // An address nobody has: INCOMPLETE while ARP asks, FAILED after three tries.
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(500), w.Scheduler.TimeProvider);
        Nets.Run(w, a, "ping 10.0.0.99", stop.Token);
        Assert.Equal("10.0.0.99 dev eth0 INCOMPLETE ", Nets.Run(w, a, "ip neigh").Out.Lines[1]);
        w.RunFor(SimDuration.FromSeconds(3));
        Assert.Equal("10.0.0.99 dev eth0 FAILED ", Nets.Run(w, a, "ip neigh").Out.Lines[1]);
    }

    [Fact]
    public void IpNeigh_AddReplaceDeleteFlush()
    {
        var (w, a, _) = Nets.Lan2();
        Nets.Run(w, a, "ping -c 1 10.0.0.2");
        Assert.Equal(0, Nets.Run(w, a, "ip neigh add 10.0.0.50 lladdr 02:00:00:00:00:50 dev eth0").Status);
        Assert.Equal((2, "RTNETLINK answers: File exists"), Err(Nets.Run(w, a, "ip neigh add 10.0.0.50 lladdr 02:00:00:00:00:51 dev eth0")));
        Assert.Equal(0, Nets.Run(w, a, "ip neigh replace 10.0.0.51 lladdr 02:00:00:00:00:51 dev eth0 nud stale").Status);
        Assert.Equal(0, Nets.Run(w, a, "ip neigh add 10.0.0.52 dev eth0 nud noarp").Status);
        var lines = Nets.Run(w, a, "ip neigh").Out.Lines;
        Assert.Equal(["10.0.0.50 dev eth0 lladdr 02:00:00:00:00:50 PERMANENT ", "10.0.0.51 dev eth0 lladdr 02:00:00:00:00:51 STALE "], lines.Skip(1));
        // [to] PREFIX filters; an address alone is a /32.
        Assert.Equal(["10.0.0.51 dev eth0 lladdr 02:00:00:00:00:51 STALE "], Nets.Run(w, a, "ip neigh show 10.0.0.51").Out.Lines);
        Assert.Equal(3, Nets.Run(w, a, "ip neigh show to 10.0.0.0/24").Out.Lines.Count);
        Assert.Empty(Nets.Run(w, a, "ip neigh show 10.0.1.0/24").Out.Lines);
        // flush keeps PERMANENT (and NOARP) entries.
        Assert.Equal(0, Nets.Run(w, a, "ip neigh flush dev eth0").Status);
        Assert.Equal(["10.0.0.50 dev eth0 lladdr 02:00:00:00:00:50 PERMANENT "], Nets.Run(w, a, "ip neigh").Out.Lines);
        Assert.Equal(0, Nets.Run(w, a, "ip neigh del 10.0.0.50 dev eth0").Status);
        Assert.Equal((2, "RTNETLINK answers: No such file or directory"), Err(Nets.Run(w, a, "ip neigh del 10.0.0.50 dev eth0")));
        Assert.Equal((1, "Flush requires arguments."), Err(Nets.Run(w, a, "ip neigh flush")));
        Assert.Equal((1, "Error: any valid prefix is expected rather than \"garbage\"."), Err(Nets.Run(w, a, "ip neigh show garbage")));
        Assert.Equal((255, "Device and destination are required arguments."), Err(Nets.Run(w, a, "ip neigh add 10.0.0.9 lladdr 02:00:00:00:00:09")));
        Assert.Equal((1, "Object \"nope\" is unknown, try \"ip help\"."), Err(Nets.Run(w, a, "ip nope")));
        var help = Nets.Run(w, a, "ip help");
        Assert.Equal((255, "Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }"), (help.Status, help.Out.Errors[0]));
    }

    private static (int, string) Err((int Status, CapturingOutput Out) run) => (run.Status, run.Out.Errors.Single());
}
