using NetLab.Core;
using NetLab.Core.Addressing;
using NetLab.Core.Randomness;
using NetLab.Stack.Tcp;

namespace NetLab.Stack.Tests.Tcp;

public class SecureSequenceTests
{
    private static readonly TcpSecrets Secrets = TcpSecrets.Create(new RandomStreams(42).Stream("h1/tcp/secrets"));
    private static readonly Ipv4Address Local = Ipv4Address.Parse("10.0.0.1");
    private static readonly Ipv4Address Remote = Ipv4Address.Parse("10.0.0.2");
    private const ushort LocalPort = 40000, RemotePort = 80;

    /// <summary>2025-06-15 12:00:00 UTC as CLOCK_REALTIME nanoseconds, a multiple of 64.</summary>
    private const long Realtime = 1_749_988_800_000_000_000;

    private static uint Isn(long realtimeNs) =>
        SecureSequence.SecureTcpSeq(Secrets, Local, Remote, LocalPort, RemotePort, realtimeNs).Value;

    /// <summary>
    /// The __be32/__be16 fields cast to u32 on a little-endian CPU, packed by siphash_3u32, are the wire bytes
    /// saddr, daddr, dport, sport: so Linux hashes the 12 bytes below.
    /// </summary>
    [Fact]
    public void SecureTcpSeq_HashesTheWireBytesOfAddressesThenDportThenSport()
    {
        // 10.0.0.1, 10.0.0.2, dport 80, sport 40000 (0x9c40)
        byte[] input = Hex.Parse("0a000001 0a000002 0050 9c40");
        Assert.Equal((uint)SipHash.Hash(input, Secrets.NetSecret), Isn(0));
    }

    [Fact]
    public void SecureTcpSeq_AdvancesByOneEvery64Ns()
    {
        uint isn = Isn(Realtime);
        Assert.Equal(isn, Isn(Realtime + 63));
        Assert.Equal(isn + 1, Isn(Realtime + 64));
        Assert.Equal(isn + 1, Isn(Realtime + 127));
        Assert.Equal(isn + 2, Isn(Realtime + 128));
        for (long k = 0; k < 10_000; k += 37) Assert.Equal(unchecked(isn + (uint)k), Isn(Realtime + 64 * k));
        Assert.Equal(unchecked(isn + 15_625_000), Isn(Realtime + 1_000_000_000)); // 15.625 M per second
    }

    [Fact]
    public void SecureTcpSeq_WrapsModulo2To32_Every2To38Ns()
    {
        uint isn = Isn(Realtime);
        Assert.Equal(isn, Isn(Realtime + (1L << 38)));                 // 274.877906944 s
        Assert.Equal(unchecked(isn + 0x8000_0000), Isn(Realtime + (1L << 37)));
        Assert.Equal(unchecked(isn - 1), Isn(Realtime + (1L << 38) - 64));
    }

    [Fact]
    public void SecureTcpSeq_DependsOnEveryTupleFieldTheOrderAndTheKey()
    {
        var other = TcpSecrets.Create(new RandomStreams(43).Stream("h1/tcp/secrets"));
        uint isn = Isn(Realtime);
        uint[] variants =
        [
            SecureSequence.SecureTcpSeq(Secrets, Local + 1, Remote, LocalPort, RemotePort, Realtime).Value,
            SecureSequence.SecureTcpSeq(Secrets, Local, Remote + 1, LocalPort, RemotePort, Realtime).Value,
            SecureSequence.SecureTcpSeq(Secrets, Local, Remote, LocalPort + 1, RemotePort, Realtime).Value,
            SecureSequence.SecureTcpSeq(Secrets, Local, Remote, LocalPort, RemotePort + 1, Realtime).Value,
            SecureSequence.SecureTcpSeq(Secrets, Remote, Local, RemotePort, LocalPort, Realtime).Value,
            SecureSequence.SecureTcpSeq(Secrets, Local, Remote, RemotePort, LocalPort, Realtime).Value,
            SecureSequence.SecureTcpSeq(other, Local, Remote, LocalPort, RemotePort, Realtime).Value,
        ];
        Assert.DoesNotContain(isn, variants);
        Assert.Equal(variants.Length, variants.Distinct().Count());
    }

    [Fact]
    public void SecureTcpTsOff_HashesTheTwoAddressesWireBytes()
    {
        byte[] input = Hex.Parse("0a000001 0a000002");
        Assert.Equal((uint)SipHash.Hash(input, Secrets.TsSecret), SecureSequence.SecureTcpTsOff(Secrets, Local, Remote, 1));
    }

    /// <summary>
    /// No port goes into the hash: every connection between two addresses shares one offset. Each direction
    /// and each other address pair has its own.
    /// </summary>
    [Fact]
    public void SecureTcpTsOff_IsPerOrderedAddressPair()
    {
        uint off = SecureSequence.SecureTcpTsOff(Secrets, Local, Remote, 1);
        Assert.Equal(off, SecureSequence.SecureTcpTsOff(Secrets, Local, Remote, 1));
        uint[] others =
        [
            SecureSequence.SecureTcpTsOff(Secrets, Remote, Local, 1),
            SecureSequence.SecureTcpTsOff(Secrets, Local, Remote + 1, 1),
            SecureSequence.SecureTcpTsOff(Secrets, Local + 1, Remote, 1),
            SecureSequence.SecureTcpTsOff(TcpSecrets.Create(new RandomStreams(43).Stream("h1/tcp/secrets")), Local, Remote, 1),
        ];
        Assert.DoesNotContain(off, others);
        // The ISN key is a different key: the two hashes of the same addresses are unrelated.
        Assert.NotEqual(SipHash.Hash2U32(1, 2, Secrets.NetSecret), SipHash.Hash2U32(1, 2, Secrets.TsSecret));
    }

    [Theory]
    [InlineData(0)] // timestamps off
    [InlineData(2)] // timestamps without random offsets
    public void SecureTcpTsOff_IsZeroUnlessTcpTimestampsIs1(int tcpTimestamps) =>
        Assert.Equal(0u, SecureSequence.SecureTcpTsOff(Secrets, Local, Remote, tcpTimestamps));

    [Fact]
    public void TcpSecrets_AreDeterministicPerStream()
    {
        var a = TcpSecrets.Create(new RandomStreams(7).Stream("h1/tcp/secrets"));
        var b = TcpSecrets.Create(new RandomStreams(7).Stream("h1/tcp/secrets"));
        var c = TcpSecrets.Create(new RandomStreams(7).Stream("h2/tcp/secrets"));
        SipKey[] Keys(TcpSecrets s) => [s.NetSecret, s.TsSecret, s.SyncookieSecret0, s.SyncookieSecret1];
        Assert.Equal(Keys(a), Keys(b));
        Assert.Equal(4, Keys(a).Distinct().Count());
        Assert.Empty(Keys(a).Intersect(Keys(c)));
    }

    [Fact]
    public void SecureTcpSeq_AllocatesNothing()
    {
        uint sink = Isn(Realtime) + SecureSequence.SecureTcpTsOff(Secrets, Local, Remote, 1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
            sink += Isn(Realtime + i) + SecureSequence.SecureTcpTsOff(Secrets, Local, Remote, 1);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
