using NetLab.Core.Addressing;
using NetLab.Stack.Link;

namespace NetLab.Stack.IPv4;

/// <summary>An address on a device (struct in_ifaddr), as `ip addr` shows it.</summary>
public sealed record InetAddress(NetDevice Device, Ipv4Prefix Prefix, Ipv4Address? BroadcastAddress, RouteScope Scope, bool Secondary)
{
    public Ipv4Address Local => Prefix.Address;
    public string Label => Device.Name;
}

/// <summary>IP_MTU_DISCOVER values (include/uapi/linux/in.h).</summary>
public enum PmtuDisc { Dont = 0, Want = 1, Do = 2, Probe = 3, Interface = 4, Omit = 5 }

/// <summary>What a transport asks of ip_queue_xmit / ip_push_pending_frames.</summary>
public readonly record struct IpSendParams(
    Ipv4Address Source,
    Ipv4Address Destination,
    byte Protocol,
    int Ttl = -1,
    byte Tos = 0,
    PmtuDisc PmtuDisc = PmtuDisc.Want,
    int OutputIfIndex = 0,
    bool Connected = false,
    bool AllowBroadcast = false);
