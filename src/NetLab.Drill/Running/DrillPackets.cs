using System.Buffers.Binary;
using System.Text;
using NetLab.Core.Addressing;
using NetLab.Core.Checksums;
using NetLab.Drill.Parsing;
using NetLab.Stack.IPv4;
using NetLab.Stack.Link;

namespace NetLab.Drill.Running;

/// <summary>A TCP option as seen on the wire, in the script's vocabulary (sack blocks and TS values still absolute).</summary>
internal readonly record struct LiveOption(TcpOptionKind Kind, long Value = 0, long Value2 = 0, (uint Start, uint End)[]? Blocks = null, byte[]? Cookie = null);

/// <summary>What the host sent, decoded once: the IPv4 fields the scripts can check and the transport header.</summary>
internal sealed record LivePacket(long TimeNs, Ipv4Repr Ip, LiveTcp? Tcp, int? UdpLength, (byte Type, byte Code)? Icmp);

/// <summary>A TCP header with absolute numbers and the options in order.</summary>
internal sealed record LiveTcp(ushort SrcPort, ushort DstPort, uint Seq, uint Ack, ushort Flags, ushort Window, ushort Urgent, int PayloadLength, LiveOption[] Options);

/// <summary>Bits of the TCP flags word (RFC 9293 §3.1, RFC 3168 §6.1 for E and W).</summary>
internal static class DrillFlags
{
    public const ushort Fin = 0x01, Syn = 0x02, Rst = 0x04, Psh = 0x08, Ack = 0x10, Urg = 0x20, Ece = 0x40, Cwr = 0x80;

    /// <summary>Parses the script's flags (<c>S.</c>, <c>FP.</c>, <c>-</c>) into bits.</summary>
    public static ushort Parse(string flags)
    {
        ushort bits = 0;
        foreach (char c in flags)
        {
            bits |= c switch
            {
                'F' => Fin, 'S' => Syn, 'R' => Rst, 'P' => Psh, '.' => Ack, 'U' => Urg, 'E' => Ece, 'W' => Cwr,
                _ => (ushort)0,
            };
        }
        return bits;
    }

    /// <summary>packetdrill's notation, in the order scripts write flags (SEW, SF., FP.), "-" for none.</summary>
    public static string Format(ushort bits)
    {
        if ((bits & 0xFF) == 0) return "-";
        var sb = new StringBuilder();
        if ((bits & Syn) != 0) sb.Append('S');
        if ((bits & Fin) != 0) sb.Append('F');
        if ((bits & Rst) != 0) sb.Append('R');
        if ((bits & Psh) != 0) sb.Append('P');
        if ((bits & Ece) != 0) sb.Append('E');
        if ((bits & Cwr) != 0) sb.Append('W');
        if ((bits & Urg) != 0) sb.Append('U');
        if ((bits & Ack) != 0) sb.Append('.');
        return sb.ToString();
    }
}

/// <summary>Decodes the frames the host sends and encodes the frames the script's remote end sends.</summary>
internal static class DrillPackets
{
    private const int EthLen = EthernetHeaderView.Length;
    private const byte KindEol = 0, KindNop = 1, KindMss = 2, KindWscale = 3, KindSackOk = 4, KindSack = 5, KindTs = 8,
        KindMd5 = 19, KindFastOpen = 34, KindExp = 254; // TCPOPT_* (include/net/tcp.h)
    private const ushort FastOpenMagic = 0xF989;          // TCPOPT_FASTOPEN_MAGIC, RFC 7413 §4.1.1

    /// <summary>Decodes an IPv4 frame the host sent; false for anything else (ARP) or a malformed frame.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> frame, long timeNs, out LivePacket? packet)
    {
        packet = null;
        if (frame.Length < EthLen + Ipv4Repr.HeaderLength) return false;
        if (BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) != EtherType.Ipv4) return false;
        var ipBytes = frame[EthLen..].ToArray();
        if (!Ipv4Repr.TryParse(ipBytes, out var ip, verifyChecksum: false)) return false;
        int ihl = (ipBytes[0] & 0x0F) * 4;
        var l4 = ipBytes.AsSpan(ihl, Math.Min(ip.PayloadLength, ipBytes.Length - ihl));
        switch (ip.Protocol)
        {
            case IpProtocol.Tcp when l4.Length >= 20:
            {
                int doff = (l4[12] >> 4) * 4;
                if (doff < 20 || doff > l4.Length) return false;
                var options = DecodeOptions(l4[20..doff]);
                if (options is null) return false;
                var tcp = new LiveTcp(
                    BinaryPrimitives.ReadUInt16BigEndian(l4), BinaryPrimitives.ReadUInt16BigEndian(l4[2..]),
                    BinaryPrimitives.ReadUInt32BigEndian(l4[4..]), BinaryPrimitives.ReadUInt32BigEndian(l4[8..]),
                    (ushort)(BinaryPrimitives.ReadUInt16BigEndian(l4[12..]) & 0x1FF), BinaryPrimitives.ReadUInt16BigEndian(l4[14..]),
                    BinaryPrimitives.ReadUInt16BigEndian(l4[18..]), l4.Length - doff, options);
                packet = new LivePacket(timeNs, ip, tcp, null, null);
                return true;
            }
            case IpProtocol.Udp when l4.Length >= 8:
                packet = new LivePacket(timeNs, ip, null, l4.Length - 8, null);
                return true;
            case IpProtocol.Icmp when l4.Length >= 8:
                packet = new LivePacket(timeNs, ip, null, null, (l4[0], l4[1]));
                return true;
        }
        return false;
    }

    /// <summary>The options area, kind by kind; null when an option's length runs past the header.</summary>
    private static LiveOption[]? DecodeOptions(ReadOnlySpan<byte> b)
    {
        var list = new List<LiveOption>();
        int i = 0;
        while (i < b.Length)
        {
            byte kind = b[i];
            if (kind == KindEol) { list.Add(new(TcpOptionKind.Eol)); i++; continue; }
            if (kind == KindNop) { list.Add(new(TcpOptionKind.Nop)); i++; continue; }
            if (i + 1 >= b.Length) return null;
            int len = b[i + 1];
            if (len < 2 || i + len > b.Length) return null;
            var body = b.Slice(i + 2, len - 2);
            switch (kind)
            {
                case KindMss when len == 4: list.Add(new(TcpOptionKind.Mss, BinaryPrimitives.ReadUInt16BigEndian(body))); break;
                case KindWscale when len == 3: list.Add(new(TcpOptionKind.WindowScale, body[0])); break;
                case KindSackOk when len == 2: list.Add(new(TcpOptionKind.SackPermitted)); break;
                case KindTs when len == 10:
                    list.Add(new(TcpOptionKind.Timestamp, BinaryPrimitives.ReadUInt32BigEndian(body), BinaryPrimitives.ReadUInt32BigEndian(body[4..])));
                    break;
                case KindSack when (len - 2) % 8 == 0:
                {
                    var blocks = new (uint, uint)[(len - 2) / 8];
                    for (int k = 0; k < blocks.Length; k++)
                        blocks[k] = (BinaryPrimitives.ReadUInt32BigEndian(body[(k * 8)..]), BinaryPrimitives.ReadUInt32BigEndian(body[(k * 8 + 4)..]));
                    list.Add(new(TcpOptionKind.Sack, Blocks: blocks));
                    break;
                }
                case KindMd5: list.Add(new(TcpOptionKind.Md5, Cookie: body.ToArray())); break;
                case KindFastOpen: list.Add(new(TcpOptionKind.FastOpen, Cookie: body.ToArray())); break;
                case KindExp when len >= 4 && BinaryPrimitives.ReadUInt16BigEndian(body) == FastOpenMagic:
                    list.Add(new(TcpOptionKind.FastOpenExp, Cookie: body[2..].ToArray()));
                    break;
                default: list.Add(new((TcpOptionKind)(-1), kind, Cookie: body.ToArray())); break;
            }
            i += len;
        }
        return list.ToArray();
    }

    /// <summary>Encodes options in the order given (no padding is added: scripts write their nops).</summary>
    public static byte[] EncodeOptions(IReadOnlyList<LiveOption> options)
    {
        var b = new List<byte>();
        foreach (var o in options)
        {
            switch (o.Kind)
            {
                case TcpOptionKind.Nop: b.Add(KindNop); break;
                case TcpOptionKind.Eol: b.Add(KindEol); break;
                case TcpOptionKind.Mss: b.AddRange([KindMss, 4, (byte)(o.Value >> 8), (byte)o.Value]); break;
                case TcpOptionKind.WindowScale: b.AddRange([KindWscale, 3, (byte)o.Value]); break;
                case TcpOptionKind.SackPermitted: b.AddRange([KindSackOk, 2]); break;
                case TcpOptionKind.Timestamp:
                    b.AddRange([KindTs, 10]);
                    AddBe32(b, (uint)o.Value);
                    AddBe32(b, (uint)o.Value2);
                    break;
                case TcpOptionKind.Sack:
                    b.AddRange([KindSack, (byte)(2 + 8 * o.Blocks!.Length)]);
                    foreach (var (s, e) in o.Blocks) { AddBe32(b, s); AddBe32(b, e); }
                    break;
                case TcpOptionKind.FastOpen:
                    b.AddRange([KindFastOpen, (byte)(2 + o.Cookie!.Length)]);
                    b.AddRange(o.Cookie);
                    break;
                case TcpOptionKind.FastOpenExp:
                    b.AddRange([KindExp, (byte)(4 + o.Cookie!.Length), FastOpenMagic >> 8, FastOpenMagic & 0xFF]);
                    b.AddRange(o.Cookie);
                    break;
                case TcpOptionKind.Md5:
                    // An md5 option is opaque to NetLab (no TCP-MD5): 16 bytes of digest, as given or zero.
                    b.AddRange([KindMd5, 18]);
                    var digest = new byte[16];
                    o.Cookie?.AsSpan(0, Math.Min(16, o.Cookie.Length)).CopyTo(digest);
                    b.AddRange(digest);
                    break;
            }
        }
        return b.ToArray();
    }

    private static void AddBe32(List<byte> b, uint v) => b.AddRange([(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v]);

    /// <summary>An Ethernet frame carrying a TCP segment from the remote end, checksums filled in.</summary>
    public static byte[] BuildTcp(MacAddress dst, MacAddress src, Ipv4Address ipSrc, Ipv4Address ipDst, byte tos, byte ttl,
        ushort sport, ushort dport, uint seq, uint ack, ushort flags, ushort window, ushort urgent, byte[] options, int payloadLength)
    {
        if (options.Length % 4 != 0) Array.Resize(ref options, (options.Length + 3) / 4 * 4); // EOL padding to a 32-bit boundary
        int tcpLen = 20 + options.Length + payloadLength;
        var frame = new byte[EthLen + Ipv4Repr.HeaderLength + tcpLen];
        WriteEthIp(frame, dst, src, new Ipv4Repr(ipSrc, ipDst, IpProtocol.Tcp, tcpLen, ttl, tos));
        var t = frame.AsSpan(EthLen + Ipv4Repr.HeaderLength);
        BinaryPrimitives.WriteUInt16BigEndian(t, sport);
        BinaryPrimitives.WriteUInt16BigEndian(t[2..], dport);
        BinaryPrimitives.WriteUInt32BigEndian(t[4..], seq);
        BinaryPrimitives.WriteUInt32BigEndian(t[8..], ack);
        BinaryPrimitives.WriteUInt16BigEndian(t[12..], (ushort)(((20 + options.Length) / 4) << 12 | flags));
        BinaryPrimitives.WriteUInt16BigEndian(t[14..], window);
        BinaryPrimitives.WriteUInt16BigEndian(t[18..], urgent);
        options.CopyTo(t[20..]);
        FillL4Checksum(t, 16, ipSrc, ipDst, IpProtocol.Tcp);
        return frame;
    }

    /// <summary>An ICMP error from the remote end quoting a TCP segment the host sent (RFC 792: IP header + 8 bytes).</summary>
    public static byte[] BuildIcmp(MacAddress dst, MacAddress src, Ipv4Address ipSrc, Ipv4Address ipDst, byte type, byte code,
        ushort mtu, ReadOnlySpan<byte> quotedIpAndTcp)
    {
        int len = 8 + quotedIpAndTcp.Length;
        var frame = new byte[EthLen + Ipv4Repr.HeaderLength + len];
        WriteEthIp(frame, dst, src, new Ipv4Repr(ipSrc, ipDst, IpProtocol.Icmp, len));
        var icmp = frame.AsSpan(EthLen + Ipv4Repr.HeaderLength);
        icmp[0] = type;
        icmp[1] = code;
        BinaryPrimitives.WriteUInt16BigEndian(icmp[6..], mtu); // next-hop MTU for frag_needed (RFC 1191 §4)
        quotedIpAndTcp.CopyTo(icmp[8..]);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], InternetChecksum.Compute(icmp));
        return frame;
    }

    /// <summary>A UDP datagram of <paramref name="payloadLength"/> zero bytes.</summary>
    public static byte[] BuildUdp(MacAddress dst, MacAddress src, Ipv4Address ipSrc, Ipv4Address ipDst, byte tos, byte ttl,
        ushort sport, ushort dport, int payloadLength)
    {
        int len = 8 + payloadLength;
        var frame = new byte[EthLen + Ipv4Repr.HeaderLength + len];
        WriteEthIp(frame, dst, src, new Ipv4Repr(ipSrc, ipDst, IpProtocol.Udp, len, ttl, tos));
        var u = frame.AsSpan(EthLen + Ipv4Repr.HeaderLength);
        BinaryPrimitives.WriteUInt16BigEndian(u, sport);
        BinaryPrimitives.WriteUInt16BigEndian(u[2..], dport);
        BinaryPrimitives.WriteUInt16BigEndian(u[4..], (ushort)len);
        FillL4Checksum(u, 6, ipSrc, ipDst, IpProtocol.Udp);
        return frame;
    }

    private static void WriteEthIp(byte[] frame, MacAddress dst, MacAddress src, Ipv4Repr ip)
    {
        new EthernetRepr(dst, src, EtherType.Ipv4).Emit(frame);
        ip.Emit(frame.AsSpan(EthLen));
    }

    private static void FillL4Checksum(Span<byte> l4, int at, Ipv4Address src, Ipv4Address dst, byte protocol)
    {
        ulong sum = InternetChecksum.PseudoHeader(src, dst, protocol, l4.Length);
        ushort c = InternetChecksum.Finish(InternetChecksum.Add(sum, l4));
        if (protocol == IpProtocol.Udp && c == 0) c = 0xFFFF; // RFC 768: a computed zero is sent as all ones
        BinaryPrimitives.WriteUInt16BigEndian(l4[at..], c);
    }
}
