using NetLab.Core.Packets;
using NetLab.Stack.Link;

namespace NetLab.Stack.IPv4;

/// <summary>
/// IPv4 reassembly (net/ipv4/ip_fragment.c + net/ipv4/inet_fragment.c).
/// PLACEHOLDER being replaced on the neighbour/defrag branch: currently drops every fragment.
/// </summary>
public sealed class Ipv4Defrag
{
    private readonly Host _host;

    internal Ipv4Defrag(Host host) => _host = host;

    /// <summary>
    /// ip_defrag(): takes ownership of a fragment (Data at its IP header). Returns the whole
    /// datagram (Data at its rewritten IP header: offset 0, MF clear, total length, checksum) once
    /// complete, else null.
    /// </summary>
    public Packet? Gather(Packet fragment, NetDevice dev)
    {
        _host.IpStats.Inc(IpMib.ReasmReqds);
        _host.IpStats.Inc(IpMib.ReasmFails);
        _host.Drop(fragment, SkbDropReason.IpFragFails);
        return null;
    }
}
