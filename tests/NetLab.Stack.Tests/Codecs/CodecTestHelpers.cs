using CsCheck;
using NetLab.Core.Addressing;

namespace NetLab.Stack.Tests.Codecs;

internal static class CodecTestHelpers
{
    /// <summary>A buffer of stale bytes (0xA5), so that a field the code forgets to write shows up in the comparison.</summary>
    public static byte[] Stale(int length) => Enumerable.Repeat((byte)0xA5, length).ToArray();

    /// <summary><paramref name="fixture"/> with <paramref name="count"/> bytes from <paramref name="at"/> overwritten by 0xA5.</summary>
    public static byte[] WithStaleHeader(byte[] fixture, int at, int count)
    {
        var b = (byte[])fixture.Clone();
        b.AsSpan(at, count).Fill(0xA5);
        return b;
    }

    public static readonly Gen<MacAddress> GenMac = Gen.ULong[0, 0xFFFF_FFFF_FFFF].Select(v => new MacAddress(v));
    public static readonly Gen<Ipv4Address> GenIp = Gen.UInt.Select(v => new Ipv4Address(v));

    /// <summary>
    /// Inputs for "never throws": random bytes, and fixtures with a few bytes overwritten or cut short
    /// (random bytes alone almost never get past the first check of a View).
    /// </summary>
    public static Gen<byte[]> Fuzz(params byte[][] seeds) => Gen.Frequency(
        (1, Gen.Byte.Array[0, 80]),
        (3, Gen.Select(Gen.Int[0, seeds.Length - 1], Gen.Select(Gen.Int[0, 10_000], Gen.Byte).Array[1, 6], Gen.Int[0, 10_000])
            .Select((i, edits, cut) =>
            {
                var b = (byte[])seeds[i].Clone();
                foreach (var (at, v) in edits) b[at % b.Length] = v;
                return b[..(cut % (b.Length + 1))];
            })));
}
