using System.Buffers.Binary;
using NetLab.Core.Addressing;

namespace NetLab.Stack.Link;

public static class EtherType
{
    public const ushort Ipv4 = 0x0800;
    public const ushort Arp = 0x0806;
    public const ushort Vlan = 0x8100;
    public const ushort Ipv6 = 0x86DD;
}

/// <summary>
/// Ethernet II header (IEEE 802.3 §3.1.1 with an EtherType):
/// <code>
///  0                   6                  12      14
/// +-------------------+-------------------+-------+
/// |  destination MAC  |    source MAC     | type  |
/// +-------------------+-------------------+-------+
/// </code>
/// </summary>
public readonly ref struct EthernetHeaderView
{
    public const int Length = 14;
    /// <summary>Minimum frame without FCS: shorter frames are padded by the driver.</summary>
    public const int MinFrameLength = 60;
    /// <summary>Preamble + SFD (8), FCS (4) and inter-frame gap (12): bytes on the wire beyond the frame.</summary>
    public const int WireOverhead = 24;

    private static class Field { public const int Destination = 0, Source = 6, EtherType = 12; }

    private readonly Span<byte> _b;
    private EthernetHeaderView(Span<byte> b) => _b = b;

    public static bool TryCreate(Span<byte> b, out EthernetHeaderView v)
    {
        v = new(b);
        return b.Length >= Length;
    }

    public static EthernetHeaderView ForEmit(Span<byte> b) => new(b);

    public MacAddress Destination { get => MacAddress.Read(_b[Field.Destination..]); set => value.Write(_b[Field.Destination..]); }
    public MacAddress Source { get => MacAddress.Read(_b[Field.Source..]); set => value.Write(_b[Field.Source..]); }
    public ushort EtherType
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_b[Field.EtherType..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_b[Field.EtherType..], value);
    }

    /// <summary>Bytes a frame of <paramref name="frameLength"/> occupies on the wire (padding, FCS, preamble, IFG).</summary>
    public static int WireBytes(int frameLength) => Math.Max(frameLength, MinFrameLength) + WireOverhead;
}

public readonly record struct EthernetRepr(MacAddress Destination, MacAddress Source, ushort EtherType)
{
    public static bool TryParse(ReadOnlySpan<byte> frame, out EthernetRepr repr)
    {
        repr = default;
        if (frame.Length < EthernetHeaderView.Length) return false;
        repr = new(MacAddress.Read(frame), MacAddress.Read(frame[6..]), BinaryPrimitives.ReadUInt16BigEndian(frame[12..]));
        return true;
    }

    public void Emit(Span<byte> b)
    {
        var v = EthernetHeaderView.ForEmit(b);
        v.Destination = Destination;
        v.Source = Source;
        v.EtherType = EtherType;
    }

    public override string ToString() => $"{Source} > {Destination}, ethertype 0x{EtherType:x4}";
}
