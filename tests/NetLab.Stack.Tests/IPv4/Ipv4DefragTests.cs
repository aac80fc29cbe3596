using CsCheck;
using NetLab.Core.Addressing;
using NetLab.Core.Checksums;
using NetLab.Core.Packets;
using NetLab.Core.Randomness;
using NetLab.Core.Time;
using NetLab.Stack.Icmp;
using NetLab.Stack.IPv4;
using NetLab.Stack.Link;
using Xunit;

namespace NetLab.Stack.Tests.IPv4;

/// <summary>ip_defrag() against the rules of net/ipv4/ip_fragment.c and inet_fragment.c, in virtual time.</summary>
public sealed class Ipv4DefragTests
{
    private static readonly Ipv4Address Remote = new(10, 0, 0, 2);
    private static readonly Ipv4Address Local = new(10, 0, 0, 1);

    private readonly Scheduler _sched = new();
    private readonly PacketPool _pool = new();
    private readonly Host _host;
    private readonly NetDevice _dev;

    public Ipv4DefragTests()
    {
        (_host, _dev) = NewHost(_sched, _pool);
    }

    private static (Host, NetDevice) NewHost(Scheduler sched, PacketPool pool)
    {
        var host = new Host("h", sched, new RandomStreams(1), pool);
        var dev = host.AddEthernet("eth0");
        dev.SetUp(true);
        host.Ipv4.AddAddress(dev, Ipv4Prefix.Parse("10.0.0.1/24"));
        return (host, dev);
    }

    private Ipv4Defrag Defrag => _host.Ipv4.Defrag;
    private long Ip(IpMib m) => _host.IpStats[m];
    private long Drops(SkbDropReason r) => _host.Drops.GetValueOrDefault(r);

    /// <summary>A fragment of <paramref name="payload"/> as it reaches ip_local_deliver (Data at the IP header).</summary>
    private static Packet Frag(PacketPool pool, NetDevice dev, ReadOnlySpan<byte> payload, int offset, int length, bool more,
        ushort id = 7, byte tos = 0, bool df = false, Ipv4Address? source = null, byte[]? options = null)
    {
        int hlen = Ipv4Repr.HeaderLength + (options?.Length ?? 0);
        var p = pool.Rent(PacketPool.DefaultHeadroom, hlen + length);
        new Ipv4Repr(source ?? Remote, Local, IpProtocol.Udp, length, Tos: tos, Identification: id,
            DontFragment: df, MoreFragments: more, FragmentOffset: offset).Emit(p.Data);
        if (options is not null)
        {
            var v = Ipv4HeaderView.ForEmit(p.Data);
            v.SetVersionAndHeaderLength(hlen);
            v.TotalLength = (ushort)(hlen + length);
            options.CopyTo(p.Data[Ipv4Repr.HeaderLength..]);
            v.FillChecksum();
        }
        payload.Slice(offset, length).CopyTo(p.Data[hlen..]);
        p.NetworkOffset = p.DataOffset;
        p.IngressIfIndex = dev.IfIndex;
        return p;
    }

    private Packet Frag(ReadOnlySpan<byte> payload, int offset, int length, bool more, ushort id = 7, byte tos = 0,
        bool df = false, Ipv4Address? source = null, byte[]? options = null) =>
        Frag(_pool, _dev, payload, offset, length, more, id, tos, df, source, options);

    private Packet? Gather(Packet p) => Defrag.Gather(p, _dev);

    /// <summary>(offset, length, more) for a payload cut into pieces of <paramref name="size"/> bytes, as ip_do_fragment cuts.</summary>
    private static List<(int Offset, int Length, bool More)> Split(int total, int size)
    {
        var list = new List<(int, int, bool)>();
        for (int off = 0; off < total; off += size)
            list.Add((off, Math.Min(size, total - off), off + size < total));
        return list;
    }

    private static byte[] Payload(int length, ulong seed = 42)
    {
        var b = new byte[length];
        new RandomStreams(seed).Stream("payload").NextBytes(b);
        return b;
    }

    /// <summary>Checks the rebuilt header and payload, then frees the datagram.</summary>
    private static void AssertDatagram(Packet whole, byte[] payload, ushort id = 7, int headerLength = Ipv4Repr.HeaderLength, bool df = false)
    {
        Assert.True(Ipv4HeaderView.TryCreate(whole.Data, out var h));
        Assert.True(h.VerifyChecksum());
        Assert.Equal(headerLength, h.HeaderLength);
        Assert.Equal(headerLength + payload.Length, h.TotalLength);
        Assert.Equal(h.TotalLength, whole.Length);
        Assert.Equal(df ? Ipv4HeaderView.FlagDf : 0, h.FlagsAndOffset);
        Assert.False(h.IsFragment);
        Assert.Equal(id, h.Identification);
        Assert.Equal(Remote, h.Source);
        Assert.Equal(Local, h.Destination);
        Assert.Equal(whole.DataOffset, whole.NetworkOffset);
        Assert.True(h.Payload.SequenceEqual(payload));
        whole.Dispose();
    }

    private void AssertNoLeaks()
    {
        // Replies and ICMP errors wait in the ARP queue of the unplugged eth0 until resolution fails (3 s).
        _sched.RunFor(SimDuration.FromSeconds(4));
        Assert.Equal(0, Defrag.QueueCount);
        Assert.Equal(0, Defrag.Memory);
        Assert.Equal(0, _pool.Outstanding);
    }

    // ---------------------------------------------------------------- ordering

    [Fact]
    public void InOrder_Reassembles()
    {
        var data = Payload(3000);
        Assert.Null(Gather(Frag(data, 0, 1480, more: true)));
        Assert.Null(Gather(Frag(data, 1480, 1480, more: true)));
        Assert.Equal(1, Defrag.QueueCount);
        Assert.Equal(2 * (20 + 1480 + 576), Defrag.Memory);
        var whole = Gather(Frag(data, 2960, 40, more: false));
        Assert.NotNull(whole);
        AssertDatagram(whole, data);
        Assert.Equal(3, Ip(IpMib.ReasmReqds));
        Assert.Equal(1, Ip(IpMib.ReasmOKs));
        Assert.Equal(0, Ip(IpMib.ReasmFails));
        Assert.Empty(_host.Drops);
        AssertNoLeaks();
    }

    [Fact]
    public void ReverseOrder_Reassembles()
    {
        var data = Payload(4000);
        var frags = Split(data.Length, 1000);
        Packet? whole = null;
        for (int i = frags.Count - 1; i >= 0; i--)
        {
            Assert.Null(whole);
            whole = Gather(Frag(data, frags[i].Offset, frags[i].Length, frags[i].More));
        }
        Assert.NotNull(whole);
        AssertDatagram(whole, data);
        Assert.Equal(1, Ip(IpMib.ReasmOKs));
        AssertNoLeaks();
    }

    [Fact]
    public void NotesExample_5140ByteDatagramAtMtu1500_Is1480_1480_1480_680()
    {
        // 20 + 5120 bytes at MTU 1500: (1500 - 20) & ~7 = 1480 bytes of data per fragment.
        var data = Payload(5120);
        var frags = Split(data.Length, (1500 - 20) & ~7);
        Assert.Equal([1480, 1480, 1480, 680], frags.Select(f => f.Length));
        Assert.Equal([0, 185, 370, 555], frags.Select(f => f.Offset / 8));
        Packet? whole = null;
        foreach (var (off, len, more) in frags) whole = Gather(Frag(data, off, len, more));
        Assert.NotNull(whole);
        Assert.Equal(5140, whole.Length);
        AssertDatagram(whole, data);
        AssertNoLeaks();
    }

    [Fact]
    public void AnyPermutationAndFragmentSize_ReassemblesTheOriginal()
    {
        var gen =
            from unit in Gen.Int[1, 200]
            from total in Gen.Int[unit * 8 + 1, Math.Min(unit * 8 * 30, 65515)]
            from data in Gen.Byte.Array[total]
            from order in Gen.Shuffle(Enumerable.Range(0, (total + unit * 8 - 1) / (unit * 8)).ToArray())
            select (Size: unit * 8, Data: data, Order: order);
        gen.Sample(t =>
        {
            var sched = new Scheduler();
            var pool = new PacketPool();
            var (host, dev) = NewHost(sched, pool);
            var frags = Split(t.Data.Length, t.Size);
            var results = new List<Packet>();
            foreach (int i in t.Order)
            {
                var whole = host.Ipv4.Defrag.Gather(Frag(pool, dev, t.Data, frags[i].Offset, frags[i].Length, frags[i].More), dev);
                if (whole is not null) results.Add(whole);
            }
            var single = Assert.Single(results);
            AssertDatagram(single, t.Data);
            Assert.Equal(1, host.IpStats[IpMib.ReasmOKs]);
            Assert.Equal(0, host.IpStats[IpMib.ReasmFails]);
            Assert.Equal(0, host.Ipv4.Defrag.QueueCount);
            Assert.Equal(0, host.Ipv4.Defrag.Memory);
            Assert.Equal(0, pool.Outstanding);
        }, iter: 300);
    }

    [Fact]
    public void AnyPermutationWithDuplicates_ReassemblesOnce()
    {
        var gen =
            from unit in Gen.Int[1, 50]
            from total in Gen.Int[unit * 8 + 1, unit * 8 * 12]
            let n = (total + unit * 8 - 1) / (unit * 8)
            from extra in Gen.Int[0, n - 1].Array[0, n - 1]
            from order in Gen.Shuffle(Enumerable.Range(0, n).Concat(extra).ToArray())
            select (Size: unit * 8, Total: total, Order: order);
        gen.Sample(t =>
        {
            var sched = new Scheduler();
            var pool = new PacketPool();
            var (host, dev) = NewHost(sched, pool);
            var data = Payload(t.Total);
            var frags = Split(t.Total, t.Size);
            int done = 0;
            foreach (int i in t.Order)
            {
                var whole = host.Ipv4.Defrag.Gather(Frag(pool, dev, data, frags[i].Offset, frags[i].Length, frags[i].More), dev);
                if (whole is null) continue;
                done++;
                AssertDatagram(whole, data);
            }
            // Fewer than n duplicates cannot complete a second datagram; leftovers time out.
            Assert.Equal(1, done);
            Assert.Equal(0, host.IpExtStats[IpExtMib.ReasmOverlaps]);
            sched.RunUntilIdle();
            Assert.Equal(0, host.Ipv4.Defrag.QueueCount);
            Assert.Equal(0, pool.Outstanding);
        }, iter: 300);
    }

    // ---------------------------------------------------------------- duplicates and overlaps

    [Fact]
    public void ExactDuplicate_IsDroppedAndTheQueueKept()
    {
        var data = Payload(2000);
        Assert.Null(Gather(Frag(data, 0, 1000, more: true)));
        Assert.Null(Gather(Frag(data, 0, 1000, more: true)));
        Assert.Equal(1, Drops(SkbDropReason.DupFrag));
        Assert.Equal(0, Ip(IpMib.ReasmFails));
        Assert.Equal(20 + 1000 + 576, Defrag.Memory);
        var whole = Gather(Frag(data, 1000, 1000, more: false));
        Assert.NotNull(whole);
        AssertDatagram(whole, data);
        Assert.Equal(0, _host.IpExtStats[IpExtMib.ReasmOverlaps]);
        AssertNoLeaks();
    }

    [Fact]
    public void FragmentInsideARun_IsADuplicate()
    {
        // [0,1000) and [1000,2000) arrive in order: one run. [496,1504) lies inside it.
        var data = Payload(3000);
        Gather(Frag(data, 0, 1000, more: true));
        Gather(Frag(data, 1000, 1000, more: true));
        Assert.Null(Gather(Frag(data, 496, 1008, more: true)));
        Assert.Equal(1, Drops(SkbDropReason.DupFrag));
        var whole = Gather(Frag(data, 2000, 1000, more: false));
        Assert.NotNull(whole);
        AssertDatagram(whole, data);
        AssertNoLeaks();
    }

    [Fact]
    public void FragmentAcrossTwoRuns_IsAnOverlap()
    {
        // In reverse order [1000,2000) and [0,1000) stay two runs (only the tail run grows), so the
        // same [496,1504) now straddles runs: inet_frag_queue_insert() calls that an overlap.
        var data = Payload(3000);
        Gather(Frag(data, 1000, 1000, more: true));
        Gather(Frag(data, 0, 1000, more: true));
        Assert.Null(Gather(Frag(data, 496, 1008, more: true)));
        Assert.Equal(1, _host.IpExtStats[IpExtMib.ReasmOverlaps]);
        Assert.Equal(1, Ip(IpMib.ReasmFails));
        Assert.Equal(0, Drops(SkbDropReason.DupFrag));
        AssertNoLeaks();
    }

    [Fact]
    public void PartialOverlap_DiscardsTheWholeQueue()
    {
        var data = Payload(3000);
        Assert.Null(Gather(Frag(data, 0, 1000, more: true)));
        Assert.Null(Gather(Frag(data, 992, 1000, more: true)));
        Assert.Equal(1, _host.IpExtStats[IpExtMib.ReasmOverlaps]);
        Assert.Equal(1, Ip(IpMib.ReasmFails));
        // The queued fragment is consumed (inet_frag_destroy), the offending one dropped.
        Assert.Equal(1, Drops(SkbDropReason.NotSpecified));
        AssertNoLeaks();

        // What follows starts a new queue, which cannot complete without the first fragment.
        Assert.Null(Gather(Frag(data, 1000, 2000, more: false)));
        Assert.Equal(1, Defrag.QueueCount);
        _sched.RunUntil(new SimTime(30_000_000_000));
        Assert.Equal(0, Ip(IpMib.ReasmOKs));
        AssertNoLeaks();
    }

    [Fact]
    public void OverlapAtTheTail_DiscardsTheWholeQueue()
    {
        var data = Payload(3000);
        Gather(Frag(data, 1000, 1000, more: true));
        Gather(Frag(data, 1496, 1504, more: false));
        Assert.Equal(1, _host.IpExtStats[IpExtMib.ReasmOverlaps]);
        Assert.Equal(1, Ip(IpMib.ReasmFails));
        AssertNoLeaks();
    }

    // ---------------------------------------------------------------- malformed fragments

    [Fact]
    public void ZeroLengthFragment_DiscardsTheQueue()
    {
        var data = Payload(2000);
        Gather(Frag(data, 0, 1000, more: true));
        Assert.Null(Gather(Frag(data, 1000, 0, more: true)));
        Assert.Equal(1, Ip(IpMib.ReasmFails));
        AssertNoLeaks();
    }

    [Fact]
    public void NonLastFragmentShorterThan8Bytes_TruncatesToZeroAndDiscardsTheQueue()
    {
        var data = Payload(2000);
        Assert.Null(Gather(Frag(data, 8, 7, more: true)));
        Assert.Equal(1, Ip(IpMib.ReasmFails));
        AssertNoLeaks();
    }

    [Fact]
    public void NonLastFragmentNotAMultipleOf8_IsTruncated()
    {
        // The first fragment carries 13 bytes; only 8 count, the next fragment starts at 8.
        var data = Payload(40);
        Assert.Null(Gather(Frag(data, 0, 13, more: true)));
        var whole = Gather(Frag(data, 8, 32, more: false));
        Assert.NotNull(whole);
        AssertDatagram(whole, data);
        AssertNoLeaks();
    }

    [Fact]
    public void SecondLastFragmentWithAnotherEnd_DiscardsTheQueue()
    {
        var data = Payload(3000);
        Gather(Frag(data, 0, 1000, more: true));
        Gather(Frag(data, 2000, 1000, more: false));
        Assert.Null(Gather(Frag(data, 2000, 992, more: false)));
        Assert.Equal(1, Ip(IpMib.ReasmFails));
        AssertNoLeaks();
    }

    [Fact]
    public void LastFragmentEndingBeforeDataAlreadyQueued_DiscardsTheQueue()
    {
        var data = Payload(3000);
        Gather(Frag(data, 2000, 1000, more: true));
        Assert.Null(Gather(Frag(data, 0, 1000, more: false)));
        Assert.Equal(1, Ip(IpMib.ReasmFails));
        AssertNoLeaks();
    }

    [Fact]
    public void DataBeyondTheKnownEnd_DiscardsTheQueue()
    {
        var data = Payload(3000);
        Gather(Frag(data, 1000, 1000, more: false));
        Assert.Null(Gather(Frag(data, 2000, 1000, more: true)));
        Assert.Equal(1, Ip(IpMib.ReasmFails));
        Assert.Equal(0, _host.IpExtStats[IpExtMib.ReasmOverlaps]);
        AssertNoLeaks();
    }

    [Fact]
    public void ReassembledSizeOver65535_FailsWhenComplete()
    {
        // 20 + 65520 = 65540 bytes: each fragment is legal, the sum is not (ip_frag_reasm, -E2BIG).
        var data = Payload(65520);
        Assert.Null(Gather(Frag(data, 0, 65000, more: true)));
        Assert.Null(Gather(Frag(data, 65000, 520, more: false)));
        Assert.Equal(1, Ip(IpMib.ReasmFails));
        Assert.Equal(0, Ip(IpMib.ReasmOKs));
        AssertNoLeaks();
    }

    [Fact]
    public void ReassembledSizeOf65535_IsAccepted()
    {
        var data = Payload(65515);
        Assert.Null(Gather(Frag(data, 0, 65000, more: true)));
        var whole = Gather(Frag(data, 65000, 515, more: false));
        Assert.NotNull(whole);
        AssertDatagram(whole, data);
        AssertNoLeaks();
    }

    // ---------------------------------------------------------------- header of the result

    [Fact]
    public void FirstFragmentOptions_AreKept()
    {
        byte[] options = [1, 1, 1, 0]; // NOP NOP NOP EOL
        var data = Payload(64);
        Assert.Null(Gather(Frag(data, 32, 32, more: false)));
        var whole = Gather(Frag(data, 0, 32, more: true, options: options));
        Assert.NotNull(whole);
        Assert.True(whole.Data[20..24].SequenceEqual(options));
        AssertDatagram(whole, data, headerLength: 24);
        AssertNoLeaks();
    }

    [Fact]
    public void Df_IsKeptOnlyIfTheLargestFragmentHadIt()
    {
        var data = Payload(1600);
        Gather(Frag(data, 0, 1000, more: true, df: true));
        var whole = Gather(Frag(data, 1000, 600, more: false));
        Assert.NotNull(whole);
        AssertDatagram(whole, data, df: true);

        Gather(Frag(data, 0, 1000, more: true, id: 8));
        whole = Gather(Frag(data, 1000, 600, more: false, id: 8, df: true));
        Assert.NotNull(whole);
        AssertDatagram(whole, data, id: 8, df: false);
        AssertNoLeaks();
    }

    [Fact]
    public void Ecn_CeIsPropagated_AndNotEctMixedWithEct_Fails()
    {
        const byte ect0 = 2, ce = 3;
        var data = Payload(1600);
        Gather(Frag(data, 0, 1000, more: true, tos: ect0));
        var whole = Gather(Frag(data, 1000, 600, more: false, tos: ce));
        Assert.NotNull(whole);
        Assert.Equal(ce, Ipv4HeaderView.ForEmit(whole.Data).Tos & 3);
        AssertDatagram(whole, data);

        Gather(Frag(data, 0, 1000, more: true, id: 8, tos: 0));
        Assert.Null(Gather(Frag(data, 1000, 600, more: false, id: 8, tos: ect0)));
        Assert.Equal(1, Ip(IpMib.ReasmFails));
        AssertNoLeaks();
    }

    [Fact]
    public void Metadata_ComesFromTheFirstFragment_TimestampFromTheLast()
    {
        var data = Payload(1600);
        var first = Frag(data, 0, 1000, more: true);
        first.PacketType = PacketType.Loopback;
        first.IngressIfIndex = 42;
        first.Timestamp = 100;
        var last = Frag(data, 1000, 600, more: false);
        last.Timestamp = 200;
        Gather(first);
        var whole = Gather(last);
        Assert.NotNull(whole);
        Assert.Equal(PacketType.Loopback, whole.PacketType);
        Assert.Equal(42, whole.IngressIfIndex);
        Assert.Equal(200, whole.Timestamp);
        AssertDatagram(whole, data);
        AssertNoLeaks();
    }

    [Fact]
    public void DifferentKeys_AreSeparateQueues()
    {
        var data = Payload(2000);
        Gather(Frag(data, 0, 1000, more: true, id: 1));
        Gather(Frag(data, 0, 1000, more: true, id: 2));
        Gather(Frag(data, 0, 1000, more: true, id: 1, source: new Ipv4Address(10, 0, 0, 3)));
        Assert.Equal(3, Defrag.QueueCount);
        var whole = Gather(Frag(data, 1000, 1000, more: false, id: 2));
        Assert.NotNull(whole);
        AssertDatagram(whole, data, id: 2);
        Assert.Equal(2, Defrag.QueueCount);
        _sched.RunUntilIdle();
        AssertNoLeaks();
    }

    // ---------------------------------------------------------------- timer

    [Fact]
    public void Timeout_After30sFromTheFirstFragment_SendsTimeExceeded()
    {
        var data = Payload(3000);
        Gather(Frag(data, 0, 1000, more: true));
        _sched.RunUntil(new SimTime(10_000_000_000));
        Gather(Frag(data, 2000, 1000, more: false)); // does not push the deadline back

        _sched.RunUntil(new SimTime(29_999_999_999));
        Assert.Equal(1, Defrag.QueueCount);
        Assert.Equal(0, Ip(IpMib.ReasmTimeout));

        _sched.RunUntil(new SimTime(30_000_000_000));
        Assert.Equal(1, Ip(IpMib.ReasmTimeout));
        Assert.Equal(1, Ip(IpMib.ReasmFails));
        Assert.Equal(2, Drops(SkbDropReason.FragReasmTimeout));
        Assert.Equal(1, _host.IcmpStats[IcmpMib.OutTimeExcds]);
        Assert.Equal(1, _host.IcmpOutTypes[IcmpType.TimeExceeded]);
        AssertNoLeaks();
    }

    [Fact]
    public void Timeout_WithoutTheFirstFragment_SendsNothing()
    {
        var data = Payload(3000);
        Gather(Frag(data, 1000, 1000, more: true));
        Gather(Frag(data, 2000, 1000, more: false));
        _sched.RunUntil(new SimTime(30_000_000_000));
        Assert.Equal(1, Ip(IpMib.ReasmTimeout));
        Assert.Equal(1, Ip(IpMib.ReasmFails));
        Assert.Equal(0, _host.IcmpStats[IcmpMib.OutTimeExcds]);
        Assert.Equal(0, _host.IcmpStats[IcmpMib.OutMsgs]);
        AssertNoLeaks();
    }

    [Fact]
    public void Timeout_FollowsIpfragTime()
    {
        _host.Ipv4Sysctl.IpfragTime = 5;
        var data = Payload(3000);
        Gather(Frag(data, 0, 1000, more: true));
        _sched.RunUntil(new SimTime(4_999_999_999));
        Assert.Equal(0, Ip(IpMib.ReasmTimeout));
        _sched.RunUntil(new SimTime(5_000_000_000));
        Assert.Equal(1, Ip(IpMib.ReasmTimeout));
        AssertNoLeaks();
    }

    [Fact]
    public void CompletedQueue_CancelsItsTimer()
    {
        var data = Payload(2000);
        Gather(Frag(data, 0, 1000, more: true));
        var whole = Gather(Frag(data, 1000, 1000, more: false));
        Assert.NotNull(whole);
        whole.Dispose();
        _sched.RunUntilIdle();
        Assert.Equal(0, Ip(IpMib.ReasmTimeout));
        Assert.Equal(0, Ip(IpMib.ReasmFails));
        AssertNoLeaks();
    }

    // ---------------------------------------------------------------- memory

    [Fact]
    public void OverHighThresh_NewFragmentsAreDropped_EvenForExistingQueues()
    {
        // Each 1480-byte fragment charges 20 + 1480 + 576 = 2076 bytes; the check is "> high_thresh" before queuing.
        _host.Ipv4Sysctl.IpfragHighThresh = 2076; // one fragment's charge: the second still fits, the third does not
        var data = Payload(5000);
        Assert.Null(Gather(Frag(data, 0, 1480, more: true)));
        Assert.Null(Gather(Frag(data, 1480, 1480, more: true)));
        Assert.Equal(4152, Defrag.Memory);
        Assert.Null(Gather(Frag(data, 2960, 2040, more: false)));
        Assert.Null(Gather(Frag(data, 0, 1480, more: true, id: 9)));
        Assert.Equal(4, Ip(IpMib.ReasmReqds));
        Assert.Equal(2, Ip(IpMib.ReasmFails));
        Assert.Equal(1, Defrag.QueueCount);
        Assert.Equal(2, Drops(SkbDropReason.NotSpecified));

        _sched.RunUntilIdle();
        AssertNoLeaks();
    }

    [Fact]
    public void HighThreshZero_DisablesReassembly()
    {
        _host.Ipv4Sysctl.IpfragHighThresh = 0;
        var data = Payload(2000);
        Assert.Null(Gather(Frag(data, 0, 1000, more: true)));
        Assert.Equal(1, Ip(IpMib.ReasmFails));
        AssertNoLeaks();
    }

    [Fact]
    public void LowThresh_HasNoEffect()
    {
        _host.Ipv4Sysctl.IpfragLowThresh = 1;
        var data = Payload(2000);
        Gather(Frag(data, 0, 1000, more: true));
        var whole = Gather(Frag(data, 1000, 1000, more: false));
        Assert.NotNull(whole);
        AssertDatagram(whole, data);
        AssertNoLeaks();
    }

    // ---------------------------------------------------------------- ipfrag_max_dist

    /// <summary>Queue A gets its first fragment, <paramref name="others"/> fragments of other datagrams from the same source follow, then A's second.</summary>
    private Packet? InterleaveFromSameSource(byte[] data, int others, Ipv4Address? otherSource = null)
    {
        Assert.Null(Gather(Frag(data, 0, 8, more: true, id: 1)));
        for (int i = 0; i < others; i++)
            Assert.Null(Gather(Frag(data, 8, 8, more: true, id: (ushort)(100 + i), source: otherSource)));
        return Gather(Frag(data, 8, 8, more: false, id: 1));
    }

    [Fact]
    public void MaxDist_GapOfExactlyMaxDist_IsAccepted()
    {
        // A's fragments get peer rids 1 and 65: 65 - 1 = 64 is not more than ipfrag_max_dist.
        var data = Payload(16);
        var whole = InterleaveFromSameSource(data, others: 63);
        Assert.NotNull(whole);
        AssertDatagram(whole, data, id: 1);
        Assert.Equal(0, Ip(IpMib.ReasmFails));
        _sched.RunUntilIdle();
        Assert.Equal(63, Ip(IpMib.ReasmFails)); // the others time out
        AssertNoLeaks();
    }

    [Fact]
    public void MaxDist_LargerGap_PurgesAndRestartsTheQueue()
    {
        var data = Payload(16);
        Assert.Null(InterleaveFromSameSource(data, others: 64));
        Assert.Equal(1, Ip(IpMib.ReasmFails));
        Assert.Equal(1, Drops(SkbDropReason.FragTooFar));

        // The restarted queue holds the last fragment, with a fresh 30 s timer.
        _sched.RunUntil(new SimTime(20_000_000_000));
        var whole = Gather(Frag(data, 0, 8, more: true, id: 1));
        Assert.NotNull(whole);
        AssertDatagram(whole, data, id: 1);
        _sched.RunUntilIdle();
        AssertNoLeaks();
    }

    [Fact]
    public void MaxDist_RestartedQueue_GetsAFreshTimer()
    {
        var data = Payload(16);
        Assert.Null(Gather(Frag(data, 0, 8, more: true, id: 1)));
        _sched.RunUntil(new SimTime(20_000_000_000));
        for (int i = 0; i < 64; i++) Gather(Frag(data, 8, 8, more: true, id: (ushort)(100 + i)));
        Assert.Null(Gather(Frag(data, 8, 8, more: false, id: 1))); // too far: restarted at 20 s

        _sched.RunUntil(new SimTime(30_000_000_000));
        Assert.Equal(0, Ip(IpMib.ReasmTimeout));
        Assert.Equal(65, Defrag.QueueCount);
        _sched.RunUntil(new SimTime(49_999_999_999));
        Assert.Equal(0, Ip(IpMib.ReasmTimeout));
        _sched.RunUntil(new SimTime(50_000_000_000));
        Assert.Equal(65, Ip(IpMib.ReasmTimeout));
        Assert.Equal(0, _host.IcmpStats[IcmpMib.OutTimeExcds]); // the restarted queue lost its first fragment
        AssertNoLeaks();
    }

    [Fact]
    public void MaxDist_OtherSourcesDoNotCount()
    {
        var data = Payload(16);
        var whole = InterleaveFromSameSource(data, others: 200, otherSource: new Ipv4Address(10, 0, 0, 3));
        Assert.NotNull(whole);
        AssertDatagram(whole, data, id: 1);
        _sched.RunUntilIdle();
        AssertNoLeaks();
    }

    [Fact]
    public void MaxDist_Zero_DisablesTheCheck()
    {
        _host.Ipv4Sysctl.IpfragMaxDist = 0;
        var data = Payload(16);
        var whole = InterleaveFromSameSource(data, others: 200);
        Assert.NotNull(whole);
        AssertDatagram(whole, data, id: 1);
        _sched.RunUntilIdle();
        AssertNoLeaks();
    }

    // ---------------------------------------------------------------- through ip_rcv

    [Fact]
    public void FragmentedEchoRequest_IsReassembledAndAnswered()
    {
        // ICMP echo request with 3000 bytes of data, cut at MTU 1500 as ip_do_fragment would.
        var icmp = new byte[IcmpHeaderView.Length + 3000];
        Payload(3000).CopyTo(icmp.AsSpan(IcmpHeaderView.Length));
        new IcmpRepr(IcmpType.EchoRequest, 0, (0x1234u << 16) | 1, 3000).Emit(icmp);
        Assert.True(InternetChecksum.IsValid(icmp));
        var frags = Split(icmp.Length, 1480);
        Assert.Equal(3, frags.Count);
        foreach (var (off, len, more) in frags)
        {
            var p = Frag(icmp, off, len, more);
            Ipv4HeaderView.ForEmit(p.Data).Protocol = IpProtocol.Icmp;
            Ipv4HeaderView.ForEmit(p.Data).FillChecksum();
            _host.Ipv4.Rcv(_dev, p);
        }
        Assert.Equal(3, Ip(IpMib.ReasmReqds));
        Assert.Equal(1, Ip(IpMib.ReasmOKs));
        Assert.Equal(1, Ip(IpMib.InDelivers));
        Assert.Equal(1, _host.IcmpStats[IcmpMib.InEchos]);
        Assert.Equal(1, _host.IcmpStats[IcmpMib.OutEchoReps]);
        AssertNoLeaks();
    }
}
