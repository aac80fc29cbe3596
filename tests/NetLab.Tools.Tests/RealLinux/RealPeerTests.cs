namespace NetLab.Tools.Tests.RealLinux;

/// <summary>
/// The tools against real Linux: each test runs the same commands in Linux namespaces and in NetLab
/// (a — r — b, see <see cref="RealPeer"/>) and compares the outputs. Needs root; Linux's transcripts
/// are in Golden/.
/// </summary>
public class RealPeerTests
{
    [Fact]
    public void Ping_ThreeEchoesThroughTheRouter() => RealPeer.Compare(["ping -c 3 -i 0.2 10.77.2.2"]);

    [Fact]
    public void Ping_DontFragmentOver1400_FragNeededThenLocalError() => RealPeer.Compare(["ping -c 2 -i 0.2 -M do -s 1472 10.77.2.2"]);

    [Fact]
    public void Ping_Ttl1_TimeToLiveExceeded() => RealPeer.Compare(["ping -c 1 -t 1 10.77.2.2"]);

    /// <summary>ARP gives up after 3 × retrans_time (3 s), after ping's 1 s linger: nothing but the summary.</summary>
    [Fact]
    public void Ping_UnresolvedNeighbour_LingerEndsBeforeArpFails() => RealPeer.Compare([
        "ping -c 2 -i 0.2 -W 1 10.77.1.99",
        "ip neigh show 10.77.1.99",
        "arp -n 10.77.1.99"]);

    /// <summary>With retrans_time 100 ms ARP fails at 300 ms: both queued probes come back as host unreachable.</summary>
    [Fact]
    public void Ping_UnresolvedNeighbour_DestinationHostUnreachable() => RealPeer.Compare([
        "sysctl -w net.ipv4.neigh.eth0.retrans_time_ms=100",
        "ping -c 2 -i 0.2 -W 1 10.77.1.99",
        "ip neigh show 10.77.1.99",
        "arp -an"]);

    /// <summary>want (the default) sets DF while the datagram fits the route: the router's error teaches 1400, then ping fragments.</summary>
    [Fact]
    public void Ping_PmtuDiscModes() => RealPeer.Compare([
        "ping -c 1 -M probe 10.77.2.2",
        "ping -c 1 -M dont -s 1472 10.77.2.2",
        "ping -c 2 -i 0.2 -M want -s 1472 10.77.2.2",
        "ping -c 2 -i 0.2 -s 1472 10.77.2.2"]);

    /// <summary>
    /// Argument checks, and sends that fail: -s up to INT_MAX is accepted; 65508 gets a local error,
    /// 70000 fails in raw_sendmsg() silently. -W 0 waits for the answer; garbage after a number warns.
    /// </summary>
    [Fact]
    public void Ping_ArgumentsAndSendFailures() => RealPeer.Compare([
        new("r", "ping -c 1 10.99.9.9"),
        "ping -c 1 -t 300 10.77.2.2",
        "ping -c x 10.77.2.2",
        "ping -c 1 -s -1 10.77.2.2",
        "ping -c 1 -s 65508 10.77.2.2",
        "ping -c 2 -i 0.2 -s 70000 10.77.2.2",
        "ping -c 1 10.77.1.255",
        "ping -c 1 -I eth9 10.77.2.2",
        "ping -c 1 -W 0 10.77.2.2",
        "ping -c 1 -W 1x 10.77.2.2",
        "ping -c 1 -W '' 10.77.2.2",
        "ping -c 1 -W -1 10.77.2.2",
        "ping -c 1 -i abc 10.77.2.2",
        "ping -c 2 -i 0.2 -w 0 10.99.9.9"]);

    [Fact]
    public void Ping_4000Bytes_FragmentedBothWays() => RealPeer.Compare(["ping -c 1 -s 4000 10.77.2.2"]);

    /// <summary>The second run starts from the learned path MTU.</summary>
    [Fact]
    public void Tracepath_FindsPmtu1400_ThenStartsFromIt() => RealPeer.Compare(["tracepath -n 10.77.2.2", "tracepath -n 10.77.2.2"]);

    [Fact]
    public void Traceroute_Udp() => RealPeer.Compare(["traceroute -n 10.77.2.2"]);

    [Fact]
    public void Traceroute_Icmp() => RealPeer.Compare(["traceroute -n -I 10.77.2.2"]);

    /// <summary>
    /// -T: SYNs with the options of the tcp_* sysctls (60 byte packets); r answers time exceeded, b's closed
    /// port 80 a RST (reached, no annotation; -O info shows its flags). Behind r, 10.77.2.99 has no neighbour:
    /// r answers host unreachable once ARP fails; a's own addresses answer through lo (the raw socket also
    /// sees the SYN itself, which has the wrong ports to be an answer). Every run has -n: a reverse lookup would block Linux's
    /// traceroute on the namespace's unreachable resolver while its probes expire.
    /// </summary>
    [Fact]
    public void Traceroute_Tcp() => RealPeer.Compare([
        "traceroute -n -T 10.77.2.2",
        "traceroute -n -T -f 2 -O info -p 22 10.77.2.2",
        "traceroute -n -T -q 1 10.77.2.99",
        "traceroute -n -T -O info 10.77.1.2",
        "traceroute -n -T -q 1 127.0.0.1"]);

    /// <summary>
    /// -T to b's open port 80: b answers SYN-ACK, a's own TCP resets it (the port is only held by a bound
    /// socket), so nothing is left on either side; -p 81 is closed (RST). -O options change the segment's
    /// flags and options (the header line's size) and the flags of the answer: a bare ACK gets a bare RST,
    /// a FIN to the closed port RST-ACK. (ECN is left to the closed port: b's listener would answer an
    /// ECN-setup SYN with ECE, which NetLab's TCP does not negotiate.)
    /// </summary>
    [Fact]
    public void Traceroute_Tcp_OpenPort() => RealPeer.Compare([
        "traceroute -n -T 10.77.2.2",
        "traceroute -n -T -f 2 -q 1 -O info 10.77.2.2",
        "traceroute -n -T -f 2 -q 1 -O info -p 81 10.77.2.2",
        "traceroute -nT -f 2 -q 1 -O ack,info -p http 10.77.2.2",
        "traceroute -n -M tcp -f 2 -q 1 -O time,info 10.77.2.2",
        "traceroute -n --module=tcp -f 2 -q1 -O fl=1 -O info -p 81 10.77.2.2",
        "traceroute -n -T -f 2 -q 1 -O ecn,sack,mss=1000,info -p 81 10.77.2.2",
        "ss -tan",
        new("b", "ss -tan")], listeners: [("b", 80)]);

    /// <summary>Module choice (-M, -T, -I), -O's keywords and help, and the errors of the modules' init().</summary>
    [Fact]
    public void Traceroute_ModulesAndOptions_Errors() => RealPeer.Compare([
        "traceroute -T -O bogus 10.77.2.2",
        "traceroute -T -O mss 10.77.2.2",
        "traceroute -T -O mss=abc 10.77.2.2",
        "traceroute -T -O sack,t 10.77.2.2",
        "traceroute -T -O info,-x 10.77.2.2",
        "traceroute -T -O syn=1 10.77.2.2",
        "traceroute -T -O help 10.77.2.2",
        "traceroute -I -O help 10.77.2.2",
        "traceroute -O help 10.77.2.2",
        "traceroute -O help",
        "traceroute -I -O raw,dgram 10.77.2.2",
        "traceroute -I -O dgram 10.77.2.2",
        "traceroute -M foo 10.77.2.2",
        "traceroute --module 10.77.2.2",
        "traceroute --tcp=1 10.77.2.2",
        "traceroute -f",
        "traceroute -nq1 10.77.2.2",
        "traceroute -T -i eth9 10.77.2.2",
        "traceroute -I -i eth9 10.77.2.2",
        "traceroute -i eth9 10.77.2.2",
        new("r", "traceroute -T 10.99.9.9")]);

    /// <summary>Replies, duplicate address detection (stops at the first reply, exit 1), a free address, nobody home.</summary>
    [Fact]
    public void Arping() => RealPeer.Compare([
        "arping -c 2 -I eth0 10.77.1.1",
        "arping -D -c 2 -I eth0 10.77.1.1",
        "arping -D -c 1 -w 1 -I eth0 10.77.1.50",
        "arping -c 2 -w 1 -I eth0 10.77.1.99",
        "arping -U -c 1 -I eth0 10.77.1.2",
        "arping -c 2 -i 0.2 -I eth0 10.77.1.1"]);

    [Fact]
    public void IpRoute_Show() => RealPeer.Compare(["ip route show", "ip route show table local", new("r", "ip route show")]);

    [Fact]
    public void IpAddr_Show() => RealPeer.Compare(["ip -4 addr show dev eth0", "ip addr show dev eth0", "ip -4 addr", new("r", "ip addr")]);

    /// <summary>get_addr_ipv4(): missing parts of a dotted quad are zero ("10.1.1" is 10.1.1.0).</summary>
    [Fact]
    public void Ip_PartialAddresses() => RealPeer.Compare([
        "ip addr add 10.1.1 dev lo",
        "ip addr add 10.2/16 dev lo",
        "ip -4 addr show dev lo",
        "ip route add 10.5/16 dev eth0",
        "ip route show",
        "ip route get 10.77.2",
        "ip neigh show 10.77"]);

    [Fact]
    public void Ip_Errors() => RealPeer.Compare([
        "ip",
        "ip help",
        "ip nope",
        "ip -x link",
        "ip addr show dev nope",
        "ip -4 addr show dev nope",
        "ip link show nope",
        "ip link show dev",
        "ip link set",
        "ip link set nope up",
        "ip link set lo mtu abc",
        "ip link set lo foo bar",
        "ip link fooo",
        "ip addr fooo",
        "ip route fooo",
        "ip neigh fooo",
        "ip addr add 10.77.1.2/24 dev eth0",
        "ip addr del 10.77.1.9/24 dev eth0",
        "ip addr add 10.1.1.1/24",
        "ip addr add dev lo",
        "ip addr add 10.1.x dev lo",
        "ip route add 10.88.0.0/16 via 10.77.1.1",
        "ip route add 10.88.0.0/16 via 10.77.1.1",
        "ip route add 10.89.0.0/16 via 10.77.5.1",
        "ip route add 10.8.0.0/16 via",
        "ip route add 10.8.0.0/16 dev eth0 metric x",
        "ip route add unreachable 10.90.0.0/16",
        "ip route show",
        "ip route show table foo",
        "ip route get",
        "ip route get 10.90.1.1",
        "ip route get 10.1.1.1 dev nope",
        "ip route del 10.88.0.0/16",
        "ip route del 10.88.0.0/16",
        "ip neigh add 10.77.1.50 lladdr 02:00:00:00:00:50 dev eth0",
        "ip neigh add 10.77.1.50 lladdr 02:00:00:00:00:51 dev eth0",
        "ip neigh add 10.0.0.9 lladdr 02:00:00:00:00:09",
        "ip neigh add 10.77.1.51 lladdr 02:00:00:00:00:51 dev eth0 nud foo",
        "ip neigh show",
        "ip neigh del 10.77.1.50 dev eth0",
        "ip neigh del 10.77.1.50 dev eth0",
        "ip neigh flush",
        "ip neigh show dev nope",
        "ip neigh show to",
        "ip neigh show garbage"]);

    [Fact]
    public void IpLink_Show() => RealPeer.Compare(["ip link", new("b", "ip link show eth0")]);

    [Fact]
    public void IpRouteGet_BeforeAndAfterFragNeeded() => RealPeer.Compare([
        "ip route get 10.77.2.2",
        "ping -c 1 -M do -s 1472 10.77.2.2",
        "ip route get 10.77.2.2",
        "ip route get 10.77.1.2",
        "ip route get 10.77.1.1",
        "ip route get 10.77.1.255",
        "ip route get 255.255.255.255",
        "ip route get 127.0.0.5"]);

    /// <summary>a resolved r (REACHABLE); r and b learned their requesters from ARP requests and answered (DELAY).</summary>
    [Fact]
    public void IpNeigh_AfterAPing() => RealPeer.Compare([
        "ping -c 1 10.77.2.2",
        "ip neigh show",
        new("r", "ip neigh show dev eth0"),
        new("r", "ip neigh show dev eth1"),
        new("b", "ip neigh")]);

    [Fact]
    public void Arp_AfterAPing() => RealPeer.Compare(["ping -c 1 10.77.2.2", "arp -n", "arp -an", "arp -n 10.77.1.7"]);

    [Fact]
    public void Sysctl_Read() => RealPeer.Compare([
        "sysctl net.ipv4.ip_local_port_range net.ipv4.ip_default_ttl net.ipv4.ip_forward",
        new("r", "sysctl net.ipv4.ip_forward net.ipv4.conf.all.forwarding net.ipv4.conf.eth1.forwarding")]);

    /// <summary>
    /// Every key NetLab has, with Linux's default. net.ipv4.neigh.default.* is left out: Linux registers
    /// it in the initial namespace only (neigh_sysctl_register() for arp_tbl at boot), and a NetLab host
    /// is a whole machine, which has it.
    /// </summary>
    [Fact]
    public void Sysctl_EveryNetLabKeyHasLinuxDefault()
    {
        var (w, hosts) = RealPeer.NetLabRouted(TimeSpan.Zero);
        using (w)
        {
            var keys = Nets.Run(w, hosts["a"], "sysctl -N -a").Out.Lines
                .Where(k => !k.StartsWith("net.ipv4.neigh.default.", StringComparison.Ordinal))
                // Global-only (init_net) in Linux, so absent in a namespace; a NetLab host is a whole machine.
                .Where(k => k != "net.ipv4.tcp_max_orphans")
                // These follow the machine's boot configuration and loaded modules (this CI machine runs bbr),
                // not the kernel's defaults (cubic; "reno cubic" without tcp_bbr loaded).
                .Where(k => k is not ("net.ipv4.tcp_congestion_control" or "net.ipv4.tcp_available_congestion_control"));
            RealPeer.Compare(["sysctl " + string.Join(' ', keys)]);
        }
    }

    [Fact]
    public void Sysctl_Write() => RealPeer.Compare(["sysctl -w net.ipv4.ip_forward=1", "sysctl -n net.ipv4.ip_forward", "sysctl net.ipv4.conf.eth0.forwarding"]);

    [Fact]
    public void Sysctl_UnknownKey() => RealPeer.Compare(["sysctl net.ipv4.no_such_key", "sysctl -w net.ipv4.no_such_key=1", "sysctl -w net.ipv4.ip_default_ttl=300"]);

    /// <summary>procps 4.0.2: usage texts, "invalid syntax", read failures added and write failures ORed; port range rules.</summary>
    [Fact]
    public void Sysctl_Errors() => RealPeer.Compare([
        "sysctl",
        "sysctl -z",
        "sysctl =1",
        "sysctl -w net.ipv4.ip_default_ttl",
        "sysctl -w net.ipv4.ip_default_ttl=abc",
        "sysctl -w net.ipv4.ip_default_ttl=",
        "sysctl -w net.ipv4.ip_default_ttl=0",
        "sysctl net.ipv4.foo net.ipv4.bar net.ipv4.baz",
        "sysctl -w net.ipv4.foo=1 net.ipv4.bar=2",
        "sysctl net.ipv4.foo net.ipv4.bar a=1",
        "sysctl -e net.ipv4.nope",
        "sysctl -n net/ipv4/ip_default_ttl",
        "sysctl net.ipv4.ip_forward=\"1\"",
        "sysctl -w net.ipv4.ip_local_port_range=\"1000 2000\"",
        "sysctl -w net.ipv4.ip_local_port_range=\"3000 2000\"",
        "sysctl -w net.ipv4.ip_unprivileged_port_start=40000",
        "sysctl -w net.ipv4.ip_unprivileged_port_start=1000",
        "sysctl -w net.ipv4.ip_local_port_range=\"1000 2000\"",
        "sysctl net.ipv4.ip_local_port_range"]);

    /// <summary>arp, traceroute and tracepath refusing their arguments, and their one-hop and no-route runs.</summary>
    [Fact]
    public void ArpTracerouteTracepath_Errors() => RealPeer.Compare([
        "arp -x",
        "arp -s 10.77.1.51 02:00:00:00:00:51",
        "arp -n",
        "arp -d 10.77.1.51",
        "arp -d 10.77.1.51",
        "traceroute",
        "traceroute -x 10.77.2.2",
        "traceroute -q 11 10.77.2.2",
        "traceroute -f 31 10.77.2.2",
        "traceroute -n -q 1 -m 1 10.77.2.2",
        "traceroute -n -q 2 -w 1 10.99.9.9",
        new("r", "traceroute -n -q 1 -w 1 -m 2 10.99.9.9"),
        "tracepath",
        "tracepath -l 20 10.77.2.2",
        "tracepath -m 300 10.77.2.2",
        "tracepath -n -m 1 10.77.2.2",
        "arping -c 1 10.77.1.1",
        "arping -c 1 -I eth9 10.77.1.1"]);
}
