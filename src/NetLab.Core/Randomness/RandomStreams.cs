using System.Text;

namespace NetLab.Core.Randomness;

/// <summary>
/// The root of a world's randomness. Every consumer draws from its own named stream derived
/// from (seed, name), so adding a host does not change another host's numbers (ns-3's RngStream).
/// </summary>
public sealed class RandomStreams(ulong seed)
{
    public ulong Seed { get; } = seed;

    public RandomStream Stream(string name) => new(SplitMix(Seed ^ Fnv1a(name)));

    // FNV-1a 64: a fixed, platform-independent hash (string.GetHashCode is randomised per process).
    internal static ulong Fnv1a(string s)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(s)) { h ^= b; h *= 1099511628211UL; }
        return h;
    }

    internal static ulong SplitMix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}

/// <summary>xoshiro256** (Blackman and Vigna), seeded by SplitMix64; identical on every platform.</summary>
public sealed class RandomStream : Random
{
    private ulong _s0, _s1, _s2, _s3;

    internal RandomStream(ulong seed)
    {
        _s0 = RandomStreams.SplitMix(seed);
        _s1 = RandomStreams.SplitMix(_s0);
        _s2 = RandomStreams.SplitMix(_s1);
        _s3 = RandomStreams.SplitMix(_s2);
    }

    /// <summary>A stream from a raw xoshiro256** state, for known-answer tests against the reference code.</summary>
    internal RandomStream(ulong s0, ulong s1, ulong s2, ulong s3) => (_s0, _s1, _s2, _s3) = (s0, s1, s2, s3);

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    public uint NextUInt32() => (uint)(NextUInt64() >> 32);

    /// <summary>Uniform in [0, bound) by Lemire's multiply-shift, as Linux's reciprocal_scale does.</summary>
    public uint NextUInt32(uint bound) => (uint)(((ulong)NextUInt32() * bound) >> 32);

    /// <summary>[0, int.MaxValue): the one value that would equal the bound is redrawn, as .NET's own xoshiro does.</summary>
    public override int Next()
    {
        while (true)
        {
            ulong r = NextUInt64() >> 33;
            if (r != int.MaxValue) return (int)r;
        }
    }

    public override int Next(int maxValue) => maxValue <= 0 ? 0 : (int)NextUInt32((uint)maxValue);

    public override int Next(int minValue, int maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minValue, maxValue);
        return minValue + (int)NextUInt32((uint)(maxValue - minValue));
    }

    /// <summary>[0, long.MaxValue), like <see cref="Next()"/>.</summary>
    public override long NextInt64()
    {
        while (true)
        {
            ulong r = NextUInt64() >> 1;
            if (r != long.MaxValue) return (long)r;
        }
    }
    public override double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
    protected override double Sample() => NextDouble();

    public override void NextBytes(Span<byte> buffer)
    {
        for (int i = 0; i < buffer.Length; i++) buffer[i] = (byte)(NextUInt64() >> 56);
    }

    public override void NextBytes(byte[] buffer) => NextBytes(buffer.AsSpan());
}
