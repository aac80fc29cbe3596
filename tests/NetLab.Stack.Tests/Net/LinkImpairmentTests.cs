using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Net;
using NetLab.Stack.Link;

namespace NetLab.Stack.Tests.Net;

/// <summary>
/// The cable's netem-like impairments: reordering (a held-back frame overtaken by later ones), duplication and
/// single-bit corruption, all drawn from the link's seeded stream (same seed, same outcome), with every frame
/// accounted for and returned to the pool.
/// </summary>
public class LinkImpairmentTests
{
    private const int Count = 2000;

    /// <summary>a sends <see cref="Count"/> numbered 100-byte UDP datagrams to b, 10 µs apart, over one cable.</summary>
    private static (List<int> Received, ChannelStats Stats, long UdpCsumErrors, World W) Run(LinkParameters p, ulong seed = 7)
    {
        var w = new World(seed);
        var a = w.AddHost("a");
        var b = w.AddHost("b");
        var da = TestNetworks.AddInterface(a, "eth0", "10.0.0.1/24");
        var db = TestNetworks.AddInterface(b, "eth0", "10.0.0.2/24");
        var link = w.Connect(da, db, p);
        a.Neighbours.SetStatic(da, Ipv4Address.Parse("10.0.0.2"), db.Mac);
        b.Neighbours.SetStatic(db, Ipv4Address.Parse("10.0.0.1"), da.Mac);
        using var rx = b.Udp.Open();
        Assert.Equal(Errno.None, rx.Bind(Ipv4Address.Any, 9));
        using var tx = a.Udp.Open();
        var received = new List<int>();
        var buf = new byte[200];
        void Drain()
        {
            while (rx.TryReceive(buf, out var r) == Errno.None)
            {
                Assert.Equal(100, r.Length);
                for (int k = 4; k < 100; k++) Assert.Equal(0, buf[k]); // nothing corrupted reaches the application
                received.Add(BitConverter.ToInt32(buf));
            }
        }
        for (int i = 0; i < Count; i++)
        {
            int n = i;
            w.Scheduler.At(SimTime.Zero + SimDuration.FromMicroseconds(10 * i), () =>
            {
                Drain();
                var payload = new byte[100];
                BitConverter.TryWriteBytes(payload, n);
                tx.SendTo(payload, Ipv4Address.Parse("10.0.0.2"), 9);
            });
        }
        w.RunFor(SimDuration.FromSeconds(1));
        Drain();
        return (received, link.AToB.Stats, b.UdpStats[UdpMib.InCsumErrors], w);
    }

    [Fact]
    public void Reorder_HoldsBackAShareOfFrames_WhichLaterFramesOvertake_NothingLost()
    {
        var (received, stats, _, w) = Run(new LinkParameters { Reorder = 0.1, ReorderDelay = SimDuration.FromMicroseconds(500) });
        Assert.Equal(Count, received.Count);
        Assert.Equal(Enumerable.Range(0, Count), received.Order());
        int inversions = received.Zip(received.Skip(1)).Count(x => x.First > x.Second);
        Assert.InRange(stats.Reordered, 150, 250);
        Assert.True(inversions >= stats.Reordered / 2, $"{inversions} inversions for {stats.Reordered} held-back frames");
        Assert.Equal(0, w.Pool.Outstanding);
        // The same seed gives the same order; another seed another one.
        Assert.Equal(received, Run(new LinkParameters { Reorder = 0.1, ReorderDelay = SimDuration.FromMicroseconds(500) }).Received);
        Assert.NotEqual(received, Run(new LinkParameters { Reorder = 0.1, ReorderDelay = SimDuration.FromMicroseconds(500) }, seed: 8).Received);
    }

    [Fact]
    public void Duplicate_DeliversSomeFramesTwice()
    {
        var (received, stats, _, w) = Run(new LinkParameters { Duplicate = 0.05 });
        Assert.InRange(stats.Duplicated, 60, 140);
        Assert.Equal(Count + stats.Duplicated, received.Count);
        Assert.Equal(Count + stats.Duplicated, stats.Delivered);
        Assert.Equal(Enumerable.Range(0, Count), received.Distinct().Order());
        Assert.Equal(0, w.Pool.Outstanding);
    }

    [Fact]
    public void Corrupt_FlipsOneBit_ChecksumsDropTheFrame_OrItMissesItsHost()
    {
        var (received, stats, csumErrors, w) = Run(new LinkParameters { Corrupt = 0.05 });
        Assert.InRange(stats.Corrupted, 60, 140);
        int lost = Count - received.Count;
        // A flip in the source MAC or the frame's padding goes unnoticed (as with netem, whose corruption precedes
        // the FCS); every other one is dropped somewhere (checksum, wrong destination MAC, bad header).
        Assert.InRange(lost, stats.Corrupted * 3 / 4, stats.Corrupted);
        Assert.True(csumErrors > 0 && csumErrors <= lost);
        Assert.Equal(received.Distinct().Count(), received.Count);
        Assert.Equal(0, w.Pool.Outstanding);
    }

    [Fact]
    public void NoImpairment_DrawsNothingExtra_TheLossPatternIsUnchanged()
    {
        // Loss draws come first and the new impairments draw only when enabled: existing seeds keep their losses.
        var plain = Run(new LinkParameters { Loss = 0.1 }).Received;
        var withDisabled = Run(new LinkParameters { Loss = 0.1, Reorder = 0, Duplicate = 0, Corrupt = 0 }).Received;
        Assert.Equal(plain, withDisabled);
        Assert.InRange(Count - plain.Count, 150, 250);
    }
}
