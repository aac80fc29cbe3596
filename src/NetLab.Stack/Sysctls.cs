using NetLab.Core.Sysctl;

namespace NetLab.Stack;

/// <summary>net.core.* (Documentation/admin-guide/sysctl/net.rst).</summary>
public sealed class NetCoreSysctls
{
    [Sysctl("rmem_default", Min = 4608, Max = int.MaxValue)] public int RmemDefault { get; set; } = 212992;
    /// <summary>4 MiB since Linux commit a6d4f25888b8 ("net: increase default rmem_max/wmem_max to 4MB"); 212992 before.</summary>
    [Sysctl("rmem_max", Min = 4608, Max = int.MaxValue)] public int RmemMax { get; set; } = 4194304;
    [Sysctl("wmem_max", Min = 4608, Max = int.MaxValue)] public int WmemMax { get; set; } = 4194304;
    /// <summary>Caps listen()'s backlog (4096 since Linux 5.4).</summary>
    [Sysctl("somaxconn", Min = 0, Max = int.MaxValue)] public int Somaxconn { get; set; } = 4096;
}

/// <summary>net.ipv4.* (Documentation/networking/ip-sysctl.rst), Linux defaults.</summary>
public sealed class Ipv4Sysctls
{
    private int _ipForward;

    /// <summary>Setting it sets forwarding on every device, as devinet_sysctl_forward() does.</summary>
    [Sysctl("ip_forward", Min = 0, Max = 1)]
    public int IpForward
    {
        get => _ipForward;
        set { _ipForward = value; ForwardingChanged?.Invoke(value); }
    }

    internal event Action<int>? ForwardingChanged;

    [Sysctl("ip_default_ttl", Min = 1, Max = 255)] public int IpDefaultTtl { get; set; } = 64;
    [Sysctl("ip_no_pmtu_disc", Min = 0, Max = 3)] public int IpNoPmtuDisc { get; set; }
    private int[] _ipLocalPortRange = [32768, 60999];
    private int _ipUnprivilegedPortStart = 1024;

    /// <summary>
    /// ipv4_local_port_range(): both ends in 1..65535, low ≤ high, and low not below
    /// ip_unprivileged_port_start ("1000 2000" is EINVAL).
    /// </summary>
    [Sysctl("ip_local_port_range", Min = 1, Max = 65535)]
    public int[] IpLocalPortRange
    {
        get => _ipLocalPortRange;
        set
        {
            if (value.Length != 2 || value[1] < value[0] || value[0] < _ipUnprivilegedPortStart)
                throw new ArgumentException("ip_local_port_range: Invalid argument", nameof(value));
            _ipLocalPortRange = value;
        }
    }

    /// <summary>ipv4_privileged_ports(): 0..65535, and not above the local port range's low end.</summary>
    [Sysctl("ip_unprivileged_port_start", Min = 0, Max = 65535)]
    public int IpUnprivilegedPortStart
    {
        get => _ipUnprivilegedPortStart;
        set
        {
            if (_ipLocalPortRange[0] < value) throw new ArgumentException("ip_unprivileged_port_start: Invalid argument", nameof(value));
            _ipUnprivilegedPortStart = value;
        }
    }
    [Sysctl("ip_nonlocal_bind", Min = 0, Max = 1)] public int IpNonlocalBind { get; set; }

    [Sysctl("icmp_echo_ignore_all", Min = 0, Max = 1)] public int IcmpEchoIgnoreAll { get; set; }
    [Sysctl("icmp_echo_ignore_broadcasts", Min = 0, Max = 1)] public int IcmpEchoIgnoreBroadcasts { get; set; } = 1;
    [Sysctl("icmp_ratelimit", Min = 0, Max = int.MaxValue)] public int IcmpRatelimit { get; set; } = 1000;
    /// <summary>Bit per ICMP type that is rate limited: 6168 = 0x1818 = dest unreach, source quench, time exceeded, param problem.</summary>
    [Sysctl("icmp_ratemask", Min = 0, Max = int.MaxValue)] public int IcmpRatemask { get; set; } = 6168;
    [Sysctl("icmp_msgs_per_sec", Min = 0, Max = int.MaxValue)] public int IcmpMsgsPerSec { get; set; } = 1000;
    [Sysctl("icmp_msgs_burst", Min = 0, Max = int.MaxValue)] public int IcmpMsgsBurst { get; set; } = 50;
    [Sysctl("icmp_errors_use_inbound_ifaddr", Min = 0, Max = 1)] public int IcmpErrorsUseInboundIfaddr { get; set; }

    [Sysctl("ipfrag_time", Min = 0, Max = int.MaxValue)] public int IpfragTime { get; set; } = 30;
    [Sysctl("ipfrag_high_thresh", Min = 0, Max = int.MaxValue)] public long IpfragHighThresh { get; set; } = 4 * 1024 * 1024;
    /// <summary>Only bounds ipfrag_high_thresh: it has had no effect on eviction since Linux 4.17.</summary>
    [Sysctl("ipfrag_low_thresh", Min = 0, Max = int.MaxValue)] public long IpfragLowThresh { get; set; } = 3 * 1024 * 1024;
    [Sysctl("ipfrag_max_dist", Min = 0, Max = int.MaxValue)] public int IpfragMaxDist { get; set; } = 64;

    [Sysctl("route.min_pmtu", Min = 68, Max = 65535)] public int RouteMinPmtu { get; set; } = 552;
    [Sysctl("route.mtu_expires", Min = 0, Max = int.MaxValue)] public int RouteMtuExpires { get; set; } = 600;

}

/// <summary>net.ipv4.conf.&lt;dev&gt;.* (struct ipv4_devconf), Linux defaults.</summary>
public sealed class Ipv4DevConf
{
    [Sysctl("forwarding", Min = 0, Max = 1)] public int Forwarding { get; set; }
    [Sysctl("arp_announce", Min = 0, Max = 2)] public int ArpAnnounce { get; set; }
    [Sysctl("arp_ignore", Min = 0, Max = 8)] public int ArpIgnore { get; set; }
    [Sysctl("arp_accept", Min = 0, Max = 2)] public int ArpAccept { get; set; }
    [Sysctl("arp_notify", Min = 0, Max = 1)] public int ArpNotify { get; set; }
    [Sysctl("send_redirects", Min = 0, Max = 1)] public int SendRedirects { get; set; } = 1;
}

/// <summary>net.ipv4.neigh.&lt;dev&gt;.* (struct neigh_parms), Linux defaults for ARP (arp_tbl).</summary>
public sealed class NeighParms
{
    [Sysctl("base_reachable_time_ms", Min = 0, Max = int.MaxValue)] public int BaseReachableTimeMs { get; set; } = 30_000;
    [Sysctl("delay_first_probe_time", Min = 0, Max = int.MaxValue)] public int DelayFirstProbeTime { get; set; } = 5;
    [Sysctl("retrans_time_ms", Min = 0, Max = int.MaxValue)] public int RetransTimeMs { get; set; } = 1000;
    [Sysctl("ucast_solicit", Min = 0, Max = int.MaxValue)] public int UcastSolicit { get; set; } = 3;
    [Sysctl("mcast_solicit", Min = 0, Max = int.MaxValue)] public int McastSolicit { get; set; } = 3;
    [Sysctl("mcast_resolicit", Min = 0, Max = int.MaxValue)] public int McastResolicit { get; set; }
    [Sysctl("app_solicit", Min = 0, Max = int.MaxValue)] public int AppSolicit { get; set; }
    [Sysctl("unres_qlen_bytes", Min = 0, Max = int.MaxValue)] public int UnresQlenBytes { get; set; } = 212992;
    [Sysctl("gc_stale_time", Min = 0, Max = int.MaxValue)] public int GcStaleTime { get; set; } = 60;
    /// <summary>In centiseconds (USER_HZ): 100 = 1 s.</summary>
    [Sysctl("locktime", Min = 0, Max = int.MaxValue)] public int Locktime { get; set; } = 100;
}

/// <summary>net.ipv4.neigh.default.gc_* (table-wide, not per device).</summary>
public sealed class NeighTableSysctls
{
    [Sysctl("gc_thresh1", Min = 0, Max = int.MaxValue)] public int GcThresh1 { get; set; } = 128;
    [Sysctl("gc_thresh2", Min = 0, Max = int.MaxValue)] public int GcThresh2 { get; set; } = 512;
    [Sysctl("gc_thresh3", Min = 0, Max = int.MaxValue)] public int GcThresh3 { get; set; } = 1024;
    /// <summary>Exported by Linux but not used to schedule GC (it runs every base_reachable_time/2).</summary>
    [Sysctl("gc_interval", Min = 0, Max = int.MaxValue)] public int GcInterval { get; set; } = 30;
}
