using CsCheck;
using NetLab.Core.Addressing;
using NetLab.Core.Checksums;
using NetLab.Drill.Parsing;
using NetLab.Drill.Running;

namespace NetLab.Drill.Tests;

public class DrillPacketsTests
{
    private static readonly MacAddress Mac1 = MacAddress.Parse("02:00:00:00:00:01"), Mac2 = MacAddress.Parse("02:00:00:00:00:02");
    private static readonly Ipv4Address Src = Ipv4Address.Parse("192.0.2.1"), Dst = Ipv4Address.Parse("192.168.0.1");

    // The SYN-ACK Linux 6.18.44 sent through tun to "< S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>"
    // (docs/drill-linux-check/tunpeer.py; IP header and TCP as read from the tun device):
    // 192.168.0.1.8080 > 192.0.2.1.40000: Flags [S.], seq 771024773, ack 1, win 65535, options [mss 1460,nop,nop,sackOK,nop,wscale 8]
    private static readonly byte[] LinuxSynAck = Hex(
        "4500 0034 0000 4000 4006 b819 c0a8 0001 c000 0201" +
        "1f90 9c40 2df4 e785 0000 0001 8012 ffff 1b0a 0000" +
        "0204 05b4 0101 0402 0103 0308");

    private static byte[] Hex(string s) => Convert.FromHexString(s.Replace(" ", ""));

    [Fact]
    public void Decode_AFrameOfTheKernel()
    {
        var frame = new byte[14 + LinuxSynAck.Length];
        frame[12] = 0x08; // EtherType IPv4
        LinuxSynAck.CopyTo(frame, 14);
        Assert.True(DrillPackets.TryDecode(frame, 7, out var p));
        var t = p!.Tcp!;
        Assert.Equal((8080, 40000, 771024773u, 1u, 65535), (t.SrcPort, t.DstPort, t.Seq, t.Ack, t.Window));
        Assert.Equal("S.", DrillFlags.Format(t.Flags));
        Assert.Equal(
            [TcpOptionKind.Mss, TcpOptionKind.Nop, TcpOptionKind.Nop, TcpOptionKind.SackPermitted, TcpOptionKind.Nop, TcpOptionKind.WindowScale],
            t.Options.Select(o => o.Kind));
        Assert.Equal((1460L, 8L), (t.Options[0].Value, t.Options[5].Value));
    }

    [Fact]
    public void TruncatedOrForeignFrames_AreNotDecoded()
    {
        var frame = new byte[14 + LinuxSynAck.Length];
        frame[12] = 0x08;
        LinuxSynAck.CopyTo(frame, 14);
        for (int len = 0; len < 14 + 40; len++) Assert.False(DrillPackets.TryDecode(frame.AsSpan(0, len), 0, out _));
        frame[12] = 0x08; frame[13] = 0x06; // ARP
        Assert.False(DrillPackets.TryDecode(frame, 0, out _));
    }

    /// <summary>What the script's remote end sends decodes back to the same fields, with valid IP and TCP checksums.</summary>
    [Fact]
    public void BuildTcp_DecodesBack()
    {
        var gen = from seq in Gen.UInt
                  from ack in Gen.UInt
                  from flags in Gen.UShort[0, 0xFF]
                  from win in Gen.UShort
                  from len in Gen.Int[0, 1500]
                  from mss in Gen.UShort
                  from ts in Gen.UInt
                  from sack in Gen.UInt
                  select (seq, ack, flags, win, len, mss, ts, sack);
        gen.Sample(x =>
        {
            var options = DrillPackets.EncodeOptions([
                new(TcpOptionKind.Mss, x.mss), new(TcpOptionKind.Nop), new(TcpOptionKind.Timestamp, x.ts, 7),
                new(TcpOptionKind.Sack, Blocks: [(x.sack, x.sack + 1000)])]);
            var frame = DrillPackets.BuildTcp(Mac1, Mac2, Src, Dst, 0, 64, 40000, 8080, x.seq, x.ack, x.flags, x.win, 0, options, x.len);
            Assert.True(DrillPackets.TryDecode(frame, 0, out var p));
            var t = p!.Tcp!;
            Assert.Equal((x.seq, x.ack, x.flags, x.win, x.len), (t.Seq, t.Ack, t.Flags, t.Window, t.PayloadLength));
            Assert.Equal((long)x.mss, t.Options[0].Value);
            Assert.Equal((long)x.ts, t.Options[2].Value);
            Assert.Equal([(x.sack, x.sack + 1000)], t.Options[3].Blocks!);
            var ip = frame.AsSpan(14);
            Assert.True(InternetChecksum.IsValid(ip[..20]));
            ulong pseudo = InternetChecksum.PseudoHeader(Src, Dst, 6, ip.Length - 20);
            Assert.Equal(0xFFFF, InternetChecksum.Fold(InternetChecksum.Add(pseudo, ip[20..])));
        });
    }
}
