using NetLab.Core.Time;
using NetLab.Stack.Icmp;
using NetLab.Stack.IPv4;
using NetLab.Stack.Link;
using NetLab.Stack.Tcp;
using NetLab.Stack.Udp;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>An IPv4 frame the DUT put on the wire, at <see cref="At"/> (virtual time since the harness started).</summary>
public sealed class SentFrame
{
    /// <exception cref="InvalidOperationException">The frame is not valid IPv4: the DUT's stack has a bug.</exception>
    internal SentFrame(SimDuration at, byte[] bytes)
    {
        var l3 = bytes.AsSpan(EthernetHeaderView.Length);
        if (!EthernetRepr.TryParse(bytes, out var eth) || eth.EtherType != EtherType.Ipv4
            || !Ipv4Repr.TryParse(l3, out var ip) || !Ipv4HeaderView.TryCreate(l3, out var view))
            throw new InvalidOperationException($"The DUT sent a frame that is not valid IPv4: {Convert.ToHexStringLower(bytes)}");
        At = at;
        Bytes = bytes;
        Ethernet = eth;
        Ip = ip;
        IpPayload = view.Payload.ToArray();
        if (ip.MoreFragments || ip.FragmentOffset != 0) return;
        if (ip.Protocol == IpProtocol.Tcp && TcpRepr.TryParse(IpPayload, ip.Source, ip.Destination, out var tcp))
            Tcp = new SentSegment(at, ip, tcp, IpPayload[^tcp.PayloadLength..]);
        if (ip.Protocol == IpProtocol.Icmp && IcmpRepr.TryParse(IpPayload, out var icmp))
            Icmp = new SentIcmp(at, ip, icmp, IpPayload[IcmpHeaderView.Length..]);
    }

    public SimDuration At { get; }
    /// <summary>The Ethernet frame as transmitted (a runt padded to 60 bytes).</summary>
    public byte[] Bytes { get; }
    public EthernetRepr Ethernet { get; }
    public Ipv4Repr Ip { get; }
    /// <summary>The transport header and data, without the Ethernet padding.</summary>
    public byte[] IpPayload { get; }
    /// <summary>The segment, when this is TCP with a valid checksum.</summary>
    public SentSegment? Tcp { get; }
    /// <summary>The message, when this is ICMP with a valid checksum.</summary>
    public SentIcmp? Icmp { get; }

    public override string ToString() => Tcp?.ToString() ?? Icmp?.ToString() ?? Tcpdump.Line(At, Ip, Ip.Protocol switch
    {
        IpProtocol.Udp when UdpRepr.TryParse(IpPayload, Ip.Source, Ip.Destination, out var u) =>
            $"{Ip.Source}.{u.SourcePort} > {Ip.Destination}.{u.DestinationPort}: UDP, length {u.PayloadLength}",
        IpProtocol.Tcp or IpProtocol.Udp or IpProtocol.Icmp =>
            $"{Ip.Source} > {Ip.Destination}: bad checksum or a fragment, length {Ip.PayloadLength}",
        _ => $"{Ip.Source} > {Ip.Destination}: ip-proto-{Ip.Protocol} {Ip.PayloadLength}",
    });
}

/// <summary>A TCP segment the DUT sent: what <see cref="Seg"/> checks look at.</summary>
public sealed record SentSegment(SimDuration At, Ipv4Repr Ip, TcpRepr Tcp, byte[] Payload)
{
    public override string ToString() =>
        Tcpdump.Line(At, Ip, $"{Ip.Source}.{Tcp.SourcePort} > {Ip.Destination}.{Tcp.DestinationPort}: {Tcp}");
}

/// <summary>An ICMP message the DUT sent; <see cref="Data"/> follows the 8-byte header (an error quotes the datagram).</summary>
public sealed record SentIcmp(SimDuration At, Ipv4Repr Ip, IcmpRepr Icmp, byte[] Data)
{
    public override string ToString() => Tcpdump.Line(At, Ip, $"{Ip.Source} > {Ip.Destination}: {Icmp}");
}

/// <summary>Failure messages read like a capture: <c>tcpdump -n -S -v -tt</c>, times from the harness's start.</summary>
internal static class Tcpdump
{
    public static string Time(SimDuration at) => (SimTime.Zero + at).ToString();

    /// <summary>
    /// tcpdump -v's two lines: the IPv4 header (ip_print()), then the transport line indented under it.
    /// IP options are not shown, and the length is the header without them plus the payload.
    /// </summary>
    public static string Line(SimDuration at, Ipv4Repr ip, string transport)
    {
        // tcpdump's ip_frag_values, in table order: MF "+", DF "DF"; "none" when neither is set.
        string flags = (ip.MoreFragments ? "+" : "") + (ip.DontFragment ? "DF" : "");
        string proto = ip.Protocol switch
        {
            IpProtocol.Tcp => "TCP (6)",
            IpProtocol.Udp => "UDP (17)",
            IpProtocol.Icmp => "ICMP (1)",
            var p => $"unknown ({p})",
        };
        return $"{Time(at)} IP (tos 0x{ip.Tos:x}, ttl {ip.Ttl}, id {ip.Identification}, offset {ip.FragmentOffset}, "
            + $"flags [{(flags.Length == 0 ? "none" : flags)}], proto {proto}, length {Ipv4Repr.HeaderLength + ip.PayloadLength})\n"
            + $"    {transport}";
    }
}
