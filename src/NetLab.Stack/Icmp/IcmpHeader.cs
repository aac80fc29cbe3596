using System.Buffers.Binary;
using NetLab.Core.Checksums;

namespace NetLab.Stack.Icmp;

public static class IcmpType
{
    public const byte EchoReply = 0;
    public const byte DestinationUnreachable = 3;
    public const byte SourceQuench = 4;
    public const byte Redirect = 5;
    public const byte EchoRequest = 8;
    public const byte TimeExceeded = 11;
    public const byte ParameterProblem = 12;
    public const byte Timestamp = 13;
    public const byte TimestampReply = 14;

    /// <summary>icmp_is_err(): the types that are errors and must never be answered with an error.</summary>
    public static bool IsError(byte type) =>
        type is DestinationUnreachable or SourceQuench or Redirect or TimeExceeded or ParameterProblem;
}

public static class IcmpCode
{
    // Destination unreachable (RFC 792, RFC 1812 §5.2.7.1)
    public const byte NetUnreachable = 0;
    public const byte HostUnreachable = 1;
    public const byte ProtocolUnreachable = 2;
    public const byte PortUnreachable = 3;
    public const byte FragmentationNeeded = 4;
    public const byte SourceRouteFailed = 5;
    public const byte NetAdminProhibited = 9;
    public const byte HostAdminProhibited = 10;
    public const byte CommunicationProhibited = 13;
    // Time exceeded
    public const byte TtlExceeded = 0;
    public const byte FragmentReassemblyTimeExceeded = 1;
    // Redirect
    public const byte RedirectHost = 1;
}

/// <summary>
/// The ICMP header (RFC 792):
/// <code>
///  0                   1                   2                   3
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     Type      |     Code      |          Checksum             |
/// |     Identifier / unused / gateway / (unused, next-hop MTU)    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// The second word is identifier+sequence for echo, the gateway for redirect, and
/// unused+next-hop MTU for fragmentation needed (RFC 1191 §4).
/// </summary>
public readonly ref struct IcmpHeaderView
{
    public const int Length = 8;
    private readonly Span<byte> _b;
    private IcmpHeaderView(Span<byte> b) => _b = b;

    public static bool TryCreate(Span<byte> b, out IcmpHeaderView v)
    {
        v = new(b);
        return b.Length >= Length;
    }

    public static IcmpHeaderView ForEmit(Span<byte> b) => new(b);

    public byte Type { get => _b[0]; set => _b[0] = value; }
    public byte Code { get => _b[1]; set => _b[1] = value; }
    public ushort Checksum { get => BinaryPrimitives.ReadUInt16BigEndian(_b[2..]); set => BinaryPrimitives.WriteUInt16BigEndian(_b[2..], value); }
    public ushort Identifier { get => BinaryPrimitives.ReadUInt16BigEndian(_b[4..]); set => BinaryPrimitives.WriteUInt16BigEndian(_b[4..], value); }
    public ushort Sequence { get => BinaryPrimitives.ReadUInt16BigEndian(_b[6..]); set => BinaryPrimitives.WriteUInt16BigEndian(_b[6..], value); }
    public uint RestOfHeader { get => BinaryPrimitives.ReadUInt32BigEndian(_b[4..]); set => BinaryPrimitives.WriteUInt32BigEndian(_b[4..], value); }
    /// <summary>Next-hop MTU of fragmentation needed (RFC 1191).</summary>
    public ushort NextHopMtu => BinaryPrimitives.ReadUInt16BigEndian(_b[6..]);
    public Span<byte> Payload => _b[Length..];

    /// <summary>Checksum over the whole message (header and data), as RFC 792 defines it.</summary>
    public void FillChecksum()
    {
        Checksum = 0;
        Checksum = InternetChecksum.Compute(_b);
    }

    public bool VerifyChecksum() => InternetChecksum.IsValid(_b);
}

public readonly record struct IcmpRepr(byte Type, byte Code, uint RestOfHeader, int DataLength)
{
    public ushort Identifier => (ushort)(RestOfHeader >> 16);
    public ushort Sequence => (ushort)RestOfHeader;

    public static bool TryParse(Span<byte> message, out IcmpRepr repr, bool verifyChecksum = true)
    {
        repr = default;
        if (!IcmpHeaderView.TryCreate(message, out var v)) return false;
        if (verifyChecksum && !v.VerifyChecksum()) return false;
        repr = new(v.Type, v.Code, v.RestOfHeader, message.Length - IcmpHeaderView.Length);
        return true;
    }

    /// <summary>Writes the header into <paramref name="message"/> (whose data already holds the payload) and the checksum.</summary>
    public void Emit(Span<byte> message)
    {
        var v = IcmpHeaderView.ForEmit(message);
        v.Type = Type;
        v.Code = Code;
        v.RestOfHeader = RestOfHeader;
        v.FillChecksum();
    }

    public override string ToString() => Type switch
    {
        IcmpType.EchoRequest => $"ICMP echo request, id {Identifier}, seq {Sequence}, length {DataLength + 8}",
        IcmpType.EchoReply => $"ICMP echo reply, id {Identifier}, seq {Sequence}, length {DataLength + 8}",
        IcmpType.TimeExceeded => "ICMP time exceeded in-transit",
        IcmpType.DestinationUnreachable when Code == IcmpCode.FragmentationNeeded => $"ICMP unreachable - need to frag (mtu {RestOfHeader & 0xFFFF})",
        IcmpType.DestinationUnreachable => $"ICMP unreachable, code {Code}",
        _ => $"ICMP type {Type}, code {Code}",
    };
}
