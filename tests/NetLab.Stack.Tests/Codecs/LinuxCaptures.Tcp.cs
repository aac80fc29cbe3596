using NetLab.Core;

namespace NetLab.Stack.Tests.Codecs;

/// <summary>
/// TCP segments captured from Linux 6.18.44 (uname -r: 6.18.44-fc-v782; socat 1.7.4.4, curl 7.88.1) in network
/// namespaces joined by a veth pair. Fixtures/tcp-capture.sh rebuilds the topology and the three captures kept next
/// to it (linux-tcp.pcap, linux-tcp-sack.pcap, linux-tcp-fastopen.pcap):
/// <code>
/// nltcp1 v1 10.77.20.1/24 02:4e:4c:14:00:01 --- v2 10.77.20.2/24 02:4e:4c:14:00:02 nltcp2
/// </code>
/// Checksum offload, TSO, GSO and GRO were off on both ends, so every TCP checksum on the wire is complete (tshark:
/// all Good) and every segment is one MSS at most. Sysctls were the defaults (tcp_timestamps 1, tcp_sack 1,
/// tcp_window_scaling 1, tcp_ecn 2), except where noted. Window scale 10 comes from the default tcp_rmem on this
/// host. Each frame is pasted whole, Ethernet header first; the TCP segment starts at byte 34.
/// </summary>
public static partial class LinuxCaptures
{
    /// <summary>
    /// SYN 10.77.20.1:40001 -> 10.77.20.2:7777 (socat TCP:10.77.20.2:7777,sourceport=40001): IP id 0xca51 DF;
    /// seq 0x7b0a2123, data offset 10, win 64240, checksum 0x576e; options mss 1460, sackOK + TS val 0xe7ae7a82
    /// ecr 0, nop + wscale 10 (tcp_options_write(): SACKPERM shares the timestamp's word). Frame 1 of linux-tcp.pcap.
    /// </summary>
    public static readonly byte[] TcpSyn = Hex.Parse("""
        024e 4c14 0002 024e 4c14 0001 0800 4500
        003c ca51 4000 4006 33ce 0a4d 1401 0a4d
        1402 9c41 1e61 7b0a 2123 0000 0000 a002
        faf0 576e 0000 0204 05b4 0402 080a e7ae
        7a82 0000 0000 0103 030a
        """);

    /// <summary>
    /// SYN-ACK 10.77.20.2:7777 -> 10.77.20.1:40001: IP id 0 DF; seq 0x3aee8b18, ack 0x7b0a2124, win 65160,
    /// checksum 0x014d; options mss 1460, sackOK + TS val 0x175f7512 ecr 0xe7ae7a82, nop + wscale 10.
    /// Frame 2 of linux-tcp.pcap.
    /// </summary>
    public static readonly byte[] TcpSynAck = Hex.Parse("""
        024e 4c14 0001 024e 4c14 0002 0800 4500
        003c 0000 4000 4006 fe1f 0a4d 1402 0a4d
        1401 1e61 9c41 3aee 8b18 7b0a 2124 a012
        fe88 014d 0000 0204 05b4 0402 080a 175f
        7512 e7ae 7a82 0103 030a
        """);

    /// <summary>
    /// The handshake's final ACK 10.77.20.1:40001 -> 10.77.20.2:7777: IP id 0xca52; seq 0x7b0a2124, ack 0x3aee8b19,
    /// data offset 8, win 63 (scaled by 2^10), checksum 0x2e66; options nop, nop, TS val 0xe7ae7a82 ecr 0x175f7512.
    /// Frame 3 of linux-tcp.pcap.
    /// </summary>
    public static readonly byte[] TcpAck = Hex.Parse("""
        024e 4c14 0002 024e 4c14 0001 0800 4500
        0034 ca52 4000 4006 33d5 0a4d 1401 0a4d
        1402 9c41 1e61 7b0a 2124 3aee 8b19 8010
        003f 2e66 0000 0101 080a e7ae 7a82 175f
        7512
        """);

    /// <summary>
    /// Data with PSH 10.77.20.1:40001 -> 10.77.20.2:7777, "hello\n": IP id 0xca53; seq 0x7b0a2124, ack 0x3aee8b19,
    /// flags PSH|ACK, win 63, checksum 0xea7b; options nop, nop, TS val 0xe7ae7a82 ecr 0x175f7512.
    /// Frame 4 of linux-tcp.pcap.
    /// </summary>
    public static readonly byte[] TcpPshData = Hex.Parse("""
        024e 4c14 0002 024e 4c14 0001 0800 4500
        003a ca53 4000 4006 33ce 0a4d 1401 0a4d
        1402 9c41 1e61 7b0a 2124 3aee 8b19 8018
        003f ea7b 0000 0101 080a e7ae 7a82 175f
        7512 6865 6c6c 6f0a
        """);

    /// <summary>
    /// FIN 10.77.20.1:40001 -> 10.77.20.2:7777 (socat closing after stdin's EOF): IP id 0xca54; seq 0x7b0a212a,
    /// ack 0x3aee8b19, flags FIN|ACK, win 63, checksum 0x2c6e; options nop, nop, TS val 0xe7ae7c73 ecr 0x175f7512.
    /// Frame 6 of linux-tcp.pcap.
    /// </summary>
    public static readonly byte[] TcpFin = Hex.Parse("""
        024e 4c14 0002 024e 4c14 0001 0800 4500
        0034 ca54 4000 4006 33d3 0a4d 1401 0a4d
        1402 9c41 1e61 7b0a 212a 3aee 8b19 8011
        003f 2c6e 0000 0101 080a e7ae 7c73 175f
        7512
        """);

    /// <summary>
    /// RST 10.77.20.2:9 -> 10.77.20.1:40002, the answer to a SYN (seq 0xe4e08c30) for a port nobody listens on:
    /// tcp_v4_send_reset() sends seq 0, ack 0xe4e08c31 (the SYN's seq + 1), flags RST|ACK, win 0, no options;
    /// IP id 0 DF, checksum 0x65d6. Frame 10 of linux-tcp.pcap.
    /// </summary>
    public static readonly byte[] TcpRst = Hex.Parse("""
        024e 4c14 0001 024e 4c14 0002 0800 4500
        0028 0000 4000 4006 fe33 0a4d 1402 0a4d
        1401 0009 9c42 0000 0000 e4e0 8c31 5014
        0000 65d6 0000
        """);

    /// <summary>
    /// A receiver's ACK with one SACK block, 10.77.20.2:7778 -> 10.77.20.1:40011, during a 1 MB transfer with 20% of
    /// the data segments dropped: IP id 0xc27f; seq 0x0b61dbf7, ack 0xfb09b549, data offset 11, win 70, checksum
    /// 0x5404; options nop, nop, TS val 0x2c095167 ecr 0xcf259f2f, nop, nop, sack {0xfb09baf1:0xfb09c099} (one
    /// 1448-byte segment past the hole). Frame 1 of linux-tcp-sack.pcap.
    /// </summary>
    public static readonly byte[] TcpSackAck1 = Hex.Parse("""
        024e 4c14 0001 024e 4c14 0002 0800 4500
        0040 c27f 4000 4006 3b9c 0a4d 1402 0a4d
        1401 1e62 9c4b 0b61 dbf7 fb09 b549 b010
        0046 5404 0000 0101 080a 2c09 5167 cf25
        9f2f 0101 050a fb09 baf1 fb09 c099
        """);

    /// <summary>
    /// The same transfer, an ACK with three SACK blocks, the most that fit beside timestamps (12 + 4 + 3 * 8 = 40):
    /// IP id 0xc288; ack 0xfb09cfa1, data offset 15, win 76, checksum 0xd09d; TS val 0x2c095167 ecr 0xcf259f2f;
    /// blocks most recent first (RFC 2018 §4): {0xfb0a0641:0xfb0a0be9} {0xfb09efa1:0xfb09f549}
    /// {0xfb09d549:0xfb09ebe9}. Frame 2 of linux-tcp-sack.pcap.
    /// </summary>
    public static readonly byte[] TcpSackAck3 = Hex.Parse("""
        024e 4c14 0001 024e 4c14 0002 0800 4500
        0050 c288 4000 4006 3b83 0a4d 1402 0a4d
        1401 1e62 9c4b 0b61 dbf7 fb09 cfa1 f010
        004c d09d 0000 0101 080a 2c09 5167 cf25
        9f2f 0101 051a fb0a 0641 fb0a 0be9 fb09
        efa1 fb09 f549 fb09 d549 fb09 ebe9
        """);

    /// <summary>
    /// An ACK with four SACK blocks (TCP_NUM_SACKS), with net.ipv4.tcp_timestamps=0 on both ends,
    /// 10.77.20.2:7778 -> 10.77.20.1:40012: IP id 0x7f46; seq 0xfe010707, ack 0xa8f5e943, data offset 14, win 1110,
    /// checksum 0x77b3; options nop, nop, sack {0xa8f62db3:0xa8f63273} {0xa8f61c97:0xa8f627ff}
    /// {0xa8f6112f:0xa8f616e3} {0xa8f5eef7:0xa8f60b7b}. Frame 3 of linux-tcp-sack.pcap.
    /// </summary>
    public static readonly byte[] TcpSackAck4 = Hex.Parse("""
        024e 4c14 0001 024e 4c14 0002 0800 4500
        004c 7f46 4000 4006 7ec9 0a4d 1402 0a4d
        1401 1e62 9c4c fe01 0707 a8f5 e943 e010
        0456 77b3 0000 0101 0522 a8f6 2db3 a8f6
        3273 a8f6 1c97 a8f6 27ff a8f6 112f a8f6
        16e3 a8f5 eef7 a8f6 0b7b
        """);

    /// <summary>
    /// A SYN asking for a Fast Open cookie (curl --tcp-fastopen, TCP_FASTOPEN_CONNECT, no cookie cached),
    /// 10.77.20.1:40005 -> 10.77.20.2:8080: IP id 0xcd6e; seq 0x3342d167, data offset 11, win 64240, checksum 0xce5f;
    /// options mss 1460, sackOK + TS val 0x6ffede8a ecr 0, nop + wscale 10, then tfo with no cookie (kind 34,
    /// length 2) padded by NOP NOP after it. Frame 1 of linux-tcp-fastopen.pcap.
    /// </summary>
    public static readonly byte[] TcpFastOpenCookieRequest = Hex.Parse("""
        024e 4c14 0002 024e 4c14 0001 0800 4500
        0040 cd6e 4000 4006 30ad 0a4d 1401 0a4d
        1402 9c45 1f90 3342 d167 0000 0000 b002
        faf0 ce5f 0000 0204 05b4 0402 080a 6ffe
        de8a 0000 0000 0103 030a 2202 0101
        """);

    /// <summary>
    /// The SYN-ACK carrying the cookie (server net.ipv4.tcp_fastopen=0x403), 10.77.20.2:8080 -> 10.77.20.1:40005:
    /// IP id 0 DF; seq 0x633e56f2, ack 0x3342d168, data offset 13, win 65160, checksum 0x977e; options mss 1460,
    /// sackOK + TS val 0xe7b2d04e ecr 0x6ffede8a, nop + wscale 10, tfo cookie 7af2622f87c43c0f (kind 34, length 10)
    /// then NOP NOP. Frame 2 of linux-tcp-fastopen.pcap.
    /// </summary>
    public static readonly byte[] TcpFastOpenSynAckCookie = Hex.Parse("""
        024e 4c14 0001 024e 4c14 0002 0800 4500
        0048 0000 4000 4006 fe13 0a4d 1402 0a4d
        1401 1f90 9c45 633e 56f2 3342 d168 d012
        fe88 977e 0000 0204 05b4 0402 080a e7b2
        d04e 6ffe de8a 0103 030a 220a 7af2 622f
        87c4 3c0f 0101
        """);

    /// <summary>
    /// The next SYN, with the cookie and 79 bytes of data (curl's HTTP request), 10.77.20.1:40006 -> 10.77.20.2:8080:
    /// IP id 0x50d0; seq 0xbba919fc, data offset 13, win 64240, checksum 0x1eb4; options mss 1460, sackOK + TS val
    /// 0xae99f4f3 ecr 0, nop + wscale 10, tfo cookie 7af2622f87c43c0f, NOP NOP. Frame 11 of linux-tcp-fastopen.pcap.
    /// </summary>
    public static readonly byte[] TcpFastOpenSynData = Hex.Parse("""
        024e 4c14 0002 024e 4c14 0001 0800 4500
        0097 50d0 4000 4006 acf4 0a4d 1401 0a4d
        1402 9c46 1f90 bba9 19fc 0000 0000 d002
        faf0 1eb4 0000 0204 05b4 0402 080a ae99
        f4f3 0000 0000 0103 030a 220a 7af2 622f
        87c4 3c0f 0101 4745 5420 2f20 4854 5450
        2f31 2e31 0d0a 486f 7374 3a20 3130 2e37
        372e 3230 2e32 3a38 3038 300d 0a55 7365
        722d 4167 656e 743a 2063 7572 6c2f 372e
        3838 2e31 0d0a 4163 6365 7074 3a20 2a2f
        2a0d 0a0d 0a
        """);
}
