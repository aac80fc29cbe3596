using System.Buffers.Binary;
using CsCheck;
using NetLab.Stack.Tcp;

namespace NetLab.Stack.Tests.Tcp;

public class SipHashTests
{
    /// <summary>The key 00 01 02 .. 0f of the paper's Appendix A and of the reference vectors.</summary>
    private static readonly SipKey PaperKey = new(0x0706050403020100, 0x0f0e0d0c0b0a0908);

    /// <summary>
    /// SipHash-2-4 under <see cref="PaperKey"/> of the messages of length 0 to 63 whose byte i is i (empty, 00,
    /// 00 01, ...): the vectors of the reference implementation (github.com/veorq/SipHash, vectors.h, which lists
    /// each output's bytes little-endian), also used by Linux's siphash KUnit test. Written as the returned
    /// u64. Entry 0 is 726fdb47dd0e0e31; entry 15, a129ca6149be45e5, is the paper's worked example (Appendix A).
    /// </summary>
    private static readonly ulong[] Vectors =
    [
        0x726fdb47dd0e0e31, 0x74f839c593dc67fd, 0x0d6c8009d9a94f5a, 0x85676696d7fb7e2d,
        0xcf2794e0277187b7, 0x18765564cd99a68d, 0xcbc9466e58fee3ce, 0xab0200f58b01d137,
        0x93f5f5799a932462, 0x9e0082df0ba9e4b0, 0x7a5dbbc594ddb9f3, 0xf4b32f46226bada7,
        0x751e8fbc860ee5fb, 0x14ea5627c0843d90, 0xf723ca908e7af2ee, 0xa129ca6149be45e5,
        0x3f2acc7f57c29bdb, 0x699ae9f52cbe4794, 0x4bc1b3f0968dd39c, 0xbb6dc91da77961bd,
        0xbed65cf21aa2ee98, 0xd0f2cbb02e3b67c7, 0x93536795e3a33e88, 0xa80c038ccd5ccec8,
        0xb8ad50c6f649af94, 0xbce192de8a85b8ea, 0x17d835b85bbb15f3, 0x2f2e6163076bcfad,
        0xde4daaaca71dc9a5, 0xa6a2506687956571, 0xad87a3535c49ef28, 0x32d892fad841c342,
        0x7127512f72f27cce, 0xa7f32346f95978e3, 0x12e0b01abb051238, 0x15e034d40fa197ae,
        0x314dffbe0815a3b4, 0x027990f029623981, 0xcadcd4e59ef40c4d, 0x9abfd8766a33735c,
        0x0e3ea96b5304a7d0, 0xad0c42d6fc585992, 0x187306c89bc215a9, 0xd4a60abcf3792b95,
        0xf935451de4f21df2, 0xa9538f0419755787, 0xdb9acddff56ca510, 0xd06c98cd5c0975eb,
        0xe612a3cb9ecba951, 0xc766e62cfcadaf96, 0xee64435a9752fe72, 0xa192d576b245165a,
        0x0a8787bf8ecb74b2, 0x81b3e73d20b49b6f, 0x7fa8220ba3b2ecea, 0x245731c13ca42499,
        0xb78dbfaf3a8d83bd, 0xea1ad565322a1a0b, 0x60e61c23a3795013, 0x6606d7e446282b93,
        0x6ca4ecb15c5f91e1, 0x9f626da15c9625f3, 0xe51b38608ef25f57, 0x958a324ceb064572,
    ];

    private static byte[] Message(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)i)];

    [Fact]
    public void Hash_ReferenceVectors_AllLengths0To63()
    {
        ulong[] actual = [.. Enumerable.Range(0, 64).Select(n => SipHash.Hash(Message(n), PaperKey))];
        Assert.Equal(Vectors, actual);
    }

    [Fact]
    public void Hash_PaperExamples()
    {
        Assert.Equal(0x726fdb47dd0e0e31UL, SipHash.Hash([], PaperKey));
        Assert.Equal(0xa129ca6149be45e5UL, SipHash.Hash(Message(15), PaperKey));
    }

    [Fact]
    public void Hash_UnalignedInput_SameVectors()
    {
        // __siphash_unaligned(): the message need not start on a word boundary.
        var buffer = new byte[65];
        for (int n = 0; n < 64; n++)
        {
            Message(n).CopyTo(buffer, 1);
            Assert.Equal(Vectors[n], SipHash.Hash(buffer.AsSpan(1, n), PaperKey));
        }
    }

    /// <summary>The word entry points, checked as Linux's KUnit test checks them: the same vectors via little-endian words.</summary>
    [Fact]
    public void WordEntryPoints_KernelSelfTestVectors()
    {
        Assert.Equal(Vectors[8], SipHash.Hash1U64(0x0706050403020100, PaperKey));
        Assert.Equal(Vectors[16], SipHash.Hash2U64(0x0706050403020100, 0x0f0e0d0c0b0a0908, PaperKey));
        Assert.Equal(Vectors[8], SipHash.Hash2U32(0x03020100, 0x07060504, PaperKey));
        Assert.Equal(Vectors[12], SipHash.Hash3U32(0x03020100, 0x07060504, 0x0b0a0908, PaperKey));
        Assert.Equal(Vectors[16], SipHash.Hash4U32(0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c, PaperKey));
    }

    /// <summary>siphash_Nu32(a, b, ...) is siphash() of le32(a) le32(b) ..., for any words and key.</summary>
    [Fact]
    public void WordEntryPoints_HashTheirLittleEndianBytes()
    {
        Gen.Select(Gen.ULong, Gen.ULong, Gen.UInt, Gen.UInt, Gen.UInt, Gen.UInt).Sample((k0, k1, a, b, c, d) =>
        {
            var key = new SipKey(k0, k1);
            Span<byte> bytes = stackalloc byte[16];
            BinaryPrimitives.WriteUInt32LittleEndian(bytes, a);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes[4..], b);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes[8..], c);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes[12..], d);
            Assert.Equal(SipHash.Hash(bytes[..8], key), SipHash.Hash2U32(a, b, key));
            Assert.Equal(SipHash.Hash(bytes[..12], key), SipHash.Hash3U32(a, b, c, key));
            Assert.Equal(SipHash.Hash(bytes, key), SipHash.Hash4U32(a, b, c, d, key));
        }, iter: 2000);
    }

    [Fact]
    public void Hash_DependsOnTheKey()
    {
        Assert.NotEqual(SipHash.Hash3U32(1, 2, 3, PaperKey), SipHash.Hash3U32(1, 2, 3, PaperKey with { K0 = PaperKey.K0 ^ 1 }));
        Assert.NotEqual(SipHash.Hash3U32(1, 2, 3, PaperKey), SipHash.Hash3U32(1, 2, 3, PaperKey with { K1 = PaperKey.K1 ^ 1 }));
    }
}
