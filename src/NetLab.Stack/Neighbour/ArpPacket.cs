using System.Buffers.Binary;
using NetLab.Core.Addressing;

namespace NetLab.Stack.Neighbour;

public static class ArpOp
{
    public const ushort Request = 1;
    public const ushort Reply = 2;
}

/// <summary>
/// An ARP packet for IPv4 over Ethernet (RFC 826):
/// <code>
///  0        2        4    5    6        8                14       18                24       28
/// +--------+--------+----+----+--------+-----------------+--------+-----------------+--------+
/// | htype  | ptype  |hlen|plen|   op   |   sender MAC    |sender IP|   target MAC   |target IP|
/// +--------+--------+----+----+--------+-----------------+--------+-----------------+--------+
/// </code>
/// </summary>
public readonly ref struct ArpPacketView
{
    public const int Length = 28;
    public const ushort HardwareEthernet = 1;

    private readonly Span<byte> _b;
    private ArpPacketView(Span<byte> b) => _b = b;

    /// <summary>Only Ethernet/IPv4 ARP is accepted (arp_process checks hlen 6 and plen 4).</summary>
    public static bool TryCreate(Span<byte> b, out ArpPacketView v)
    {
        v = new(b);
        return b.Length >= Length && v.HardwareType == HardwareEthernet && v.ProtocolType == Link.EtherType.Ipv4
            && b[4] == 6 && b[5] == 4;
    }

    public static ArpPacketView ForEmit(Span<byte> b) => new(b);

    public ushort HardwareType { get => BinaryPrimitives.ReadUInt16BigEndian(_b); set => BinaryPrimitives.WriteUInt16BigEndian(_b, value); }
    public ushort ProtocolType { get => BinaryPrimitives.ReadUInt16BigEndian(_b[2..]); set => BinaryPrimitives.WriteUInt16BigEndian(_b[2..], value); }
    public byte HardwareLength { get => _b[4]; set => _b[4] = value; }
    public byte ProtocolLength { get => _b[5]; set => _b[5] = value; }
    public ushort Operation { get => BinaryPrimitives.ReadUInt16BigEndian(_b[6..]); set => BinaryPrimitives.WriteUInt16BigEndian(_b[6..], value); }
    public MacAddress SenderMac { get => MacAddress.Read(_b[8..]); set => value.Write(_b[8..]); }
    public Ipv4Address SenderIp { get => Ipv4Address.Read(_b[14..]); set => value.Write(_b[14..]); }
    public MacAddress TargetMac { get => MacAddress.Read(_b[18..]); set => value.Write(_b[18..]); }
    public Ipv4Address TargetIp { get => Ipv4Address.Read(_b[24..]); set => value.Write(_b[24..]); }
}

public readonly record struct ArpRepr(ushort Operation, MacAddress SenderMac, Ipv4Address SenderIp, MacAddress TargetMac, Ipv4Address TargetIp)
{
    public static bool TryParse(Span<byte> b, out ArpRepr repr)
    {
        repr = default;
        if (!ArpPacketView.TryCreate(b, out var v)) return false;
        repr = new(v.Operation, v.SenderMac, v.SenderIp, v.TargetMac, v.TargetIp);
        return true;
    }

    public void Emit(Span<byte> b)
    {
        BinaryPrimitives.WriteUInt16BigEndian(b, ArpPacketView.HardwareEthernet);
        BinaryPrimitives.WriteUInt16BigEndian(b[2..], Link.EtherType.Ipv4);
        b[4] = 6;
        b[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(b[6..], Operation);
        SenderMac.Write(b[8..]);
        SenderIp.Write(b[14..]);
        TargetMac.Write(b[18..]);
        TargetIp.Write(b[24..]);
    }

    /// <summary>tcpdump style: "Request who-has 10.0.0.2 tell 10.0.0.1" / "Reply 10.0.0.2 is-at 02:..".</summary>
    public override string ToString() => Operation == ArpOp.Request
        ? $"ARP, Request who-has {TargetIp} tell {SenderIp}, length 28"
        : $"ARP, Reply {SenderIp} is-at {SenderMac}, length 28";
}
