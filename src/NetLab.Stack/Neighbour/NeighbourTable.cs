using NetLab.Core.Addressing;
using NetLab.Core.Packets;
using NetLab.Stack.IPv4;
using NetLab.Stack.Link;

namespace NetLab.Stack.Neighbour;

/// <summary>ARP and the neighbour table (being written).</summary>
public sealed class NeighbourTable
{
    private readonly Host _host;
    internal NeighbourTable(Host host) => _host = host;
    internal void RegisterDevice(NetDevice dev, NeighParms parms) { }
    internal void OnDeviceStateChanged(NetDevice dev) { }
    internal void OnAddressAdded(NetDevice dev, InetAddress addr) { }
    internal void ArpRcv(NetDevice dev, Packet pkt) => pkt.Dispose();
    internal void Output(NetDevice dev, Ipv4Address nextHop, Packet pkt, bool broadcast) => _host.Drop(pkt, SkbDropReason.NeighFailed);
}
