using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace NetLab.Stack.Tcp;

/// <summary>
/// A 128-bit SipHash key as Linux's <c>siphash_key_t { u64 key[2]; }</c>: <see cref="K0"/> is key bytes 0-7 and
/// <see cref="K1"/> bytes 8-15, each read little-endian (the paper's k0 and k1). The key 00 01 .. 0f of the
/// reference vectors is (0x0706050403020100, 0x0f0e0d0c0b0a0908).
/// </summary>
public readonly record struct SipKey(ulong K0, ulong K1);

/// <summary>
/// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012): two compression rounds per
/// 64-bit message word and four finalization rounds, with the entry points of Linux's lib/siphash.c and
/// include/linux/siphash.h.
/// <para>
/// The word entry points hash the same thing as <see cref="Hash"/> over the little-endian bytes of their
/// arguments, in argument order: Linux packs two u32s into one message word as <c>(u64)second &lt;&lt; 32 |
/// first</c> and ORs a trailing odd u32 into the length word <c>b</c>, which is exactly how the byte loop of
/// <c>__siphash_unaligned()</c> reads those bytes (<c>get_unaligned_le64</c> for full words, the low bytes of
/// <c>b</c> for the tail). So <c>siphash_3u32(a, b, c)</c> is <c>siphash()</c> of the 12 bytes
/// <c>le32(a) le32(b) le32(c)</c>, the in-memory layout of <c>u32[3] { a, b, c }</c> on a little-endian CPU.
/// Linux's siphash KUnit self-test checks the word functions against the byte vectors this way.
/// </para>
/// </summary>
public static class SipHash
{
    /// <summary>Linux: siphash(), <c>__siphash_unaligned()</c>: the message as bytes.</summary>
    public static ulong Hash(ReadOnlySpan<byte> data, in SipKey key)
    {
        var s = new State(key, data.Length);
        int full = data.Length & ~7;
        for (int i = 0; i < full; i += 8)
            s.Compress(BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        ulong tail = 0;
        for (int i = full; i < data.Length; i++)
            tail |= (ulong)data[i] << (8 * (i - full));
        return s.Finish(tail);
    }

    /// <summary>Linux: siphash_1u64(), the 8 bytes le64(first).</summary>
    public static ulong Hash1U64(ulong first, in SipKey key)
    {
        var s = new State(key, 8);
        s.Compress(first);
        return s.Finish(0);
    }

    /// <summary>Linux: siphash_2u64(), the 16 bytes le64(first) le64(second).</summary>
    public static ulong Hash2U64(ulong first, ulong second, in SipKey key)
    {
        var s = new State(key, 16);
        s.Compress(first);
        s.Compress(second);
        return s.Finish(0);
    }

    /// <summary>Linux: siphash_2u32() = siphash_1u64(<c>(u64)second &lt;&lt; 32 | first</c>).</summary>
    public static ulong Hash2U32(uint first, uint second, in SipKey key) =>
        Hash1U64(((ulong)second << 32) | first, key);

    /// <summary>Linux: siphash_3u32(): one word from the first two, the third in the length word's low bytes.</summary>
    public static ulong Hash3U32(uint first, uint second, uint third, in SipKey key)
    {
        var s = new State(key, 12);
        s.Compress(((ulong)second << 32) | first);
        return s.Finish(third);
    }

    /// <summary>Linux: siphash_4u32() = siphash_2u64(<c>second:first</c>, <c>forth:third</c>).</summary>
    public static ulong Hash4U32(uint first, uint second, uint third, uint fourth, in SipKey key) =>
        Hash2U64(((ulong)second << 32) | first, ((ulong)fourth << 32) | third, key);

    /// <summary>The four state words v0-v3 and the length byte: Linux's PREAMBLE, SIPROUND and POSTAMBLE.</summary>
    private struct State
    {
        private ulong _v0, _v1, _v2, _v3;
        private readonly ulong _b;

        // PREAMBLE(len): "somepseudorandomlygeneratedbytes" xor the key; the length's low byte tops the last word.
        public State(in SipKey key, int length)
        {
            _v0 = 0x736f6d6570736575UL ^ key.K0; // SIPHASH_CONST_0
            _v1 = 0x646f72616e646f6dUL ^ key.K1; // SIPHASH_CONST_1
            _v2 = 0x6c7967656e657261UL ^ key.K0; // SIPHASH_CONST_2
            _v3 = 0x7465646279746573UL ^ key.K1; // SIPHASH_CONST_3
            _b = (ulong)length << 56;
        }

        /// <summary>One message word, c = 2 rounds.</summary>
        public void Compress(ulong m)
        {
            _v3 ^= m;
            Round();
            Round();
            _v0 ^= m;
        }

        /// <summary>POSTAMBLE: the last word (length byte | tail bytes), then d = 4 finalization rounds.</summary>
        public ulong Finish(ulong tail)
        {
            Compress(_b | tail);
            _v2 ^= 0xff;
            Round();
            Round();
            Round();
            Round();
            return _v0 ^ _v1 ^ _v2 ^ _v3;
        }

        // SIPHASH_PERMUTATION (SipRound in the paper, §2).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Round()
        {
            _v0 += _v1; _v1 = ulong.RotateLeft(_v1, 13); _v1 ^= _v0; _v0 = ulong.RotateLeft(_v0, 32);
            _v2 += _v3; _v3 = ulong.RotateLeft(_v3, 16); _v3 ^= _v2;
            _v0 += _v3; _v3 = ulong.RotateLeft(_v3, 21); _v3 ^= _v0;
            _v2 += _v1; _v1 = ulong.RotateLeft(_v1, 17); _v1 ^= _v2; _v2 = ulong.RotateLeft(_v2, 32);
        }
    }
}
