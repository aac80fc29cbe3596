using NetLab.Core.Checksums;
using NetLab.Core.Packets;
using NetLab.Stack.IPv4;
using NetLab.Stack.Tcp;

namespace NetLab.Stack.Link;

/// <summary>
/// Generic segmentation offload for IPv4/TCP super-segments (net/core/gso.c skb_gso_segment → inet_gso_segment →
/// tcp_gso_segment), run by a device without <see cref="NetdevFeatures.Tso"/> after its qdisc, as
/// validate_xmit_skb() does; and the checksum a TSO device's driver would finish (skb_checksum_help).
/// </summary>
internal static class Gso
{
    /// <summary>
    /// Cuts <paramref name="frame"/> (link header, IPv4, TCP, then GsoSegs·GsoSize bytes at most) into wire frames
    /// appended to <paramref name="into"/>, returning their total length. Each segment gets the headers with its own
    /// IP total length, IP ID (counting up, as without SKB_GSO_TCP_FIXEDID), sequence number and checksums; FIN and
    /// PSH stay on the last segment only and CWR on the first only (tcp_gso_segment). Takes ownership of the frame.
    /// </summary>
    public static long Segment(Packet frame, PacketPool pool, Queue<Packet> into)
    {
        int start = frame.DataOffset;
        int net = frame.NetworkOffset, transport = frame.TransportOffset;
        var buf = frame.Buffer;
        int ipLen = (buf[net] & 0xF) * 4;
        int tcpLen = (buf[transport + 12] >> 4) * 4;
        int headers = transport + tcpLen - start;
        int payload = frame.Length - headers;
        var ip = Ipv4HeaderView.ForEmit(buf[net..]);
        var src = ip.Source;
        var dst = ip.Destination;
        ushort id = ip.Identification;
        var seq = TcpHeaderView.ForEmit(buf[transport..]).SequenceNumber;
        int gso = frame.GsoSize;
        long bytes = 0;
        for (int off = 0, i = 0; off < payload; off += gso, i++)
        {
            int n = Math.Min(gso, payload - off);
            bool first = off == 0, last = off + n >= payload;
            var seg = pool.RentUninitialized(PacketPool.DefaultHeadroom, headers + n);
            var d = seg.Data;
            frame.Data[..headers].CopyTo(d);
            ulong payloadSum = InternetChecksum.CopyAndAdd(0, frame.Data.Slice(headers + off, n), d[headers..]);
            int segNet = net - start, segTransport = transport - start;
            var sip = Ipv4HeaderView.ForEmit(d[segNet..]);
            sip.TotalLength = (ushort)(ipLen + tcpLen + n);
            sip.Identification = (ushort)(id + i);
            sip.FillChecksum();
            var tcp = TcpHeaderView.ForEmit(d.Slice(segTransport, tcpLen + n));
            tcp.SequenceNumber = seq + off;
            var flags = tcp.Flags;
            if (!last) flags &= ~(TcpFlags.Fin | TcpFlags.Psh);
            if (!first) flags &= ~TcpFlags.Cwr;
            tcp.Flags = flags;
            // The checksum from the header's sum and the payload's, summed while copying (csum_partial_copy).
            var th = d.Slice(segTransport, tcpLen);
            tcp.Checksum = 0;
            tcp.Checksum = InternetChecksum.Finish(InternetChecksum.Add(
                InternetChecksum.PseudoHeader(src, dst, IpProtocol.Tcp, tcpLen + n) + payloadSum, th));
            seg.ChecksumUnnecessary = true;
            seg.NetworkOffset = seg.DataOffset + segNet;
            seg.TransportOffset = seg.DataOffset + segTransport;
            seg.Protocol = frame.Protocol;
            seg.PacketType = frame.PacketType;
            seg.Priority = frame.Priority;
            seg.Mark = frame.Mark;
            seg.Timestamp = frame.Timestamp;
            into.Enqueue(seg);
            bytes += seg.Length;
        }
        frame.Dispose();
        return bytes;
    }

    /// <summary>skb_checksum_help() for a GSO packet handed whole to a TSO device: the TCP checksum over all of it.</summary>
    public static void CompleteChecksum(Packet frame)
    {
        var buf = frame.Buffer;
        var ip = Ipv4HeaderView.ForEmit(buf[frame.NetworkOffset..]);
        int end = frame.DataOffset + frame.Length;
        TcpHeaderView.ForEmit(buf[frame.TransportOffset..end]).FillChecksum(ip.Source, ip.Destination);
    }
}
