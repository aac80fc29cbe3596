using System.Buffers.Binary;
using NetLab.Core.Addressing;
using NetLab.Core.Checksums;

namespace NetLab.Stack.IPv4;

public static class IpProtocol
{
    public const byte Icmp = 1;
    public const byte Tcp = 6;
    public const byte Udp = 17;
    public const byte Gre = 47;
    public const byte Esp = 50;
    /// <summary>IPPROTO_RAW: a raw socket of this protocol sends whole datagrams (IP_HDRINCL) and receives nothing.</summary>
    public const byte Raw = 255;
}

/// <summary>
/// The IPv4 header (RFC 791 §3.1):
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Version|  IHL  |Type of Service|          Total Length         |
/// |         Identification        |Flags|      Fragment Offset    |
/// |  Time to Live |    Protocol   |         Header Checksum       |
/// |                       Source Address                          |
/// |                    Destination Address                        |
/// |                    Options                    |    Padding    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// </summary>
public readonly ref struct Ipv4HeaderView
{
    public const int MinLength = 20;
    public const ushort FlagReserved = 0x8000, FlagDf = 0x4000, FlagMf = 0x2000, OffsetMask = 0x1FFF;

    private static class Field
    {
        public const int VersionIhl = 0, Tos = 1, TotalLength = 2, Id = 4, FlagsOffset = 6, Ttl = 8, Protocol = 9,
            Checksum = 10, Source = 12, Destination = 16;
    }

    private readonly Span<byte> _b;
    private Ipv4HeaderView(Span<byte> b) => _b = b;

    /// <summary>
    /// The only length check (CONVENTIONS rule 1): version 4, IHL ≥ 5, the header fits, and
    /// total length covers the header and fits in the buffer. Does not check the checksum.
    /// </summary>
    public static bool TryCreate(Span<byte> b, out Ipv4HeaderView v)
    {
        v = new(b);
        if (b.Length < MinLength) return false;
        int ihl = (b[0] & 0xF) * 4;
        return (b[0] >> 4) == 4 && ihl >= MinLength && b.Length >= ihl
            && v.TotalLength >= ihl && v.TotalLength <= b.Length;
    }

    public static Ipv4HeaderView ForEmit(Span<byte> b) => new(b);

    public int Version => _b[Field.VersionIhl] >> 4;
    public int HeaderLength => (_b[Field.VersionIhl] & 0xF) * 4;
    public byte Tos { get => _b[Field.Tos]; set => _b[Field.Tos] = value; }
    public ushort TotalLength { get => Be16(Field.TotalLength); set => SetBe16(Field.TotalLength, value); }
    public ushort Identification { get => Be16(Field.Id); set => SetBe16(Field.Id, value); }
    public ushort FlagsAndOffset { get => Be16(Field.FlagsOffset); set => SetBe16(Field.FlagsOffset, value); }
    public bool DontFragment => (FlagsAndOffset & FlagDf) != 0;
    public bool MoreFragments => (FlagsAndOffset & FlagMf) != 0;
    /// <summary>Fragment offset in bytes (the field counts 8-byte units).</summary>
    public int FragmentOffset => (FlagsAndOffset & OffsetMask) * 8;
    public bool IsFragment => (FlagsAndOffset & (FlagMf | OffsetMask)) != 0;
    public byte Ttl { get => _b[Field.Ttl]; set => _b[Field.Ttl] = value; }
    public byte Protocol { get => _b[Field.Protocol]; set => _b[Field.Protocol] = value; }
    public ushort Checksum { get => Be16(Field.Checksum); set => SetBe16(Field.Checksum, value); }
    public Ipv4Address Source { get => Ipv4Address.Read(_b[Field.Source..]); set => value.Write(_b[Field.Source..]); }
    public Ipv4Address Destination { get => Ipv4Address.Read(_b[Field.Destination..]); set => value.Write(_b[Field.Destination..]); }
    public Span<byte> Options => _b[MinLength..HeaderLength];
    public Span<byte> Header => _b[..HeaderLength];
    public Span<byte> Payload => _b[HeaderLength..TotalLength];

    public void SetVersionAndHeaderLength(int headerLength) => _b[Field.VersionIhl] = (byte)(0x40 | (headerLength / 4));

    public bool VerifyChecksum() => InternetChecksum.IsValid(Header);

    public void FillChecksum()
    {
        Checksum = 0;
        Checksum = InternetChecksum.Compute(Header);
    }

    /// <summary>ip_decrease_ttl(): TTL minus one with the RFC 1624 incremental checksum update.</summary>
    public void DecreaseTtl()
    {
        ushort oldWord = Be16(Field.Ttl);
        _b[Field.Ttl]--;
        Checksum = InternetChecksum.Update(Checksum, oldWord, Be16(Field.Ttl));
    }

    private ushort Be16(int at) => BinaryPrimitives.ReadUInt16BigEndian(_b[at..]);
    private void SetBe16(int at, ushort v) => BinaryPrimitives.WriteUInt16BigEndian(_b[at..], v);
}

/// <summary>The meaning of an IPv4 header, options excluded.</summary>
public readonly record struct Ipv4Repr(
    Ipv4Address Source,
    Ipv4Address Destination,
    byte Protocol,
    int PayloadLength,
    byte Ttl = 64,
    byte Tos = 0,
    ushort Identification = 0,
    bool DontFragment = false,
    bool MoreFragments = false,
    int FragmentOffset = 0)
{
    public const int HeaderLength = Ipv4HeaderView.MinLength;

    public static bool TryParse(Span<byte> bytes, out Ipv4Repr repr, bool verifyChecksum = true)
    {
        repr = default;
        if (!Ipv4HeaderView.TryCreate(bytes, out var v)) return false;
        if (verifyChecksum && !v.VerifyChecksum()) return false;
        repr = new(v.Source, v.Destination, v.Protocol, v.TotalLength - v.HeaderLength, v.Ttl, v.Tos,
            v.Identification, v.DontFragment, v.MoreFragments, v.FragmentOffset);
        return true;
    }

    /// <summary>Writes a 20-byte header with its checksum.</summary>
    public void Emit(Span<byte> b)
    {
        var v = Ipv4HeaderView.ForEmit(b);
        v.SetVersionAndHeaderLength(HeaderLength);
        v.Tos = Tos;
        v.TotalLength = (ushort)(HeaderLength + PayloadLength);
        v.Identification = Identification;
        v.FlagsAndOffset = (ushort)((DontFragment ? Ipv4HeaderView.FlagDf : 0)
            | (MoreFragments ? Ipv4HeaderView.FlagMf : 0) | (FragmentOffset / 8));
        v.Ttl = Ttl;
        v.Protocol = Protocol;
        v.Source = Source;
        v.Destination = Destination;
        v.FillChecksum();
    }

    public override string ToString()
    {
        var flags = DontFragment ? "[DF]" : MoreFragments ? "[+]" : "[none]";
        return $"IP (tos 0x{Tos:x}, ttl {Ttl}, id {Identification}, offset {FragmentOffset}, flags {flags}, proto {Protocol}, length {HeaderLength + PayloadLength}) {Source} > {Destination}";
    }
}
