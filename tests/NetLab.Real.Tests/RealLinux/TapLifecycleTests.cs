using System.Diagnostics;
using System.Text.RegularExpressions;
using NetLab.Tools.Tests.RealLinux;

namespace NetLab.Real.Tests.RealLinux;

/// <summary>Starting, stopping and refusing: --create, a missing device, SIGTERM mid-transfer, tshark over the pcap.</summary>
public class TapLifecycleTests
{
    /// <summary>
    /// SIGTERM while the kernel downloads: netlab interrupts its servers, prints its counters and exits 0
    /// (the bound is a hang detector; the time taken is reported).
    /// </summary>
    [Fact]
    public void SigtermMidTransfer_ExitsAndPrintsCounters()
    {
        using var files = new TapFiles();
        files.Random("big", TapFiles.HundredMegabytes);
        using var lab = TapLab.Create();
        var netlab = lab.StartNetLab("--serve", $"tcp:8080:http:{files.Dir}");
        var curl = lab.StartBackground(["curl", "-s", "--limit-rate", "10M", "-o", "/dev/null", "http://10.77.0.2:8080/big"]);
        Assert.True(netlab.WaitForOutput("tcp:8080:http 10.77.0.1", TimeSpan.FromSeconds(30)), netlab.Stdout);
        Thread.Sleep(500);
        Assert.False(curl.HasExited, "the transfer ended before SIGTERM");
        var stopwatch = Stopwatch.StartNew();
        netlab.Terminate();
        Assert.True(netlab.WaitForExit(TimeSpan.FromSeconds(10)), "netlab did not exit after SIGTERM");
        TapFiles.Report($"netlab exited {stopwatch.ElapsedMilliseconds} ms after SIGTERM mid-transfer");
        Assert.Equal(0, netlab.ExitCode);
        Assert.Matches(@"tcp:8080:http 10\.77\.0\.1:\d+ interrupted: \d+ bytes in, \d+ bytes out", netlab.Stdout);
        Assert.Contains("$ netstat -s", netlab.Stdout);
        Assert.Contains("passive connection openings", netlab.Stdout);
        Assert.Contains("timer jitter:", netlab.Stdout);
    }

    [Fact]
    public void Create_MakesTheTapDevice_ThatGoesAwayWithNetLab()
    {
        using var lab = TapLab.Create(createTap: false);
        var netlab = lab.StartNetLab("--create", "--serve", "tcp:7:echo");
        Assert.Contains("<BROADCAST,MULTICAST,UP,LOWER_UP>", lab.Sh("ip link show tap0").Stdout);   // up, with carrier while netlab holds it
        netlab.Terminate();
        Assert.True(netlab.WaitForExit(TimeSpan.FromSeconds(10)));
        Assert.NotEqual(0, lab.Sh("ip link show tap0").ExitCode);
    }

    /// <summary>eth0 takes the TAP's MTU: with 9000 on tap0, a 9000-byte DF ping crosses whole; --mtu overrides it.</summary>
    [Fact]
    public void Mtu_ComesFromTheDevice()
    {
        using var lab = TapLab.Create();
        lab.Sh("ip link set tap0 mtu 9000").ThrowIfFailed("ip link set mtu");
        var netlab = lab.StartNetLab("--serve", "tcp:7:echo");
        Assert.Contains("(link/ether", netlab.Stdout);
        Assert.Contains(", mtu 9000; tap0 mtu 9000)", netlab.Stdout);
        var ping = lab.Sh("ping -c 2 -i 0.2 -M do -s 8972 10.77.0.2");
        Assert.True(ping.ExitCode == 0, ping.Stdout + ping.Stderr);
        Assert.Contains("8980 bytes from 10.77.0.2", ping.Stdout);
        netlab.Terminate();
        Assert.True(netlab.WaitForExit(TimeSpan.FromSeconds(10)));
        var small = lab.RunNetLab("--mtu", "1400", "--exec", "ip link show eth0");
        Assert.Contains("2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1400 ", small.Stdout);
    }

    [Fact]
    public void MissingTap_WithoutCreate_FailsWithTheWayOut()
    {
        using var lab = TapLab.Create(createTap: false);
        var r = lab.RunNetLab("--serve", "tcp:7:echo");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("netlab attach: tap0: no such device (create it with `ip tuntap add dev tap0 mode tap`, or pass --create)", r.Stderr.Trim());
    }

    /// <summary>
    /// Everything netlab sent and received in a session of pings (one fragmented), HTTP, echo and refusals:
    /// tshark finds no malformed packet and no bad IPv4, ICMP, TCP or UDP checksum.
    /// </summary>
    [Fact]
    public void Pcap_HasNoMalformedPacketsOrBadChecksums()
    {
        using var files = new TapFiles();
        var pcap = files.PathOf("eth0.pcap");
        using var lab = TapLab.Create();
        var netlab = lab.StartNetLab("--pcap", pcap, "--serve", "tcp:7:echo", "--serve", "udp:7:echo", "--serve", $"tcp:8080:http:{files.Dir}");
        lab.Sh("ping -c 2 -i 0.2 10.77.0.2; ping -c 1 -s 4000 10.77.0.2; curl -s http://10.77.0.2:8080/; curl -s http://10.77.0.2:8080/none; "
            + "echo hello | socat - TCP:10.77.0.2:7; socat - TCP:10.77.0.2:81 </dev/null; echo x | socat -T 1 - UDP:10.77.0.2:9; echo x | socat -T 1 - UDP:10.77.0.2:7; true");
        netlab.Terminate();
        Assert.True(netlab.WaitForExit(TimeSpan.FromSeconds(10)));
        var all = LinuxNetns.Run("tshark", "-n", "-r", pcap);
        Assert.True(all.ExitCode == 0, all.Stderr);
        Assert.Contains("Fragmented IP protocol", all.Stdout);
        Assert.Contains("Destination unreachable (Port unreachable)", all.Stdout);
        Assert.Contains("[RST, ACK]", all.Stdout);
        Assert.Contains("HTTP/1.1 200 OK", all.Stdout);
        var bad = LinuxNetns.Run("tshark", "-n", "-r", pcap,
            "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
            "-Y", "_ws.malformed || _ws.expert.severity == \"Error\" || ip.checksum.status == \"Bad\" || icmp.checksum.status == \"Bad\""
                + " || tcp.checksum.status == \"Bad\" || udp.checksum.status == \"Bad\"");
        Assert.True(bad.ExitCode == 0, bad.Stderr);
        Assert.Equal("", bad.Stdout);
    }

    /// <summary>What is not built yet says which issue brings it (exit 2, before any device is touched; no root needed).</summary>
    [Theory]
    [InlineData("--dhcp", "netlab attach: --dhcp: the DHCP client is not built yet (issue #6, DNS and DHCP)")]
    [InlineData("--serve udp:53:dns:/etc/zone", "netlab attach: --serve udp:53:dns:/etc/zone: the DNS server is not built yet (issue #6, DNS and DHCP)")]
    [InlineData("--serve udp:67:dhcp:10.77.0.100-10.77.0.200", "netlab attach: --serve udp:67:dhcp:10.77.0.100-10.77.0.200: the DHCP server is not built yet (issue #6, DNS and DHCP)")]
    public void NotBuiltYet_SaysWhichIssue(string option, string message)
    {
        var r = LinuxNetns.Run("dotnet", [NetLabProcess.NetLabDll, "attach", "--tap", "tap0", "--addr", "10.77.0.2/24", .. option.Split(' ')]);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal(message, r.Stderr.Trim());
    }

    /// <summary>
    /// Frames no stack should accept, sent raw on tap0: a one-byte IPv4 header, an IPv4 header with a bad checksum, a header
    /// longer than the frame, a total length beyond the frame, a TCP segment with a bad checksum, a truncated ARP.
    /// NetLab drops each under the counter Linux uses (netstat -s at exit) and keeps answering.
    /// </summary>
    [Fact]
    public void MalformedFrames_AreCountedAndDropped_AndTheHostKeepsAnswering()
    {
        using var lab = TapLab.Create();
        var netlab = lab.StartNetLab();
        var mac = Regex.Match(netlab.Stdout, @"link/ether ([0-9a-f:]{17})").Groups[1].Value;
        var script = $$"""
            import socket, struct
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            s.bind(("tap0", 0))
            dst = bytes.fromhex("{{mac.Replace(":", "")}}")
            src = s.getsockname()[4]
            def eth(t, payload): return dst + src + struct.pack("!H", t) + payload
            def csum(b):
                b = b + b"\0" * (len(b) % 2)
                x = sum(struct.unpack("!%dH" % (len(b) // 2), b))
                while x >> 16: x = (x & 0xffff) + (x >> 16)
                return ~x & 0xffff
            def ip(proto, payload, total=None, ihl=5, good=True):
                h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total or 20 + len(payload), 1, 0, 64, proto, 0,
                                socket.inet_aton("10.77.0.1"), socket.inet_aton("10.77.0.2"))
                c = csum(h) if good else 0x1234
                return h[:10] + struct.pack("!H", c) + h[12:] + payload
            tcp = struct.pack("!HHIIBBHHH", 40000, 7, 1, 0, 0x50, 0x02, 65535, 0xdead, 0)
            frames = [
                eth(0x0800, b"\x45"),                         # one byte of IPv4 header
                eth(0x0800, ip(1, b"\x08\0\0\0\0\0\0\0", good=False)),
                eth(0x0800, ip(6, b"", ihl=15)),               # header claims 60 bytes
                eth(0x0800, ip(17, b"\0" * 8, total=1400)),    # total length beyond the frame
                eth(0x0800, ip(6, tcp)),                       # TCP checksum wrong
                eth(0x0806, b"\x00\x01\x08\x00"),              # ARP cut short
            ]
            for fr in frames: s.send(fr)
            print(len(frames))
            """;
        var r = lab.Sh($"python3 -c '{script}'");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("6", r.Stdout.Trim());
        var ping = lab.Sh("ping -c 2 -i 0.2 10.77.0.2");
        Assert.Contains(" 0% packet loss", ping.Stdout);
        netlab.Terminate();
        Assert.True(netlab.WaitForExit(TimeSpan.FromSeconds(10)));
        var counters = CommandResult.SplitLines(netlab.Stdout);
        // ip_rcv_core(): the one-byte header, the bad checksum and the 60-byte header are InHdrErrors;
        // the total length beyond the frame is InTruncatedPkts; tcp_v4_rcv(): the bad TCP checksum is InErrs + InCsumErrors.
        Assert.Contains("    3 with invalid headers", counters);
        Assert.Contains("    InTruncatedPkts: 1", counters);
        Assert.Contains("    1 bad segments received", counters);
    }
}
