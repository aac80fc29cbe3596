using System.Buffers.Binary;
using System.Globalization;

namespace NetLab.Core.Addressing;

/// <summary>A 48-bit IEEE 802 MAC address.</summary>
public readonly record struct MacAddress(ulong Value)
{
    public static readonly MacAddress Broadcast = new(0xFFFF_FFFF_FFFF);
    public static readonly MacAddress Zero = new(0);

    public bool IsBroadcast => Value == 0xFFFF_FFFF_FFFF;
    /// <summary>The I/G bit: least significant bit of the first octet (IEEE 802-2014 §8.2).</summary>
    public bool IsMulticast => ((Value >> 40) & 1) != 0;
    public bool IsUnicast => !IsMulticast;
    public bool IsZero => Value == 0;
    /// <summary>The U/L bit: second least significant bit of the first octet.</summary>
    public bool IsLocallyAdministered => ((Value >> 40) & 2) != 0;

    public static MacAddress Read(ReadOnlySpan<byte> b) =>
        new(((ulong)BinaryPrimitives.ReadUInt16BigEndian(b) << 32) | BinaryPrimitives.ReadUInt32BigEndian(b[2..]));

    public void Write(Span<byte> b)
    {
        BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)(Value >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(b[2..], (uint)Value);
    }

    /// <summary>A random unicast, locally administered address, as Linux's eth_random_addr().</summary>
    public static MacAddress Random(Random rng)
    {
        Span<byte> b = stackalloc byte[6];
        rng.NextBytes(b);
        b[0] &= 0xFE; // clear multicast
        b[0] |= 0x02; // set local assignment
        return Read(b);
    }

    public static bool TryParse(string s, out MacAddress mac)
    {
        mac = default;
        var parts = s.Split(':', '-');
        if (parts.Length != 6) return false;
        ulong v = 0;
        foreach (var p in parts)
        {
            if (p.Length is < 1 or > 2 || !byte.TryParse(p, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var octet))
                return false;
            v = (v << 8) | octet;
        }
        mac = new(v);
        return true;
    }

    public static MacAddress Parse(string s) =>
        TryParse(s, out var m) ? m : throw new FormatException($"'{s}' is not a MAC address");

    public override string ToString()
    {
        Span<byte> b = stackalloc byte[6];
        Write(b);
        return $"{b[0]:x2}:{b[1]:x2}:{b[2]:x2}:{b[3]:x2}:{b[4]:x2}:{b[5]:x2}";
    }
}
