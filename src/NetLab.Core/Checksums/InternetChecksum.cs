using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NetLab.Core.Addressing;

namespace NetLab.Core.Checksums;

/// <summary>
/// The Internet checksum: RFC 1071 one's-complement sum, and RFC 1624 incremental update.
/// Sums are kept as 64-bit accumulators of big-endian 16-bit words, folded at the end.
/// </summary>
public static class InternetChecksum
{
    /// <summary>Adds <paramref name="data"/> to a running sum (RFC 1071 §4.1). Only the last chunk may be odd-sized.</summary>
    public static ulong Add(ulong sum, ReadOnlySpan<byte> data)
    {
        if (!BitConverter.IsLittleEndian) return sum + AddBigEndian(data);
        // RFC 1071 §2(B), byte-order independence: sum the words in the CPU's (little-endian) order, 16 bytes
        // per step in two accumulators of 32-bit halves (no carry can be lost), fold, then swap the two bytes.
        ref byte r = ref MemoryMarshal.GetReference(data);
        int n = data.Length, i = 0;
        ulong s0 = 0, s1 = 0;
        if (Vector256.IsHardwareAccelerated && n >= 64)
        {
            // 16 words a step, widened into 32-bit lanes; a lane gains at most 2·0xFFFF per step, so flushing
            // every 16384 steps (256 KiB) keeps it from overflowing.
            while (i + 32 <= n)
            {
                var acc = Vector256<uint>.Zero;
                int stop = Math.Min(n - 32, i + 32 * 16384);
                for (; i <= stop; i += 32)
                {
                    var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref Unsafe.Add(ref r, i)).AsUInt16());
                    acc += lo + hi;
                }
                s0 += Vector256.Sum(Vector256.WidenLower(acc) + Vector256.WidenUpper(acc));
            }
        }
        for (; i + 16 <= n; i += 16)
        {
            ulong a = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref r, i));
            ulong b = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref r, i + 8));
            s0 += (a & 0xFFFF_FFFF) + (a >> 32);
            s1 += (b & 0xFFFF_FFFF) + (b >> 32);
        }
        if (i + 8 <= n)
        {
            ulong a = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref r, i));
            s0 += (a & 0xFFFF_FFFF) + (a >> 32);
            i += 8;
        }
        if (i + 4 <= n) { s0 += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref r, i)); i += 4; }
        if (i + 2 <= n) { s1 += Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref r, i)); i += 2; }
        if (i < n) s1 += Unsafe.Add(ref r, i); // a lone last byte is the high byte of a big-endian word: low here
        ushort folded = Fold(s0 + s1);
        return sum + BinaryPrimitives.ReverseEndianness(folded);
    }

    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="destination"/> and adds it to a running sum in the same pass,
    /// as csum_partial_copy does: segmentation reads each payload byte once instead of twice. Same rules as
    /// <see cref="Add(ulong, ReadOnlySpan{byte})"/>.
    /// </summary>
    public static ulong CopyAndAdd(ulong sum, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("destination is shorter than source", nameof(destination));
        if (!BitConverter.IsLittleEndian || !Vector256.IsHardwareAccelerated || source.Length < 64)
        {
            source.CopyTo(destination);
            return Add(sum, source);
        }
        ref byte r = ref MemoryMarshal.GetReference(source);
        ref byte w = ref MemoryMarshal.GetReference(destination);
        int n = source.Length, i = 0;
        ulong s0 = 0;
        while (i + 32 <= n)
        {
            var acc = Vector256<uint>.Zero;
            int stop = Math.Min(n - 32, i + 32 * 16384); // flush before a 32-bit lane can overflow (see Add)
            for (; i <= stop; i += 32)
            {
                var v = Vector256.LoadUnsafe(ref Unsafe.Add(ref r, i));
                v.StoreUnsafe(ref Unsafe.Add(ref w, i));
                var (lo, hi) = Vector256.Widen(v.AsUInt16());
                acc += lo + hi;
            }
            s0 += Vector256.Sum(Vector256.WidenLower(acc) + Vector256.WidenUpper(acc));
        }
        ushort folded = Fold(s0);
        sum += BinaryPrimitives.ReverseEndianness(folded);
        // The tail (under 32 bytes, possibly odd) by the scalar path; i is a multiple of 32, so word alignment holds.
        source[i..].CopyTo(destination[i..]);
        return Add(sum, source[i..]);
    }

    private static ulong AddBigEndian(ReadOnlySpan<byte> data)
    {
        ulong s = 0;
        int i = 0;
        for (; i + 2 <= data.Length; i += 2) s += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        if (i < data.Length) s += (ulong)data[i] << 8;
        return s;
    }

    public static ulong Add(ulong sum, ushort word) => sum + word;

    /// <summary>Folds the carries into 16 bits (the end-around carry of RFC 1071 §2).</summary>
    public static ushort Fold(ulong sum)
    {
        while ((sum >> 16) != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)sum;
    }

    /// <summary>The checksum field value: the complement of the folded sum.</summary>
    public static ushort Finish(ulong sum) => (ushort)~Fold(sum);

    public static ushort Compute(ReadOnlySpan<byte> data) => Finish(Add(0, data));

    /// <summary>True when data that includes its checksum field sums to 0xFFFF.</summary>
    public static bool IsValid(ReadOnlySpan<byte> data) => Fold(Add(0, data)) == 0xFFFF;

    /// <summary>The TCP/UDP pseudo-header sum (RFC 768, RFC 9293 §3.1).</summary>
    public static ulong PseudoHeader(Ipv4Address source, Ipv4Address destination, byte protocol, int length) =>
        (ulong)(source.Value >> 16) + (source.Value & 0xFFFF)
        + (destination.Value >> 16) + (destination.Value & 0xFFFF)
        + protocol + (uint)length;

    /// <summary>
    /// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for a 16-bit field changing from m to m'
    /// (Linux: csum_replace2). Used when a router decrements the TTL.
    /// </summary>
    public static ushort Update(ushort checksum, ushort oldWord, ushort newWord)
    {
        ulong sum = (ushort)~checksum + (ulong)(ushort)~oldWord + newWord;
        return (ushort)~Fold(sum);
    }

    /// <summary>RFC 1624 update for a 32-bit field (e.g. an address rewritten by NAT; Linux csum_replace4).</summary>
    public static ushort Update(ushort checksum, uint oldValue, uint newValue)
    {
        ulong sum = (ushort)~checksum
            + (ulong)(ushort)~(oldValue >> 16) + (ushort)~(oldValue & 0xFFFF)
            + (newValue >> 16) + (newValue & 0xFFFF);
        return (ushort)~Fold(sum);
    }
}
