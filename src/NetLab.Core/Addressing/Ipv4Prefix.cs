namespace NetLab.Core.Addressing;

/// <summary>
/// An address with a prefix length, as "ip addr add 10.0.1.2/24" takes it (RFC 4632 CIDR):
/// the host part is kept, <see cref="Network"/> strips it.
/// </summary>
public readonly record struct Ipv4Prefix
{
    public Ipv4Address Address { get; }
    public int Length { get; }

    public Ipv4Prefix(Ipv4Address address, int length)
    {
        if ((uint)length > 32) throw new ArgumentOutOfRangeException(nameof(length), $"prefix length {length} is out of range 0-32");
        Address = address;
        Length = length;
    }

    public uint MaskValue => Length == 0 ? 0 : uint.MaxValue << (32 - Length);
    public Ipv4Address Mask => new(MaskValue);
    public Ipv4Address Network => new(Address.Value & MaskValue);
    /// <summary>All host bits set; for /31 and /32 there is none (RFC 3021), and Linux adds none.</summary>
    public Ipv4Address Broadcast => new(Address.Value | ~MaskValue);
    public bool HasBroadcast => Length < 31;
    /// <summary>Assignable host addresses: 2^(32-len) - 2 (network and broadcast excluded); /31 has 2, /32 has 1.</summary>
    public long UsableHosts => Length switch { 32 => 1, 31 => 2, _ => (1L << (32 - Length)) - 2 };
    public Ipv4Address FirstHost => Length >= 31 ? Network : Network + 1;
    public Ipv4Address LastHost => Length >= 31 ? Broadcast : new(Broadcast.Value - 1);
    public Ipv4Prefix NetworkPrefix => new(Network, Length);

    public bool Contains(Ipv4Address a) => ((a.Value ^ Address.Value) & MaskValue) == 0;

    /// <summary>The prefix length of a contiguous netmask (255.255.255.0 → 24); false if not contiguous.</summary>
    public static bool TryMaskToLength(Ipv4Address mask, out int length)
    {
        uint inverted = ~mask.Value;
        length = 32 - System.Numerics.BitOperations.PopCount(inverted);
        return (inverted & (inverted + 1)) == 0;
    }

    /// <summary>Parses "a.b.c.d/len" or a bare address (as /32). <paramref name="error"/> says what is wrong.</summary>
    public static bool TryParse(string s, out Ipv4Prefix prefix, out string? error)
    {
        prefix = default;
        error = null;
        int slash = s.IndexOf('/');
        var addrText = slash < 0 ? s : s[..slash];
        if (!Ipv4Address.TryParse(addrText, out var addr)) { error = $"'{addrText}' is not an IPv4 address"; return false; }
        int len = 32;
        if (slash >= 0)
        {
            var lenText = s[(slash + 1)..];
            if (!int.TryParse(lenText, System.Globalization.NumberStyles.None, null, out len))
            {
                if (Ipv4Address.TryParse(lenText, out var mask) && TryMaskToLength(mask, out len)) { }
                else { error = $"'{lenText}' is not a prefix length"; return false; }
            }
            if (len > 32) { error = $"prefix length /{len} is out of range 0-32"; return false; }
        }
        prefix = new(addr, len);
        return true;
    }

    public static Ipv4Prefix Parse(string s) =>
        TryParse(s, out var p, out var error) ? p : throw new FormatException(error);

    public override string ToString() => $"{Address}/{Length}";
}
