using NetLab.Core.Packets;

namespace NetLab.Core.Tests.Packets;

public class PacketTests
{
    [Fact]
    public void Rent_ReservesHeadroom_AndClearsData_EvenInAReusedBuffer()
    {
        var pool = new PacketPool();
        var dirty = pool.Rent(64, 100);
        dirty.Buffer.Fill(0xEE);
        dirty.Dispose();

        using (var p = pool.Rent(64, 100))
        {
            Assert.Same(dirty, p); // the pool handed back the same object and buffer
            Assert.Equal(64, p.Headroom);
            Assert.Equal(64, p.DataOffset);
            Assert.Equal(100, p.Length);
            Assert.True(p.Tailroom >= PacketPool.DefaultTailroom);
            Assert.All(p.Data.ToArray(), b => Assert.Equal(0, b));
            Assert.Equal(-1, p.NetworkOffset);
            Assert.Equal(-1, p.TransportOffset);
        }
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void Rent_ResetsMetadataOfAReusedPacket()
    {
        var pool = new PacketPool();
        var p = pool.Rent(16, 4);
        p.IngressIfIndex = 3; p.PacketType = PacketType.Broadcast; p.Protocol = 0x0806; p.NetworkOffset = 16;
        p.TransportOffset = 36; p.Mark = 9; p.Priority = 6; p.Timestamp = 123;
        p.Dispose();
        using var q = pool.Rent(16, 4);
        Assert.Equal((0, PacketType.Host, (ushort)0, -1, -1, 0u, (byte)0, 0L),
            (q.IngressIfIndex, q.PacketType, q.Protocol, q.NetworkOffset, q.TransportOffset, q.Mark, q.Priority, q.Timestamp));
    }

    [Fact]
    public void PushThenPull_PreservesHeadroomAndBytes()
    {
        var pool = new PacketPool();
        using var p = pool.Rent(PacketPool.DefaultHeadroom, 4);
        p.Data.Fill(0x11);
        var udp = p.Push(8);
        udp.Fill(0x22);
        var ip = p.Push(20);
        ip.Fill(0x33);
        Assert.Equal(PacketPool.DefaultHeadroom - 28, p.Headroom);
        Assert.Equal(32, p.Length);
        Assert.Equal(0x33, p.Data[0]);
        p.Pull(20);
        Assert.Equal(0x22, p.Data[0]);
        p.Pull(8);
        Assert.Equal(PacketPool.DefaultHeadroom, p.Headroom);
        Assert.Equal([0x11, 0x11, 0x11, 0x11], p.Data.ToArray());
        // Pushing again re-exposes the header bytes written before (skb_push does not clear).
        Assert.Equal(0x22, p.Push(8)[0]);
    }

    [Fact]
    public void Push_BeyondTheHeadroom_Throws()
    {
        var pool = new PacketPool();
        using var p = pool.Rent(14, 10);
        p.Push(14);
        var e = Assert.Throws<InvalidOperationException>(() => p.Push(1));
        Assert.Equal("skb_under_panic: push 1 with headroom 0", e.Message);
        Assert.Throws<InvalidOperationException>(() => p.Push(-1));
        Assert.Equal(24, p.Length);
    }

    [Fact]
    public void Pull_BeyondTheLength_Throws()
    {
        var pool = new PacketPool();
        using var p = pool.Rent(0, 10);
        p.Pull(10);
        Assert.Equal(0, p.Length);
        var e = Assert.Throws<InvalidOperationException>(() => p.Pull(1));
        Assert.Equal("pull 1 past length 0", e.Message);
        Assert.Throws<InvalidOperationException>(() => p.Pull(-1));
        Assert.Equal(10, p.Headroom);
    }

    [Fact]
    public void Put_AppendsZeroedBytes_AndThrowsBeyondTheTailroom()
    {
        var pool = new PacketPool();
        var dirty = pool.Rent(0, 0, tailroom: 64);
        dirty.Buffer.Fill(0xEE);
        dirty.Dispose();
        using var p = pool.Rent(0, 0, tailroom: 64);
        int room = p.Tailroom;
        var tail = p.Put(room);
        Assert.Equal(room, tail.Length);
        Assert.All(tail.ToArray(), b => Assert.Equal(0, b));
        Assert.Equal(room, p.Length);
        Assert.Equal(0, p.Tailroom);
        var e = Assert.Throws<InvalidOperationException>(() => p.Put(1));
        Assert.Equal("skb_over_panic: put 1 with tailroom 0", e.Message);
        Assert.Throws<InvalidOperationException>(() => p.Put(-1));
        Assert.Equal(room, p.Length);
    }

    [Theory]
    [InlineData(10, 4, 4)]   // cut
    [InlineData(10, 10, 10)] // same length: no-op
    [InlineData(10, 50, 10)] // longer: no-op, as skb_trim
    [InlineData(10, -3, 0)]  // negative clamps to empty
    public void Trim_OnlyShortens(int length, int trimTo, int expected)
    {
        var pool = new PacketPool();
        using var p = pool.Rent(8, length);
        p.Trim(trimTo);
        Assert.Equal(expected, p.Length);
        Assert.Equal(8, p.Headroom);
    }

    [Fact]
    public void ResetTo_MovesBackToARecordedHeader()
    {
        var pool = new PacketPool();
        using var p = pool.RentCopy([1, 2, 3, 4, 5, 6]);
        p.NetworkOffset = p.DataOffset;
        p.Pull(4);
        p.ResetTo(p.NetworkOffset, 6);
        Assert.Equal([1, 2, 3, 4, 5, 6], p.Data.ToArray());
    }

    [Fact]
    public void Copy_IsADeepCopyWithTheSameHeadroomAndMetadata()
    {
        var pool = new PacketPool();
        using var p = pool.RentCopy([1, 2, 3], headroom: 40);
        p.Protocol = 0x0800; p.Mark = 7; p.Timestamp = 99; p.NetworkOffset = 40; p.IngressIfIndex = 2;
        p.PacketType = PacketType.Multicast; p.Priority = 4; p.TransportOffset = 41;
        using var c = p.Copy();
        Assert.NotSame(p, c);
        Assert.Equal(p.Data.ToArray(), c.Data.ToArray());
        Assert.Equal(40, c.Headroom);
        Assert.True(c.Tailroom >= p.Tailroom);
        Assert.Equal((p.Protocol, p.Mark, p.Timestamp, p.NetworkOffset, p.TransportOffset, p.IngressIfIndex, p.PacketType, p.Priority),
            (c.Protocol, c.Mark, c.Timestamp, c.NetworkOffset, c.TransportOffset, c.IngressIfIndex, c.PacketType, c.Priority));
        c.Data[0] = 0xFF;
        Assert.Equal(1, p.Data[0]);
        Assert.Equal(2, pool.Outstanding);
    }

    [Fact]
    public void DoubleDispose_Throws()
    {
        var pool = new PacketPool();
        var p = pool.Rent(0, 1);
        p.Dispose();
        var e = Assert.Throws<InvalidOperationException>(p.Dispose);
        Assert.Contains("double free", e.Message);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void Outstanding_CountsRentsMinusReturns()
    {
        var pool = new PacketPool();
        var packets = Enumerable.Range(0, 10).Select(i => pool.Rent(PacketPool.DefaultHeadroom, i)).ToList();
        Assert.Equal(10, pool.Outstanding);
        using (var copy = packets[3].Copy()) Assert.Equal(11, pool.Outstanding);
        foreach (var p in packets) p.Dispose();
        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(11, pool.Rented);
    }

    [Fact]
    public void RentCopy_UsesTheDefaultHeadroom()
    {
        var pool = new PacketPool();
        using var p = pool.RentCopy([9, 8, 7]);
        Assert.Equal(PacketPool.DefaultHeadroom, p.Headroom);
        Assert.Equal([9, 8, 7], p.Data.ToArray());
    }
}
