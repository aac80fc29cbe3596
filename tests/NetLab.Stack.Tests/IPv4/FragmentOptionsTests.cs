using NetLab.Core.Addressing;
using NetLab.Core.Packets;
using NetLab.Core.Pcap;
using NetLab.Stack.IPv4;

namespace NetLab.Stack.Tests.IPv4;

/// <summary>ip_options_fragment(): compared byte for byte with fragments Linux sent.</summary>
public class FragmentOptionsTests
{
    /// <summary>
    /// Codecs/Fixtures/linux-ipv4-rr-fragments.pcap: `ping -c 1 -R -s 1600 -M dont 10.77.11.2` between two
    /// namespaces on Linux 6.18.44 (veth, MTU 1500). Frames 7 and 8 are the two fragments of the echo
    /// request: 60-byte headers, the first with NOP + Record Route, the second with all 40 option bytes NOPs.
    /// </summary>
    [Fact]
    public void RecordRoute_IsBlankedToNops_InLaterFragments_ExactlyAsLinuxSendsThem()
    {
        var file = Path.Combine(AppContext.BaseDirectory, "Codecs", "Fixtures", "linux-ipv4-rr-fragments.pcap");
        using var stream = File.OpenRead(file);
        var frames = PcapReader.ReadAll(stream);
        var first = frames[6].Data.AsSpan(14).ToArray();
        var second = frames[7].Data.AsSpan(14).ToArray();
        Assert.Equal(0x4F, first[0]);
        Assert.Equal(180, Ipv4HeaderView.ForEmit(second).FragmentOffset / 8);

        // The datagram before fragmentation: the first fragment's header, MF clear, and both payloads.
        int hlen = 60;
        var whole = new byte[hlen + (first.Length - hlen) + (second.Length - hlen)];
        first.CopyTo(whole, 0);
        second.AsSpan(hlen).CopyTo(whole.AsSpan(first.Length));
        var wh = Ipv4HeaderView.ForEmit(whole);
        wh.TotalLength = (ushort)whole.Length;
        wh.FlagsAndOffset = 0;
        wh.FillChecksum();

        var (w, a, _, _) = TestNetworks.TwoHostsOnSwitch();
        var dev = a.FindDevice("eth0")!;
        a.Neighbours.SetStatic(dev, Ipv4Address.Parse("10.0.0.2"), MacAddress.Parse("02:00:00:00:00:02"));
        var sent = new List<byte[]>();
        dev.AddTap(new Neighbour.TapRecorder((d, f, _) => { if (d == Link.TapDirection.Transmitted) sent.Add(f[14..]); }));
        var pkt = w.Pool.Rent(PacketPool.DefaultHeadroom, whole.Length);
        whole.CopyTo(pkt.Data);
        pkt.NetworkOffset = pkt.DataOffset;
        a.Ipv4.Fragment(pkt, 1500, dev, Ipv4Address.Parse("10.0.0.2"), broadcast: false);
        w.RunFor(Core.Time.SimDuration.FromMilliseconds(1)); // the second fragment waits for the wire

        Assert.Equal(2, sent.Count);
        Assert.Equal(Convert.ToHexString(first), Convert.ToHexString(sent[0]));
        Assert.Equal(Convert.ToHexString(second), Convert.ToHexString(sent[1]));
    }
}
