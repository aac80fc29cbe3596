using System.Buffers.Binary;
using NetLab.Core.Addressing;
using NetLab.Core.Checksums;

namespace NetLab.Stack.Udp;

/// <summary>
/// The UDP header (RFC 768):
/// <code>
///  0      7 8     15 16    23 24    31
/// +--------+--------+--------+--------+
/// |   Source Port   |  Destination    |
/// |     Length      |    Checksum     |
/// +--------+--------+--------+--------+
/// </code>
/// </summary>
public readonly ref struct UdpHeaderView
{
    public const int Length = 8;
    private static class Field { public const int SrcPort = 0, DstPort = 2, Length = 4, Checksum = 6; }

    private readonly Span<byte> _b;
    private UdpHeaderView(Span<byte> b) => _b = b;

    /// <summary>The only length check: the header fits and the length field covers the header and fits the buffer.</summary>
    public static bool TryCreate(Span<byte> b, out UdpHeaderView v)
    {
        v = new(b);
        return b.Length >= Length && v.DatagramLength >= Length && v.DatagramLength <= b.Length;
    }

    public static UdpHeaderView ForEmit(Span<byte> b) => new(b);

    public ushort SourcePort { get => Be16(Field.SrcPort); set => SetBe16(Field.SrcPort, value); }
    public ushort DestinationPort { get => Be16(Field.DstPort); set => SetBe16(Field.DstPort, value); }
    public ushort DatagramLength { get => Be16(Field.Length); set => SetBe16(Field.Length, value); }
    public ushort Checksum { get => Be16(Field.Checksum); set => SetBe16(Field.Checksum, value); }
    public Span<byte> Payload => _b[Length..DatagramLength];

    /// <summary>RFC 768: a computed zero is sent as 0xFFFF; zero on the wire means "no checksum".</summary>
    public void FillChecksum(Ipv4Address src, Ipv4Address dst)
    {
        Checksum = 0;
        ushort c = InternetChecksum.Finish(InternetChecksum.Add(
            InternetChecksum.PseudoHeader(src, dst, 17, DatagramLength), _b[..DatagramLength]));
        Checksum = c == 0 ? (ushort)0xFFFF : c;
    }

    public bool VerifyChecksum(Ipv4Address src, Ipv4Address dst) =>
        Checksum == 0 || InternetChecksum.Fold(InternetChecksum.Add(
            InternetChecksum.PseudoHeader(src, dst, 17, DatagramLength), _b[..DatagramLength])) == 0xFFFF;

    private ushort Be16(int at) => BinaryPrimitives.ReadUInt16BigEndian(_b[at..]);
    private void SetBe16(int at, ushort v) => BinaryPrimitives.WriteUInt16BigEndian(_b[at..], v);
}

public readonly record struct UdpRepr(ushort SourcePort, ushort DestinationPort, int PayloadLength)
{
    public static bool TryParse(Span<byte> datagram, Ipv4Address src, Ipv4Address dst, out UdpRepr repr)
    {
        repr = default;
        if (!UdpHeaderView.TryCreate(datagram, out var v) || !v.VerifyChecksum(src, dst)) return false;
        repr = new(v.SourcePort, v.DestinationPort, v.DatagramLength - UdpHeaderView.Length);
        return true;
    }

    /// <summary>Writes the header over a buffer whose payload is already in place, with the checksum.</summary>
    public void Emit(Span<byte> datagram, Ipv4Address src, Ipv4Address dst)
    {
        var v = UdpHeaderView.ForEmit(datagram);
        v.SourcePort = SourcePort;
        v.DestinationPort = DestinationPort;
        v.DatagramLength = (ushort)(UdpHeaderView.Length + PayloadLength);
        v.FillChecksum(src, dst);
    }

    public override string ToString() => $"UDP, {SourcePort} > {DestinationPort}, length {PayloadLength}";
}
