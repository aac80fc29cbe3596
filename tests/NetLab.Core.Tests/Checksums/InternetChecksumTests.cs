using System.Buffers.Binary;
using CsCheck;
using NetLab.Core.Addressing;
using NetLab.Core.Checksums;

namespace NetLab.Core.Tests.Checksums;

public class InternetChecksumTests
{
    [Fact]
    public void Rfc1071_Section3_NumericalExample()
    {
        // RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 2ddf0, which folds to ddf2; the checksum is ~ddf2.
        // (Add keeps a wider accumulator of 32-bit words, so only the folded value is comparable.)
        byte[] data = Hex.Parse("00 01 f2 03 f4 f5 f6 f7");
        Assert.Equal(0xddf2, InternetChecksum.Fold(InternetChecksum.Add(0, data)));
        Assert.Equal(0x220d, InternetChecksum.Compute(data));
    }

    [Theory]
    [InlineData("01", 0xfeff)]             // a lone byte is the high half of a word: ~0x0100
    [InlineData("0102 03", 0xfbfd)]        // ~(0x0102 + 0x0300)
    [InlineData("ffff ff", 0x00ff)]        // 0xffff + 0xff00 = 0x1feff -> 0xff00 -> ~ = 0x00ff
    [InlineData("", 0xffff)]               // an empty sum is +0; its complement is -0
    [InlineData("0001 f203 f4f5 f6f7 08", 0x1a0d)] // the RFC 1071 example plus one odd byte (0xddf2 + 0x0800)
    public void OddAndEdgeLengths(string hex, int expected) =>
        Assert.Equal((ushort)expected, InternetChecksum.Compute(Hex.Parse(hex)));

    [Fact]
    public void OddLength_EqualsPaddingWithAZeroByte()
    {
        Gen.Byte.Array[0, 200].Sample(data =>
        {
            var padded = new byte[data.Length + 1];
            data.CopyTo(padded, 0);
            Assert.Equal(InternetChecksum.Compute(padded), InternetChecksum.Compute(data));
        });
    }

    [Fact]
    public void Add_InEvenChunks_EqualsTheWholeSum()
    {
        Gen.Select(Gen.Byte.Array[0, 300], Gen.Int[0, 150]).Sample((data, half) =>
        {
            int cut = Math.Min(data.Length, half * 2);
            ulong chunked = InternetChecksum.Add(InternetChecksum.Add(0, data.AsSpan(0, cut)), data.AsSpan(cut));
            Assert.Equal(InternetChecksum.Fold(InternetChecksum.Add(0, data)), InternetChecksum.Fold(chunked));
        });
    }

    [Fact]
    public void Add_OnLargeBuffers_FoldsLikeTheReferenceSum()
    {
        // Long enough for the vector accumulator to be flushed (every 256 KiB) and with an odd tail.
        Gen.Select(Gen.Int[600_000, 700_000], Gen.Byte).Sample((length, fill) =>
        {
            var data = new byte[length];
            for (int i = 0; i < data.Length; i++) data[i] = (byte)(fill ^ (i * 31) ^ (i >> 7));
            ulong sum = 0;
            for (int i = 0; i < data.Length; i += 2)
                sum += (ulong)(data[i] << 8 | (i + 1 < data.Length ? data[i + 1] : 0));
            Assert.Equal(InternetChecksum.Fold(sum), InternetChecksum.Fold(InternetChecksum.Add(0, data)));
        }, iter: 20);
    }

    [Fact]
    public void Add_FoldsLikeAWordAtATimeReferenceSum()
    {
        // RFC 1071 §4.1's loop, 16 bits at a time; the 32-bit-word accumulator must fold to the same value.
        Gen.Byte.Array[0, 300].Sample(data =>
        {
            ulong sum = 0;
            for (int i = 0; i < data.Length; i += 2)
                sum += (ulong)(data[i] << 8 | (i + 1 < data.Length ? data[i + 1] : 0));
            Assert.Equal(InternetChecksum.Fold(sum), InternetChecksum.Fold(InternetChecksum.Add(0, data)));
        });
    }

    // IPv4 header of an ICMP echo request 10.77.9.1 -> 10.77.9.2, checksum 0x27fd
    // (captured from Linux 6.18.44 in a netns; tshark: [Header checksum status: Good]).
    private static readonly byte[] CapturedIpv4Header = Hex.Parse("4500 0054 ec0f 4000 4001 27fd 0a4d 0901 0a4d 0902");

    [Fact]
    public void ARealIpv4Header_FromACapture_Validates()
    {
        Assert.True(InternetChecksum.IsValid(CapturedIpv4Header));
        var zeroed = (byte[])CapturedIpv4Header.Clone();
        zeroed[10] = zeroed[11] = 0;
        Assert.Equal(0x27fd, InternetChecksum.Compute(zeroed));
        var corrupted = (byte[])CapturedIpv4Header.Clone();
        corrupted[8] ^= 0x01;
        Assert.False(InternetChecksum.IsValid(corrupted));
    }

    [Fact]
    public void Rfc1624_Section4_Example_GivesPlusZero()
    {
        // RFC 1624 §4: the other header words sum to 0xCD7A; a field changes from 0x5555 to 0x3285.
        // HC = ~(0xCD7A + 0x5555) = 0xDD2F. Recomputation gives ~(0xCD7A + 0x3285) = ~0xFFFF = 0x0000;
        // RFC 1141's eqn. 2 would give 0xFFFF (-0), which a real header can never carry. Eqn. 3 gives 0x0000.
        Assert.Equal(0xDD2F, InternetChecksum.Compute(Hex.Parse("cd7a 5555")));
        Assert.Equal(0x0000, InternetChecksum.Compute(Hex.Parse("cd7a 3285")));
        Assert.Equal(0x0000, InternetChecksum.Update(0xDD2F, (ushort)0x5555, (ushort)0x3285));
    }

    [Fact]
    public void Rfc1624_UnchangedField_LeavesAZeroChecksumAlone()
    {
        // RFC 1624 errata 4782 claims eqn. 3 turns HC = 0x0000 into 0xFFFF when m == m'; with the
        // end-around carry done right (0xFFFF + 0xAAAA + 0x5555 = 0x1FFFE -> 0xFFFF) it stays 0x0000.
        Assert.Equal(0x0000, InternetChecksum.Update(0x0000, (ushort)0x5555, (ushort)0x5555));
    }

    /// <summary>A 20-byte IPv4-like header (version/IHL fixed to 0x45 so it is never all zero) with a valid checksum.</summary>
    private static readonly Gen<byte[]> GenHeader = Gen.Byte.Array[20].Select(h =>
    {
        h[0] = 0x45;
        h[10] = h[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(10), InternetChecksum.Compute(h));
        return h;
    });

    /// <summary>Word values, with the two zeros of one's complement (0x0000 and 0xFFFF) over-represented.</summary>
    private static readonly Gen<ushort> GenWord = Gen.Frequency((4, Gen.UShort), (1, Gen.OneOfConst<ushort>(0x0000, 0xFFFF)));

    private static ushort Word(byte[] h, int i) => BinaryPrimitives.ReadUInt16BigEndian(h.AsSpan(2 * i));

    [Fact]
    public void IncrementalUpdate16_EqualsRecomputation()
    {
        // Any 16-bit word but the checksum (word 5) changes, e.g. the TTL/protocol word when a router forwards.
        Gen.Select(GenHeader, Gen.Int[0, 8].Select(i => i >= 5 ? i + 1 : i), GenWord).Sample((h, i, newWord) =>
        {
            ushort hc = Word(h, 5), old = Word(h, i);
            BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(2 * i), newWord);
            h[10] = h[11] = 0;
            Assert.Equal(InternetChecksum.Compute(h), InternetChecksum.Update(hc, old, newWord));
        }, iter: 5000);
    }

    [Fact]
    public void IncrementalUpdate16_WhenTheNewSumIsMinusZero_GivesPlusZeroLikeRecomputation()
    {
        // Choose m' so that the new one's-complement sum is 0xFFFF, the RFC 1624 §3 boundary
        // where eqn. 2 goes wrong: recomputation then yields checksum 0x0000.
        Gen.Select(GenHeader, Gen.Int[0, 8].Select(i => i >= 5 ? i + 1 : i)).Sample((h, i) =>
        {
            ushort hc = Word(h, 5), old = Word(h, i);
            h[10] = h[11] = 0;
            h[2 * i] = h[2 * i + 1] = 0;
            ushort rest = InternetChecksum.Fold(InternetChecksum.Add(0, h));
            ushort newWord = (ushort)~rest;
            BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(2 * i), newWord);
            Assert.Equal(0x0000, InternetChecksum.Compute(h));
            Assert.Equal(0x0000, InternetChecksum.Update(hc, old, newWord));
        });
    }

    [Fact]
    public void IncrementalUpdate32_EqualsRecomputation()
    {
        // A 32-bit field changes: the source (offset 12) or destination (offset 16) address, as NAT rewrites it.
        Gen.Select(GenHeader, Gen.OneOfConst(12, 16), Gen.UInt).Sample((h, at, newValue) =>
        {
            ushort hc = Word(h, 5);
            uint old = BinaryPrimitives.ReadUInt32BigEndian(h.AsSpan(at));
            BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(at), newValue);
            h[10] = h[11] = 0;
            Assert.Equal(InternetChecksum.Compute(h), InternetChecksum.Update(hc, old, newValue));
        }, iter: 5000);
    }

    [Fact]
    public void PseudoHeader_OfACapturedUdpDatagram_Validates()
    {
        // UDP 10.77.9.1:40000 -> 10.77.9.2:7777, "hi\n", checksum 0xac30
        // (captured from Linux 6.18.44 in a netns with tx checksum offload off; tshark: [Checksum Status: Good]).
        byte[] udp = Hex.Parse("9c40 1e61 000b ac30 6869 0a");
        var src = Ipv4Address.Parse("10.77.9.1");
        var dst = Ipv4Address.Parse("10.77.9.2");
        ulong pseudo = InternetChecksum.PseudoHeader(src, dst, 17, udp.Length);
        Assert.Equal(0xFFFF, InternetChecksum.Fold(InternetChecksum.Add(pseudo, udp)));
        udp[6] = udp[7] = 0;
        Assert.Equal(0xac30, InternetChecksum.Finish(InternetChecksum.Add(pseudo, udp)));
    }

    [Fact]
    public void PseudoHeader_EqualsTheSumOfTheMaterialisedTwelveBytes()
    {
        Gen.Select(Gen.UInt, Gen.UInt, Gen.Byte, Gen.Int[0, 65535]).Sample((s, d, proto, length) =>
        {
            // RFC 768: source, destination, zero, protocol, UDP length.
            var bytes = new byte[12];
            BinaryPrimitives.WriteUInt32BigEndian(bytes, s);
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), d);
            bytes[9] = proto;
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(10), (ushort)length);
            Assert.Equal(
                InternetChecksum.Fold(InternetChecksum.Add(0, bytes)),
                InternetChecksum.Fold(InternetChecksum.PseudoHeader(new Ipv4Address(s), new Ipv4Address(d), proto, length)));
        });
    }

    [Fact]
    public void IsValid_AcceptsEveryComputedChecksum()
    {
        Gen.Byte.Array[2, 100].Select(a => a.Length % 2 == 0 ? a : a[..^1]).Sample(data =>
        {
            data[0] = data[1] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(data, InternetChecksum.Compute(data));
            Assert.True(InternetChecksum.IsValid(data));
        });
    }

    [Fact]
    public void CopyAndAdd_CopiesTheBytes_AndSumsThemAsAddDoes()
    {
        Gen.Select(Gen.Byte.Array[0, 3000], Gen.ULong[0, 0xFFFF_FFFF]).Sample((data, start) =>
        {
            var copy = new byte[data.Length + 3];
            ulong fused = InternetChecksum.CopyAndAdd(start, data, copy);
            Assert.Equal(data, copy[..data.Length]);
            Assert.Equal(InternetChecksum.Fold(InternetChecksum.Add(start, data)), InternetChecksum.Fold(fused));
        });
    }
}
