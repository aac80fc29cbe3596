using System.Diagnostics;
using NetLab.Core.Pcap;

namespace NetLab.Core.Tests.Pcap;

public class PcapWriterTests
{
    // Ethernet/IPv4/ICMP echo request 10.77.9.1 -> 10.77.9.2, id 0x3055 seq 1, 98 bytes
    // (captured from Linux 6.18.44 in a netns over veth; tshark: all checksums Good).
    private static readonly byte[] EchoRequestFrame = Hex.Parse("""
        024e 4c09 0002 024e 4c09 0001 0800 4500
        0054 ec0f 4000 4001 27fd 0a4d 0901 0a4d
        0902 0800 3cdf 3055 0001 a20c 066b 0000
        0000 2380 0000 0000 0000 1011 1213 1415
        1617 1819 1a1b 1c1d 1e1f 2021 2223 2425
        2627 2829 2a2b 2c2d 2e2f 3031 3233 3435
        3637
        """);

    [Fact]
    public void FileHeader_IsNanosecondLibpcapEthernet()
    {
        var ms = new MemoryStream();
        using (new PcapWriter(ms)) { }
        // magic a1b23c4d (nanosecond) little-endian, version 2.4, thiszone 0, sigfigs 0, snaplen 262144, LINKTYPE_ETHERNET.
        Assert.Equal("4d3cb2a1" + "0200" + "0400" + "00000000" + "00000000" + "00000400" + "01000000", Hex.Format(ms.ToArray()));
    }

    [Fact]
    public void Record_HasSecondsNanosecondsAndLengths()
    {
        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms))
        {
            w.Write(1_500_000_123, [0xde, 0xad, 0xbe, 0xef]);
            Assert.Equal(1, w.Frames);
        }
        var record = ms.ToArray()[24..];
        // ts_sec 1, ts_nsec 500000123 = 0x1dcd657b, incl_len 4, orig_len 4, then the bytes.
        Assert.Equal("01000000" + "7b65cd1d" + "04000000" + "04000000" + "deadbeef", Hex.Format(record));
    }

    [Fact]
    public void Record_LongerThanTheSnapLength_IsTruncatedButKeepsItsOriginalLength()
    {
        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms)) w.Write(0, new byte[PcapWriter.SnapLength + 10]);
        var r = Assert.Single(PcapReader.ReadAll(new MemoryStream(ms.ToArray()))); // the writer closes its stream
        Assert.Equal(PcapWriter.SnapLength, r.Data.Length);
        Assert.Equal(PcapWriter.SnapLength + 10, r.OriginalLength);
    }

    [Fact]
    public void Reader_RoundTripsWhatTheWriterWrote()
    {
        var ms = new MemoryStream();
        var frames = new (long Ts, byte[] Data)[]
        {
            (0, EchoRequestFrame),
            (999_999_999, [1, 2, 3]),
            (1_000_000_000, []),
            (86_400L * 1_000_000_000 + 7, EchoRequestFrame[..42]),
        };
        using (var w = new PcapWriter(ms))
            foreach (var (ts, data) in frames) w.Write(ts, data);
        var read = PcapReader.ReadAll(new MemoryStream(ms.ToArray()));
        Assert.Equal(frames.Select(f => (f.Ts, Hex.Format(f.Data), f.Data.Length)),
            read.Select(r => (r.TimestampNs, Hex.Format(r.Data), r.OriginalLength)));
    }

    [Fact]
    public void Reader_ReadsMicrosecondFiles()
    {
        // A classic microsecond pcap (magic a1b2c3d4), as dumpcap writes: ts 2.000003 s, one 2-byte frame.
        var bytes = Hex.Parse("d4c3b2a1 0200 0400 00000000 00000000 00000400 01000000" +
                              "02000000 03000000 02000000 02000000 abcd");
        var r = Assert.Single(PcapReader.ReadAll(new MemoryStream(bytes)));
        Assert.Equal(2_000_003_000, r.TimestampNs);
        Assert.Equal([0xab, 0xcd], r.Data);
    }

    [Fact]
    public void Reader_RejectsOtherMagics()
    {
        var bytes = Hex.Parse("0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffffffffffff"); // a pcapng section header
        var e = Assert.Throws<InvalidDataException>(() => PcapReader.ReadAll(new MemoryStream(bytes)));
        Assert.Equal("not a little-endian pcap (magic 0x0a0d0d0a)", e.Message);
    }

    [Fact]
    public void Tshark_OpensTheFile_WithNanosecondTimestamps()
    {
        // The real-tool check: Wireshark's reader must accept the file and keep all nine digits.
        string path = Path.GetTempFileName();
        try
        {
            using (var w = PcapWriter.Create(path))
            {
                w.Write(1_767_225_600_123_456_789, EchoRequestFrame); // 2026-01-01T00:00:00.123456789Z
                w.Write(1_767_225_601_000_000_001, EchoRequestFrame);
            }
            var output = RunTool("tshark", "-r", path, "-T", "fields", "-e", "frame.time_epoch", "-e", "ip.src", "-e", "ip.dst", "-e", "icmp.type");
            Assert.Equal(
                "1767225600.123456789\t10.77.9.1\t10.77.9.2\t8\n" +
                "1767225601.000000001\t10.77.9.1\t10.77.9.2\t8\n",
                output);
            var info = RunTool("capinfos", "-M", path);
            Assert.Contains("nsecpcap", info);
            Assert.Contains("nanoseconds (9)", info);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string RunTool(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{tool} is required for this test (apt-get install -y tshark): {e.Message}", e);
        }
        using (p)
        {
            var stderr = p.StandardError.ReadToEndAsync();
            string stdout = p.StandardOutput.ReadToEnd();
            Assert.True(p.WaitForExit(TimeSpan.FromSeconds(60)), $"{tool} did not exit");
            Assert.True(p.ExitCode == 0, $"{tool} exited with {p.ExitCode}: {stderr.Result}");
            return stdout;
        }
    }
}
