using NetLab.Core.Addressing;
using NetLab.Stack.Link;

namespace NetLab.Stack.IPv4;

/// <summary>rtm_type: what a route does with a packet.</summary>
public enum RouteType { Unicast, Local, Broadcast, Blackhole, Unreachable, Prohibit }

/// <summary>rtm_scope, as ip route prints it.</summary>
public enum RouteScope { Universe = 0, Link = 253, Host = 254 }

/// <summary>rtm_protocol: who installed the route.</summary>
public enum RouteProtocol { Kernel = 2, Boot = 3, Static = 4, Dhcp = 16 }

/// <summary>One FIB entry (fib_alias + fib_info with a single next hop).</summary>
public sealed record Route(
    Ipv4Prefix Destination,
    RouteType Type,
    NetDevice? Device,
    Ipv4Address? Gateway = null,
    int Metric = 0,
    RouteScope Scope = RouteScope.Universe,
    RouteProtocol Protocol = RouteProtocol.Boot,
    Ipv4Address? PreferredSource = null,
    int Mtu = 0)
{
    public const int LocalTable = 255, MainTable = 254;

    /// <summary>The address the packet goes to next: the gateway, or the destination itself when on-link.</summary>
    public Ipv4Address NextHop(Ipv4Address destination) => Gateway ?? destination;

    /// <summary>ip route show line, e.g. "default via 10.0.1.1 dev eth0" or "10.0.1.0/24 dev eth0 proto kernel scope link src 10.0.1.2".</summary>
    public string Format(bool showTableType)
    {
        var sb = new System.Text.StringBuilder();
        if (Type != RouteType.Unicast || showTableType) sb.Append(Type.ToString().ToLowerInvariant()).Append(' ');
        sb.Append(Destination.Length == 0 && Type == RouteType.Unicast && !showTableType ? "default"
            : Destination.Length == 32 ? Destination.Network.ToString() : Destination.NetworkPrefix.ToString());
        if (Gateway is { } gw) sb.Append(" via ").Append(gw);
        if (Device is not null) sb.Append(" dev ").Append(Device.Name);
        if (Protocol != RouteProtocol.Boot) sb.Append(" proto ").Append(Protocol.ToString().ToLowerInvariant());
        if (Scope != RouteScope.Universe) sb.Append(" scope ").Append(Scope.ToString().ToLowerInvariant());
        if (PreferredSource is { } src) sb.Append(" src ").Append(src);
        if (Metric != 0) sb.Append(" metric ").Append(Metric);
        if (Mtu != 0) sb.Append(" mtu ").Append(Mtu);
        return sb.ToString();
    }
}
