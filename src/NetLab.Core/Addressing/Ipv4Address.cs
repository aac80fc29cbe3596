using System.Buffers.Binary;

namespace NetLab.Core.Addressing;

/// <summary>The historical classes of RFC 791 §3.2 / RFC 1166, as the notes describe them.</summary>
public enum Ipv4AddressClass { A, B, C, D, E }

/// <summary>An IPv4 address; <see cref="Value"/> is the address as a host-order number (10.0.0.1 = 0x0A000001).</summary>
public readonly record struct Ipv4Address(uint Value) : IComparable<Ipv4Address>
{
    public static readonly Ipv4Address Any = new(0);
    public static readonly Ipv4Address Broadcast = new(0xFFFF_FFFF);
    public static readonly Ipv4Address Loopback = new(0x7F00_0001);

    public Ipv4Address(byte a, byte b, byte c, byte d) : this(((uint)a << 24) | ((uint)b << 16) | ((uint)c << 8) | d) { }

    public bool IsUnspecified => Value == 0;
    /// <summary>255.255.255.255, the limited broadcast (RFC 919).</summary>
    public bool IsLimitedBroadcast => Value == 0xFFFF_FFFF;
    /// <summary>127.0.0.0/8 (RFC 1122 §3.2.1.3).</summary>
    public bool IsLoopback => (Value >> 24) == 127;
    /// <summary>224.0.0.0/4, class D (RFC 5771).</summary>
    public bool IsMulticast => (Value >> 28) == 0xE;
    /// <summary>240.0.0.0/4, class E, reserved (RFC 1112 §4); includes the limited broadcast.</summary>
    public bool IsReserved => (Value >> 28) == 0xF;
    /// <summary>169.254.0.0/16 (RFC 3927).</summary>
    public bool IsLinkLocal => (Value >> 16) == 0xA9FE;
    /// <summary>0.0.0.0/8, "this network" (RFC 1122 §3.2.1.3).</summary>
    public bool IsZeroNet => (Value >> 24) == 0;
    /// <summary>10/8, 172.16/12, 192.168/16 (RFC 1918).</summary>
    public bool IsPrivate => (Value >> 24) == 10 || (Value >> 20) == 0xAC1 || (Value >> 16) == 0xC0A8;

    /// <summary>The classful class from the leading bits (0: A, 10: B, 110: C, 1110: D, 1111: E).</summary>
    public Ipv4AddressClass Class => (Value >> 28) switch
    {
        < 0x8 => Ipv4AddressClass.A,
        < 0xC => Ipv4AddressClass.B,
        < 0xE => Ipv4AddressClass.C,
        0xE => Ipv4AddressClass.D,
        _ => Ipv4AddressClass.E,
    };

    /// <summary>The classful prefix length (8, 16, 24) for A-C; null for D and E, which have no mask.</summary>
    public int? ClassfulPrefixLength => Class switch
    {
        Ipv4AddressClass.A => 8,
        Ipv4AddressClass.B => 16,
        Ipv4AddressClass.C => 24,
        _ => null,
    };

    public static Ipv4Address Read(ReadOnlySpan<byte> b) => new(BinaryPrimitives.ReadUInt32BigEndian(b));
    public void Write(Span<byte> b) => BinaryPrimitives.WriteUInt32BigEndian(b, Value);

    /// <summary>Strict dotted-quad parsing: four decimal octets, no leading '+' or spaces.</summary>
    public static bool TryParse(ReadOnlySpan<char> s, out Ipv4Address address)
    {
        address = default;
        uint v = 0;
        int octets = 0;
        int i = 0;
        while (octets < 4)
        {
            int start = i, n = 0;
            while (i < s.Length && s[i] >= '0' && s[i] <= '9' && i - start < 3) { n = n * 10 + (s[i] - '0'); i++; }
            if (i == start || n > 255) return false;
            v = (v << 8) | (uint)n;
            octets++;
            if (octets < 4)
            {
                if (i >= s.Length || s[i] != '.') return false;
                i++;
            }
        }
        if (i != s.Length) return false;
        address = new(v);
        return true;
    }

    public static Ipv4Address Parse(string s) =>
        TryParse(s, out var a) ? a : throw new FormatException($"'{s}' is not an IPv4 address");

    public int CompareTo(Ipv4Address other) => Value.CompareTo(other.Value);

    public static Ipv4Address operator +(Ipv4Address a, int n) => new((uint)(a.Value + n));

    public override string ToString() => $"{Value >> 24}.{(Value >> 16) & 0xFF}.{(Value >> 8) & 0xFF}.{Value & 0xFF}";
}
