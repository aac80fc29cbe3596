using NetLab.Core;

namespace NetLab.Stack.Tests.Codecs;

/// <summary>
/// Frames captured from Linux 6.18.44 (iputils ping 20221126, socat 1.7.4.4) in network namespaces joined by veth
/// pairs, with dumpcap on nlfx1's v1 (CONVENTIONS rule 10). Fixtures/capture.sh rebuilds the topology and the two
/// captures kept next to it (linux-codecs.pcap, linux-ipv4-options-fragments.pcap):
/// <code>
/// nlfx1 v1 10.77.9.1/24 02:4e:4c:09:00:01 --- v2 10.77.9.2/24 02:4e:4c:09:00:02 nlfx2 (forwarding)
///                                             v3 10.77.10.1/24 mtu 1280 --- v4 10.77.10.2/24 nlfx3
/// </code>
/// TX/RX checksum offload was off, so every checksum on the wire is complete; tshark reports all of them Good.
/// Each frame is pasted whole, Ethernet header first; the tests slice out the layer they need.
/// </summary>
public static partial class LinuxCaptures
{
    public const int EthernetLength = 14;

    /// <summary>
    /// ARP request, who-has 10.77.9.2 tell 10.77.9.1 (42 bytes: veth does not pad to 60).
    /// Frame 1 of linux-codecs.pcap; ping's first packet triggered it.
    /// </summary>
    public static readonly byte[] ArpRequest = Hex.Parse("""
        ffff ffff ffff 024e 4c09 0001 0806 0001
        0800 0604 0001 024e 4c09 0001 0a4d 0901
        0000 0000 0000 0a4d 0902
        """);

    /// <summary>ARP reply 10.77.9.2 is-at 02:4e:4c:09:00:02. Frame 2 of linux-codecs.pcap.</summary>
    public static readonly byte[] ArpReply = Hex.Parse("""
        024e 4c09 0001 024e 4c09 0002 0806 0001
        0800 0604 0002 024e 4c09 0002 0a4d 0902
        024e 4c09 0001 0a4d 0901
        """);

    /// <summary>
    /// ICMP echo request 10.77.9.1 -> 10.77.9.2, id 0x3055 seq 1, IP id 0xec0f DF ttl 64, ICMP checksum 0x3cdf
    /// (ping -c1 10.77.9.2; 56 data bytes: an 8-byte timeval, then 0x10..0x37). Frame 3 of linux-codecs.pcap.
    /// </summary>
    public static readonly byte[] EchoRequest = Hex.Parse("""
        024e 4c09 0002 024e 4c09 0001 0800 4500
        0054 ec0f 4000 4001 27fd 0a4d 0901 0a4d
        0902 0800 3cdf 3055 0001 a20c 066b 0000
        0000 2380 0000 0000 0000 1011 1213 1415
        1617 1819 1a1b 1c1d 1e1f 2021 2223 2425
        2627 2829 2a2b 2c2d 2e2f 3031 3233 3435
        3637
        """);

    /// <summary>
    /// ICMP echo reply 10.77.9.2 -> 10.77.9.1, id 0x3055 seq 1, IP id 0x4239 (no DF: the kernel's ICMP socket uses IP_PMTUDISC_DONT), checksum 0x44df.
    /// Frame 4 of linux-codecs.pcap.
    /// </summary>
    public static readonly byte[] EchoReply = Hex.Parse("""
        024e 4c09 0001 024e 4c09 0002 0800 4500
        0054 4239 0000 4001 11d4 0a4d 0902 0a4d
        0901 0000 44df 3055 0001 a20c 066b 0000
        0000 2380 0000 0000 0000 1011 1213 1415
        1617 1819 1a1b 1c1d 1e1f 2021 2223 2425
        2627 2829 2a2b 2c2d 2e2f 3031 3233 3435
        3637
        """);

    /// <summary>
    /// ICMP time exceeded in-transit from the router 10.77.9.2 for ping -t 1 10.77.10.2: outer TOS 0xc0
    /// (Linux sends ICMP errors with IPTOS_PREC_INTERNETCONTROL), IP id 0x423a, ICMP checksum 0xf4ff; quotes the whole
    /// 84-byte original datagram (TTL 1). Frame 6 of linux-codecs.pcap.
    /// </summary>
    public static readonly byte[] TimeExceeded = Hex.Parse("""
        024e 4c09 0001 024e 4c09 0002 0800 45c0
        0070 423a 0000 4001 10f7 0a4d 0902 0a4d
        0901 0b00 f4ff 0000 0000 4500 0054 b3c2
        4000 0101 9e4a 0a4d 0901 0a4d 0a02 0800
        49c9 3056 0001 a20c 066b 0000 0000 1695
        0000 0000 0000 1011 1213 1415 1617 1819
        1a1b 1c1d 1e1f 2021 2223 2425 2627 2829
        2a2b 2c2d 2e2f 3031 3233 3435 3637
        """);

    /// <summary>
    /// ICMP destination unreachable, fragmentation needed, next-hop MTU 1280 (0x0500), from the router 10.77.9.2
    /// for ping -M do -s 1400 10.77.10.2 (a 1428-byte DF datagram, IP id 0). TOS 0xc0, IP id 0x423b, ICMP checksum 0x0ec9;
    /// the IP datagram is 576 bytes, as icmp_send() caps it (RFC 1812 §4.3.2.3). Frame 8 of linux-codecs.pcap.
    /// </summary>
    public static readonly byte[] FragNeeded = Hex.Parse("""
        024e 4c09 0001 024e 4c09 0002 0800 45c0
        0240 423b 0000 4001 0f26 0a4d 0902 0a4d
        0901 0304 0ec9 0000 0500 4500 0594 0000
        4000 4001 0dcd 0a4d 0901 0a4d 0a02 0800
        106f 3057 0001 a20c 066b 0000 0000 a3a4
        0000 0000 0000 1011 1213 1415 1617 1819
        1a1b 1c1d 1e1f 2021 2223 2425 2627 2829
        2a2b 2c2d 2e2f 3031 3233 3435 3637 3839
        3a3b 3c3d 3e3f 4041 4243 4445 4647 4849
        4a4b 4c4d 4e4f 5051 5253 5455 5657 5859
        5a5b 5c5d 5e5f 6061 6263 6465 6667 6869
        6a6b 6c6d 6e6f 7071 7273 7475 7677 7879
        7a7b 7c7d 7e7f 8081 8283 8485 8687 8889
        8a8b 8c8d 8e8f 9091 9293 9495 9697 9899
        9a9b 9c9d 9e9f a0a1 a2a3 a4a5 a6a7 a8a9
        aaab acad aeaf b0b1 b2b3 b4b5 b6b7 b8b9
        babb bcbd bebf c0c1 c2c3 c4c5 c6c7 c8c9
        cacb cccd cecf d0d1 d2d3 d4d5 d6d7 d8d9
        dadb dcdd dedf e0e1 e2e3 e4e5 e6e7 e8e9
        eaeb eced eeef f0f1 f2f3 f4f5 f6f7 f8f9
        fafb fcfd feff 0001 0203 0405 0607 0809
        0a0b 0c0d 0e0f 1011 1213 1415 1617 1819
        1a1b 1c1d 1e1f 2021 2223 2425 2627 2829
        2a2b 2c2d 2e2f 3031 3233 3435 3637 3839
        3a3b 3c3d 3e3f 4041 4243 4445 4647 4849
        4a4b 4c4d 4e4f 5051 5253 5455 5657 5859
        5a5b 5c5d 5e5f 6061 6263 6465 6667 6869
        6a6b 6c6d 6e6f 7071 7273 7475 7677 7879
        7a7b 7c7d 7e7f 8081 8283 8485 8687 8889
        8a8b 8c8d 8e8f 9091 9293 9495 9697 9899
        9a9b 9c9d 9e9f a0a1 a2a3 a4a5 a6a7 a8a9
        aaab acad aeaf b0b1 b2b3 b4b5 b6b7 b8b9
        babb bcbd bebf c0c1 c2c3 c4c5 c6c7 c8c9
        cacb cccd cecf d0d1 d2d3 d4d5 d6d7 d8d9
        dadb dcdd dedf e0e1 e2e3 e4e5 e6e7 e8e9
        eaeb eced eeef f0f1 f2f3 f4f5 f6f7 f8f9
        fafb fcfd feff 0001 0203 0405 0607
        """);

    /// <summary>
    /// UDP 10.77.9.1:40000 -> 10.77.9.2:7777, payload "hi\n", checksum 0xac30, IP id 0x947f DF
    /// (echo hi | socat - UDP:10.77.9.2:7777,sourceport=40000). Frame 9 of linux-codecs.pcap.
    /// </summary>
    public static readonly byte[] UdpHi = Hex.Parse("""
        024e 4c09 0002 024e 4c09 0001 0800 4500
        001f 947f 4000 4011 7fb2 0a4d 0901 0a4d
        0902 9c40 1e61 000b ac30 6869 0a
        """);

    /// <summary>
    /// ICMP port unreachable 10.77.9.2 -> 10.77.9.1 for a datagram to port 9 (echo hi > /dev/udp/10.77.9.2/9),
    /// TOS 0xc0, ICMP checksum 0x23b6, quoting the whole 31-byte datagram. Frame 11 of linux-codecs.pcap.
    /// </summary>
    public static readonly byte[] PortUnreachable = Hex.Parse("""
        024e 4c09 0001 024e 4c09 0002 0800 45c0
        003b 427c 0000 4001 10ea 0a4d 0902 0a4d
        0901 0303 23b6 0000 0000 4500 001f cd11
        4000 4011 4720 0a4d 0901 0a4d 0902 9673
        0009 000b d055 6869 0a
        """);

    /// <summary>
    /// ICMP echo request with a Record Route option (ping -R 10.77.9.2): IHL 15 (0x4f), 40 bytes of options
    /// (NOP, then record route: type 7, length 39, pointer 8, first slot 10.77.9.1), IP id 0xf182 DF, checksum 0xdd04.
    /// Frame 1 of linux-ipv4-options-fragments.pcap.
    /// </summary>
    public static readonly byte[] RecordRouteEchoRequest = Hex.Parse("""
        024e 4c09 0002 024e 4c09 0001 0800 4f00
        007c f182 4000 4001 dd04 0a4d 0901 0a4d
        0902 0107 2708 0a4d 0901 0000 0000 0000
        0000 0000 0000 0000 0000 0000 0000 0000
        0000 0000 0000 0000 0000 0800 6955 32b5
        0001 ba0c 066b 0000 0000 dca9 0000 0000
        0000 1011 1213 1415 1617 1819 1a1b 1c1d
        1e1f 2021 2223 2425 2627 2829 2a2b 2c2d
        2e2f 3031 3233 3435 3637
        """);

    /// <summary>
    /// Last fragment of a 1628-byte echo request (ping -s 1600 -M dont 10.77.9.2 over MTU 1500): IP id 0xf185,
    /// flags/offset 0x00b9 (MF clear, offset 185 * 8 = 1480), 148-byte datagram, checksum 0x618e.
    /// Frame 4 of linux-ipv4-options-fragments.pcap.
    /// </summary>
    public static readonly byte[] LastFragment = Hex.Parse("""
        024e 4c09 0002 024e 4c09 0001 0800 4500
        0094 f185 00b9 4001 618e 0a4d 0901 0a4d
        0902 c0c1 c2c3 c4c5 c6c7 c8c9 cacb cccd
        cecf d0d1 d2d3 d4d5 d6d7 d8d9 dadb dcdd
        dedf e0e1 e2e3 e4e5 e6e7 e8e9 eaeb eced
        eeef f0f1 f2f3 f4f5 f6f7 f8f9 fafb fcfd
        feff 0001 0203 0405 0607 0809 0a0b 0c0d
        0e0f 1011 1213 1415 1617 1819 1a1b 1c1d
        1e1f 2021 2223 2425 2627 2829 2a2b 2c2d
        2e2f 3031 3233 3435 3637 3839 3a3b 3c3d
        3e3f
        """);
}
