using System.Buffers.Binary;
using NetLab.Core.Addressing;
using NetLab.Core.Checksums;
using NetLab.Core.Packets;
using NetLab.Core.Randomness;
using NetLab.Core.Time;
using NetLab.Real.Native;
using NetLab.Real.Tap;
using NetLab.Real.Time;
using NetLab.Stack;

namespace NetLab.Real.Tests;

/// <summary>
/// The TAP wire without a TAP: one end of an AF_UNIX datagram socketpair carries one frame per read and
/// write, as /dev/net/tun does, so these run without root. The test plays the kernel on the other end.
/// </summary>
public sealed class TapWireTests : IDisposable
{
    private static readonly MacAddress PeerMac = MacAddress.Parse("02:00:00:00:00:01");
    private readonly int _peer;
    private readonly Scheduler _scheduler = new();
    private readonly PacketPool _pool = new();
    private readonly Host _host;
    private readonly Stack.Link.EthernetDevice _dev;
    private readonly TapFile _tap;
    private readonly RealTimeLoop _loop;
    private readonly TapWire _wire;

    public TapWireTests()
    {
        var fds = new int[2];
        Assert.Equal(0, Libc.socketpair(Libc.AfUnix, Libc.SockDgram | Libc.SockNonBlock | Libc.SockCloExec, 0, fds));
        _peer = fds[1];
        _host = new Host("h", _scheduler, new RandomStreams(1), _pool);
        _dev = _host.AddEthernet("eth0");
        _tap = TapFile.FromDescriptor(fds[0], "pair0", 1500);
        _loop = new RealTimeLoop(_scheduler);
        _wire = new TapWire(_tap, _loop, _dev, 1500);
        _dev.SetUp(true);
        _host.Ipv4.AddAddress(_dev, Ipv4Prefix.Parse("10.77.0.2/24"));
    }

    public void Dispose()
    {
        _wire.Dispose();
        _tap.Dispose();
        _loop.Dispose();
        Libc.close(_peer);
    }

    /// <summary>Runs the loop on its own thread while <paramref name="peer"/> plays the kernel; stops it afterwards.</summary>
    private void WithLoop(Action peer)
    {
        var thread = new Thread(_loop.Run);
        _wire.Start();
        thread.Start();
        try { peer(); }
        finally
        {
            _loop.Stop();
            thread.Join();
        }
    }

    private void Send(byte[] frame) => Assert.Equal(frame.Length, (int)Libc.write(_peer, ref frame[0], frame.Length));

    /// <summary>The next frame NetLab writes, waiting up to 5 s for it.</summary>
    private byte[] Receive()
    {
        var pfd = new Libc.PollFd { Fd = _peer, Events = Libc.PollIn };
        Assert.True(Libc.poll(ref pfd, 1, 5000) == 1, "NetLab sent nothing");
        var buf = new byte[2048];
        int n = (int)Libc.read(_peer, ref buf[0], buf.Length);
        return buf[..n];
    }

    private byte[] Ethernet(MacAddress dst, ushort type, byte[] payload)
    {
        var f = new byte[14 + payload.Length];
        dst.Write(f);
        PeerMac.Write(f.AsSpan(6));
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), type);
        payload.CopyTo(f, 14);
        return f;
    }

    private static byte[] ArpRequest() => Convert.FromHexString(
        "0001080006040001" + "020000000001" + "0a4d0001" + "000000000000" + "0a4d0002");

    private static byte[] EchoRequest()
    {
        var p = new byte[20 + 8 + 4];
        p[0] = 0x45; BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length); p[8] = 64; p[9] = 1;
        new byte[] { 10, 77, 0, 1, 10, 77, 0, 2 }.CopyTo(p, 12);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), InternetChecksum.Finish(InternetChecksum.Add(0, p.AsSpan(0, 20))));
        p[20] = 8; BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(24), 0x1234); BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(26), 7);
        "ping"u8.CopyTo(p.AsSpan(28));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(22), InternetChecksum.Finish(InternetChecksum.Add(0, p.AsSpan(20))));
        return p;
    }

    /// <summary>ARP is answered, an echo request gets its reply, and a giant and a runt are counted and dropped.</summary>
    [Fact]
    public void ArpAndEcho_AreAnswered_GiantAndRuntAreCountedAndDropped()
    {
        byte[] arpReply = [], echoReply = [];
        WithLoop(() =>
        {
            Send(Ethernet(MacAddress.Broadcast, 0x0806, ArpRequest()));
            arpReply = Receive();
            Send(Ethernet(_dev.Mac, 0x0800, new byte[1600]));   // longer than MTU + header
            Send(Ethernet(_dev.Mac, 0x0800, [])[..10]);         // shorter than an Ethernet header
            Send(Ethernet(_dev.Mac, 0x0800, EchoRequest()));
            echoReply = Receive();
        });
        Assert.Equal(PeerMac, MacAddress.Read(arpReply));
        Assert.Equal(2, BinaryPrimitives.ReadUInt16BigEndian(arpReply.AsSpan(14 + 6)));            // ARP reply
        Assert.Equal(_dev.Mac, MacAddress.Read(arpReply.AsSpan(14 + 8)));                          // 10.77.0.2 is at eth0's MAC
        Assert.Equal(0, echoReply[14 + 20]);                                                       // ICMP echo reply
        Assert.Equal(0x1234, BinaryPrimitives.ReadUInt16BigEndian(echoReply.AsSpan(14 + 24)));
        Assert.Equal("ping"u8.ToArray(), echoReply[(14 + 28)..(14 + 32)]);
        Assert.Equal(0, InternetChecksum.Fold(InternetChecksum.Add(0, echoReply.AsSpan(14 + 20, 12))) ^ 0xffff);
        Assert.Equal(2, _dev.Stats.RxLengthErrors);                                                // the giant and the runt
        Assert.Equal(2, _dev.Stats.RxErrors);
        Assert.Equal(4, _wire.RxFrames);
    }

    /// <summary>Frames already waiting are read in batches of 64 (NAPI's budget), each posted to the loop once.</summary>
    [Fact]
    public void WaitingFrames_AreReadInBatchesOf64()
    {
        // Addressed to another host: the stack drops them without answering.
        var frame = Ethernet(MacAddress.Parse("02:00:00:00:00:99"), 0x0800, EchoRequest());
        const int count = 150;
        for (int i = 0; i < count; i++) Send(frame);
        WithLoop(() =>
        {
            for (int i = 0; i < 500 && _dev.Stats.RxPackets < count; i++) Thread.Sleep(10);
        });
        Assert.Equal(count, _wire.RxFrames);
        Assert.Equal(3, _wire.RxBatches);   // 64 + 64 + 22
        Assert.Equal(count, _dev.Stats.RxPackets);
        Assert.Equal(0, _pool.Outstanding);
    }
}
