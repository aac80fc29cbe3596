using System.Buffers.Binary;
using CsCheck;
using NetLab.Core;
using NetLab.Core.Addressing;
using NetLab.Core.Randomness;
using NetLab.Stack.Tcp;

namespace NetLab.Stack.Tests.Tcp;

public class SynCookieTests
{
    private static readonly TcpSecrets Secrets = TcpSecrets.Create(new RandomStreams(42).Stream("srv/tcp/secrets"));
    // The SYN and the ACK come from the client: saddr, sport are the client's (cookie_hash() order).
    private static readonly Ipv4Address Client = Ipv4Address.Parse("10.0.0.1");
    private static readonly Ipv4Address Server = Ipv4Address.Parse("10.0.0.2");
    private const ushort ClientPort = 40000, ServerPort = 80;
    private const uint ClientIsn = 0x7b0a2123;

    private const long Ms = 1_000_000, Sec = 1_000_000_000;
    /// <summary>
    /// jiffies_64 boots at INITIAL_JIFFIES = 2^32 - 300 000 (HZ = 1000), 47.296 s into a 60 s period, so
    /// tcp_cookie_time() first moves 12.704 s after boot.
    /// </summary>
    private const long FirstRollover = 12_704 * Ms;
    private const uint CountAtBoot = 71_577; // (2^32 - 300 000) / 60 000
    private static long PeriodStart(int k) => FirstRollover + k * 60 * Sec;

    private static readonly ushort[] MssTab = [536, 1300, 1440, 1460];

    private static SeqNum Make(long nowNs, ushort clientMss = 1460, uint isn = ClientIsn) =>
        SynCookies.CookieV4InitSequence(Secrets, Client, Server, ClientPort, ServerPort, new(isn), ref clientMss, nowNs);

    /// <summary>The client's ACK to the cookie SYN-ACK: seq = ISN + 1, ack = cookie + 1.</summary>
    private static bool Check(SeqNum cookie, long nowNs, out ushort mss) =>
        SynCookies.CookieV4Check(Secrets, Client, Server, ClientPort, ServerPort,
            new(ClientIsn + 1), cookie + 1, nowNs, out mss);

    // ---- the minute counter ----

    [Fact]
    public void TcpCookieTime_StartsFromInitialJiffies_AndMovesEvery60sFrom12_704s()
    {
        Assert.Equal(CountAtBoot, SynCookies.TcpCookieTime(0));
        Assert.Equal(CountAtBoot, SynCookies.TcpCookieTime(FirstRollover - 1));
        Assert.Equal(CountAtBoot + 1, SynCookies.TcpCookieTime(FirstRollover));
        Assert.Equal(CountAtBoot + 1, SynCookies.TcpCookieTime(PeriodStart(1) - 1));
        Assert.Equal(CountAtBoot + 2, SynCookies.TcpCookieTime(PeriodStart(1)));
        Assert.Equal(CountAtBoot + 1 + 1440, SynCookies.TcpCookieTime(PeriodStart(1440))); // a day later
    }

    // ---- encoding ----

    /// <summary>
    /// secure_tcp_syn_cookie(): H(0, 0) + ISN + (count &lt;&lt; 24) + ((H(count, 1) + mssind) mod 2^24), where H
    /// hashes the bytes saddr, daddr, dport, sport (wire order) and le32(count) under syncookie_secret[k].
    /// </summary>
    [Fact]
    public void CookieV4InitSequence_IsLinuxLayout()
    {
        long now = PeriodStart(3) + 17 * Sec;
        uint count = CountAtBoot + 4;
        uint H(SipKey key, uint c)
        {
            byte[] input = [.. Hex.Parse("0a000001 0a000002 0050 9c40"), 0, 0, 0, 0];
            BinaryPrimitives.WriteUInt32LittleEndian(input.AsSpan(12), c);
            return (uint)SipHash.Hash(input, key);
        }
        for (uint mssind = 0; mssind < 4; mssind++)
        {
            uint expected = unchecked(H(Secrets.SyncookieSecret0, 0) + ClientIsn + (count << 24)
                + ((H(Secrets.SyncookieSecret1, count) + mssind) & 0xFFFFFF));
            Assert.Equal(expected, Make(now, MssTab[mssind]).Value);
        }
    }

    [Theory]
    [InlineData(0, 536)]
    [InlineData(88, 536)]
    [InlineData(535, 536)] // below the table: still index 0, so the SYN-ACK advertises more than the client's MSS
    [InlineData(536, 536)]
    [InlineData(1299, 536)]
    [InlineData(1300, 1300)]
    [InlineData(1439, 1300)]
    [InlineData(1440, 1440)]
    [InlineData(1452, 1440)] // PPPoE over some DSL
    [InlineData(1459, 1440)]
    [InlineData(1460, 1460)]
    [InlineData(1461, 1460)]
    [InlineData(8960, 1460)]
    [InlineData(65535, 1460)]
    public void CookieV4InitSequence_ChoosesLargestTableEntryNotAboveClientMss_AndTheAckDecodesIt(int clientMss, int chosen)
    {
        ushort mss = (ushort)clientMss;
        var cookie = SynCookies.CookieV4InitSequence(Secrets, Client, Server, ClientPort, ServerPort, new(ClientIsn), ref mss, 5 * Sec);
        Assert.Equal(chosen, mss);
        Assert.True(Check(cookie, 5 * Sec, out var decoded));
        Assert.Equal(chosen, decoded);
    }

    // ---- age: the period it was made in and the next one ----

    [Fact]
    public void Cookie_MadeAtThePeriodStart_IsValidFor120sLessOneJiffy()
    {
        long made = PeriodStart(2);
        var cookie = Make(made);
        foreach (long later in new[] { 0, 1, 59 * Sec, 60 * Sec, 119 * Sec, 120 * Sec - 1 })
        {
            Assert.True(Check(cookie, made + later, out var mss), $"+{later} ns");
            Assert.Equal(1460, mss);
        }
        Assert.False(Check(cookie, made + 120 * Sec, out var bad));
        Assert.Equal(0, bad);
        Assert.False(Check(cookie, made + 180 * Sec, out _));
    }

    [Fact]
    public void Cookie_MadeAtThePeriodEnd_IsValidForJustOver60s()
    {
        long made = PeriodStart(3) - 1;
        var cookie = Make(made);
        Assert.True(Check(cookie, made + 1, out _));
        Assert.True(Check(cookie, made + 60 * Sec, out _));
        Assert.False(Check(cookie, made + 60 * Sec + 1, out _));
    }

    [Fact]
    public void Cookie_MadeAtBoot_IsValidUntil72_704s()
    {
        var cookie = Make(0);
        Assert.True(Check(cookie, PeriodStart(1) - 1, out _));
        Assert.False(Check(cookie, PeriodStart(1), out _));
    }

    [Fact]
    public void Cookie_FromAFuturePeriod_IsRejected()
    {
        var cookie = Make(PeriodStart(5));
        Assert.False(Check(cookie, PeriodStart(5) - 1, out _));
    }

    // ---- tampering ----

    [Fact]
    public void Cookie_ForAnotherTuple_IsRejected()
    {
        long now = PeriodStart(0) + Sec;
        var cookie = Make(now);
        (Ipv4Address s, Ipv4Address d, ushort sp, ushort dp)[] others =
        [
            (Client + 1, Server, ClientPort, ServerPort),
            (Client, Server + 1, ClientPort, ServerPort),
            (Client, Server, ClientPort + 1, ServerPort),
            (Client, Server, ClientPort, ServerPort + 1),
            (Server, Client, ServerPort, ClientPort),
            (Client, Server, ServerPort, ClientPort),
        ];
        foreach (var (s, d, sp, dp) in others)
            Assert.False(SynCookies.CookieV4Check(Secrets, s, d, sp, dp, new(ClientIsn + 1), cookie + 1, now, out _), $"{s}:{sp} > {d}:{dp}");
        var otherHost = TcpSecrets.Create(new RandomStreams(43).Stream("srv/tcp/secrets"));
        Assert.False(SynCookies.CookieV4Check(otherHost, Client, Server, ClientPort, ServerPort, new(ClientIsn + 1), cookie + 1, now, out _));
    }

    [Theory]
    [InlineData(1460, 1, 0)]          // index 3 + 1: out of the table
    [InlineData(536, 0, 1)]           // index 0 - 1: borrows from the count, H(count - 1, 1) no longer cancels
    [InlineData(1460, 0, 4)]
    [InlineData(1460, 1 << 24, 0)]    // count field one ahead: a future period
    [InlineData(1460, -(1 << 24), 0)] // count field one behind: H(count - 1, 1) does not cancel H(count, 1)
    [InlineData(1460, 0, 0x1234567)]
    [InlineData(1460, 0x40000000, 0)]
    [InlineData(1460, 0, 0x40000000)]
    public void Cookie_WithChangedSeqOrAck_IsRejected(int clientMss, int ackDelta, int seqDelta)
    {
        long now = PeriodStart(0) + Sec;
        var cookie = Make(now, (ushort)clientMss);
        Assert.False(SynCookies.CookieV4Check(Secrets, Client, Server, ClientPort, ServerPort,
            new SeqNum(ClientIsn + 1) + seqDelta, cookie + 1 + ackDelta, now, out var mss));
        Assert.Equal(0, mss);
    }

    /// <summary>
    /// What the check binds, as in Linux. It recovers the client ISN from the ACK's own seq, so only ack - seq
    /// counts: both moved together still pass (the client picks its ISN anyway). And the MSS index is added below
    /// the hash, not hashed: an ACK whose ack_seq is k lower or whose seq is k higher than a real one's, for k up
    /// to the index, passes with the table entry k below.
    /// </summary>
    [Theory]
    [InlineData(0, 0, 1460)]
    [InlineData(0x40000000, 0x40000000, 1460)]
    [InlineData(-7, -7, 1460)]
    [InlineData(-1, 0, 1440)]
    [InlineData(-3, 0, 536)]
    [InlineData(0, 2, 1300)]
    [InlineData(-1, 2, 536)]
    public void Cookie_BindsOnlyAckMinusSeq_AndNotTheMssIndex_AsInLinux(int ackDelta, int seqDelta, int decoded)
    {
        long now = PeriodStart(0) + Sec;
        var cookie = Make(now, 1460);
        Assert.True(SynCookies.CookieV4Check(Secrets, Client, Server, ClientPort, ServerPort,
            new SeqNum(ClientIsn + 1) + seqDelta, cookie + 1 + ackDelta, now, out var mss));
        Assert.Equal(decoded, mss);
    }

    // ---- properties ----

    private static readonly Gen<TcpSecrets> GenSecrets = Gen.ULong.Array[8].Select(k =>
        new TcpSecrets(new(k[0], k[1]), new(k[2], k[3]), new(k[4], k[5]), new(k[6], k[7])));
    private static readonly Gen<Ipv4Address> GenIp = Gen.UInt.Select(v => new Ipv4Address(v));
    private static readonly Gen<(Ipv4Address S, Ipv4Address D, ushort Sp, ushort Dp)> GenTuple =
        Gen.Select(GenIp, GenIp, Gen.UShort, Gen.UShort);
    private const long TenYears = 10L * 365 * 24 * 3600 * Sec;

    private static ushort Expected(ushort clientMss) => MssTab.Last(m => m <= clientMss || m == MssTab[0]);

    [Fact]
    public void Cookie_RandomConnections_RoundTripWithinTheirValidity()
    {
        Gen.Select(GenSecrets, GenTuple, Gen.UInt, Gen.UShort, Gen.Long[0, TenYears], Gen.Long[0, 60 * Sec])
            .Sample((secrets, t, isn, clientMss, made, delay) =>
            {
                ushort mss = clientMss;
                var cookie = SynCookies.CookieV4InitSequence(secrets, t.S, t.D, t.Sp, t.Dp, new(isn), ref mss, made);
                Assert.Equal(Expected(clientMss), mss);
                // Within 60 s the count has moved by at most one.
                Assert.True(SynCookies.CookieV4Check(secrets, t.S, t.D, t.Sp, t.Dp, new SeqNum(isn) + 1, cookie + 1,
                    made + delay, out var decoded));
                Assert.Equal(mss, decoded);
            }, iter: 5000);
    }

    /// <summary>
    /// A guessed ACK passes only if its top byte lands in one of 2 of 256 periods and its low 24 bits in one of 4
    /// values: about 2^-31, so none of these samples may pass.
    /// </summary>
    [Fact]
    public void Cookie_RandomAckValues_AreRejected()
    {
        Gen.Select(GenSecrets, GenTuple, Gen.UInt, Gen.UInt, Gen.Long[0, TenYears])
            .Sample((secrets, t, isn, ack, now) =>
            {
                ushort mss = 1460;
                var cookie = SynCookies.CookieV4InitSequence(secrets, t.S, t.D, t.Sp, t.Dp, new(isn), ref mss, now);
                uint delta = unchecked(ack - (cookie.Value + 1));
                if (unchecked(delta + 3) <= 6) return; // the real ACK, or within reach of the unauthenticated MSS index
                Assert.False(SynCookies.CookieV4Check(secrets, t.S, t.D, t.Sp, t.Dp, new SeqNum(isn) + 1, new(ack), now, out _));
            }, iter: 20_000);
    }

    // ---- options in the timestamp ----

    /// <summary>cookie_init_timestamp() at 1 000 005 ms: the 64 ms block starts at 1 000 000.</summary>
    [Theory]
    [InlineData(true, 7, true, false, 1_000_005, 999_959)]    // 0x17 > 5: 1 000 023 is in the future, one block back
    [InlineData(false, 0, false, false, 1_000_005, 999_951)]  // 0x0F, no window scaling
    [InlineData(true, 0, false, false, 1_000_005, 1_000_000)] // 0x00
    [InlineData(true, 5, false, false, 1_000_005, 1_000_005)] // 0x05: exactly now
    [InlineData(true, 7, true, false, 1_000_063, 1_000_023)]
    [InlineData(true, 14, true, true, 1_000_063, 1_000_062)]  // 0x3E
    public void CookieInitTimestamp_ReplacesTheLow6BitsOfTheMsClock(bool wscaleOk, int wscale, bool sack, bool ecn,
        long nowMs, uint tsval)
    {
        var options = new SynCookieTsOptions(wscaleOk, (byte)wscale, sack, ecn);
        Assert.Equal(tsval, SynCookies.CookieInitTimestamp(options, nowMs * Ms + 999_999));
    }

    /// <summary>In the first 64 ms after boot NetLab wraps modulo 2^32 (Linux's u64 arithmetic overflows instead).</summary>
    [Fact]
    public void CookieInitTimestamp_InTheFirst64Ms_WrapsModulo2To32()
    {
        var options = new SynCookieTsOptions(false, 0, false, true); // 0x2F
        Assert.Equal(0xFFFF_FFEFu, SynCookies.CookieInitTimestamp(options, 10 * Ms));
        Assert.Equal(0x2Fu, SynCookies.CookieInitTimestamp(options, 47 * Ms));
    }

    public static TheoryData<SynCookieTsOptions> AllOptions()
    {
        var data = new TheoryData<SynCookieTsOptions>();
        foreach (bool sack in new[] { false, true })
            foreach (bool ecn in new[] { false, true })
            {
                data.Add(new SynCookieTsOptions(false, 0, sack, ecn));
                for (byte ws = 0; ws <= TcpOptionLength.MaxWindowScale; ws++) data.Add(new SynCookieTsOptions(true, ws, sack, ecn));
            }
        return data;
    }

    /// <summary>
    /// Every combination survives the trip: TSval = cookie_init_timestamp() + ts_off on the SYN-ACK, echoed as
    /// the ACK's TSecr, ts_off removed by cookie_tcp_check(), decoded by cookie_timestamp_decode().
    /// </summary>
    [Theory, MemberData(nameof(AllOptions))]
    public void CookieTimestamp_RoundTrips(SynCookieTsOptions options)
    {
        uint tsOff = SecureSequence.SecureTcpTsOff(Secrets, Server, Client, tcpTimestamps: 1);
        foreach (long nowMs in new long[] { 64, 1_000_005, 1_000_063, (1L << 32) + 7, 3_600_000_123 })
        {
            uint ts = SynCookies.CookieInitTimestamp(options, nowMs * Ms);
            Assert.InRange(unchecked((uint)nowMs - ts), 0u, 63u); // never ahead of the TS clock, at most 63 ms behind
            uint echoed = unchecked(ts + tsOff);
            Assert.True(SynCookies.CookieTimestampDecode(new TcpTimestamp(12345, unchecked(echoed - tsOff)),
                tcpTimestamps: 1, tcpSack: 1, tcpWindowScaling: 1, out var decoded));
            Assert.Equal(options, decoded);
        }
    }

    [Fact]
    public void CookieTimestampDecode_WithoutTimestamp_NoOptionsWhateverTheSysctls()
    {
        Assert.True(SynCookies.CookieTimestampDecode(null, 0, 0, 0, out var options));
        Assert.Equal(default, options);
        Assert.True(SynCookies.CookieTimestampDecode(null, 1, 1, 1, out options));
        Assert.Equal(default, options);
    }

    /// <summary>cookie_timestamp_decode()'s checks, in its order: timestamps, then SACK, then window scaling.</summary>
    [Theory]
    [InlineData(0x0Fu, 0, 1, 1, false)] // a timestamp while tcp_timestamps = 0
    [InlineData(0x0Fu, 2, 1, 1, true)]  // tcp_timestamps = 2 still has timestamps
    [InlineData(0x1Fu, 1, 0, 1, false)] // SACK bit, tcp_sack = 0
    [InlineData(0x0Fu, 1, 0, 1, true)]  // no SACK bit, tcp_sack = 0
    [InlineData(0x27u, 1, 1, 0, false)] // window scale 7, tcp_window_scaling = 0
    [InlineData(0x2Fu, 1, 1, 0, true)]  // no window scaling, tcp_window_scaling = 0
    [InlineData(0x1Fu, 1, 1, 1, true)]
    public void CookieTimestampDecode_ChecksTheSysctls(uint tsecr, int tcpTimestamps, int tcpSack, int tcpWindowScaling, bool ok) =>
        Assert.Equal(ok, SynCookies.CookieTimestampDecode(new TcpTimestamp(1, 0x4D2A_8000 | tsecr),
            tcpTimestamps, tcpSack, tcpWindowScaling, out _));

    /// <summary>A TSecr of 0 keeps ts_off 0 and decodes as window scale 0, no SACK, no ECN.</summary>
    [Fact]
    public void CookieTimestampDecode_ZeroTsecr_IsWindowScaleZero()
    {
        Assert.True(SynCookies.CookieTimestampDecode(new TcpTimestamp(1, 0), 1, 1, 1, out var options));
        Assert.Equal(new SynCookieTsOptions(WscaleOk: true, SndWscale: 0, SackOk: false, EcnOk: false), options);
    }

    [Fact]
    public void CookiePaths_AllocateNothing()
    {
        var options = new SynCookieTsOptions(true, 7, true, false);
        long now = PeriodStart(0);
        int ok = 0;
        void Run(int i)
        {
            var cookie = Make(now + i);
            if (Check(cookie, now + i, out _)) ok++;
            uint ts = SynCookies.CookieInitTimestamp(options, now + i);
            if (SynCookies.CookieTimestampDecode(new TcpTimestamp(1, ts), 1, 1, 1, out _)) ok++;
        }
        Run(0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 1; i <= 1000; i++) Run(i);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(2002, ok);
    }
}
