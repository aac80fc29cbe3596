using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using NetLab.Core.Addressing;
using NetLab.Core.Checksums;
using NetLab.Stack.IPv4;

namespace NetLab.Stack.Tcp;

/// <summary>
/// The control bits (RFC 9293 §3.1), with their Linux names TCPHDR_FIN ... TCPHDR_CWR, TCPHDR_AE
/// (include/net/tcp.h): the low 9 bits of the 16-bit word at offset 12, below the data offset.
/// </summary>
[Flags]
public enum TcpFlags : ushort
{
    None = 0,
    Fin = 0x001,
    Syn = 0x002,
    Rst = 0x004,
    Psh = 0x008,
    Ack = 0x010,
    Urg = 0x020,
    /// <summary>ECN-Echo (RFC 3168 §6.1).</summary>
    Ece = 0x040,
    /// <summary>Congestion Window Reduced (RFC 3168 §6.1).</summary>
    Cwr = 0x080,
    /// <summary>Accurate ECN (RFC 9768 §3.1), formerly NS, the ECN nonce sum of the historic RFC 3540.</summary>
    Ae = 0x100,
}

/// <summary>
/// The TCP header (RFC 9293 §3.1; bit 7 is AE since RFC 9768, formerly NS):
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |          Source Port          |       Destination Port        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                        Sequence Number                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Acknowledgment Number                      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Data | Rsr |A|C|E|U|A|P|R|S|F|                               |
/// | Offset| vd  |E|W|C|R|C|S|S|Y|I|            Window             |
/// |       |     | |R|E|G|K|H|T|N|N|                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           Checksum            |         Urgent Pointer        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Options                    |    Padding    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                             data                              |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// The view spans the whole segment: TCP has no length field, so the segment ends where the IP payload ends.
/// </summary>
public readonly ref struct TcpHeaderView
{
    public const int MinLength = 20;  // sizeof(struct tcphdr)
    public const int MaxLength = 60;  // data offset 15
    public const ushort DataOffsetMask = 0xF000, ReservedMask = 0x0E00, FlagsMask = 0x01FF; // word at Field.OffsetFlags

    private static class Field
    {
        public const int SrcPort = 0, DstPort = 2, Seq = 4, Ack = 8, OffsetFlags = 12, Window = 14, Checksum = 16,
            Urgent = 18, Options = 20;
    }

    private readonly Span<byte> _b;
    private TcpHeaderView(Span<byte> b) => _b = b;

    /// <summary>
    /// The only length check (CONVENTIONS rule 1): the fixed header fits, the data offset is at least 5 and the
    /// header it announces fits. Linux: tcp_v4_rcv() ("th->doff &lt; sizeof(struct tcphdr) / 4" is bad_packet,
    /// then pskb_may_pull(skb, th->doff * 4)). Does not check the checksum.
    /// </summary>
    public static bool TryCreate(Span<byte> segment, out TcpHeaderView v)
    {
        v = new(segment);
        if (segment.Length < MinLength) return false;
        int hl = (segment[Field.OffsetFlags] >> 4) * 4;
        return hl >= MinLength && hl <= segment.Length;
    }

    /// <summary>Unchecked: for writing a header into a buffer that may hold stale bytes.</summary>
    public static TcpHeaderView ForEmit(Span<byte> segment) => new(segment);

    public ushort SourcePort { get => Be16(Field.SrcPort); set => SetBe16(Field.SrcPort, value); }
    public ushort DestinationPort { get => Be16(Field.DstPort); set => SetBe16(Field.DstPort, value); }
    public SeqNum SequenceNumber { get => new(Be32(Field.Seq)); set => SetBe32(Field.Seq, value.Value); }
    public SeqNum AcknowledgmentNumber { get => new(Be32(Field.Ack)); set => SetBe32(Field.Ack, value.Value); }

    /// <summary>The data offset in 32-bit words (5..15).</summary>
    public int DataOffset
    {
        get => _b[Field.OffsetFlags] >> 4;
        set => _b[Field.OffsetFlags] = (byte)((_b[Field.OffsetFlags] & 0x0F) | (value << 4));
    }

    /// <summary>The header length with options, in bytes (Linux: th->doff * 4, __tcp_hdrlen()).</summary>
    public int HeaderLength => DataOffset * 4;

    /// <summary>The three reserved bits (RFC 9293 §3.1: must be zero; a receiver ignores them, as Linux does).</summary>
    public int Reserved
    {
        get => (Be16(Field.OffsetFlags) & ReservedMask) >> 9;
        set => SetBe16(Field.OffsetFlags, (ushort)((Be16(Field.OffsetFlags) & ~ReservedMask) | ((value << 9) & ReservedMask)));
    }

    /// <summary>The 9 control bits, AE included (Linux: tcp_flag_word() masked with TCP_FLAG_*).</summary>
    public TcpFlags Flags
    {
        get => (TcpFlags)(Be16(Field.OffsetFlags) & FlagsMask);
        set => SetBe16(Field.OffsetFlags, (ushort)((Be16(Field.OffsetFlags) & ~FlagsMask) | ((ushort)value & FlagsMask)));
    }

    public bool Fin => (Flags & TcpFlags.Fin) != 0;
    public bool Syn => (Flags & TcpFlags.Syn) != 0;
    public bool Rst => (Flags & TcpFlags.Rst) != 0;
    public bool Psh => (Flags & TcpFlags.Psh) != 0;
    public bool Ack => (Flags & TcpFlags.Ack) != 0;
    public bool Urg => (Flags & TcpFlags.Urg) != 0;
    public bool Ece => (Flags & TcpFlags.Ece) != 0;
    public bool Cwr => (Flags & TcpFlags.Cwr) != 0;
    public bool Ae => (Flags & TcpFlags.Ae) != 0;

    /// <summary>The raw window field; on a non-SYN segment it is scaled by the window scale (RFC 7323 §2.3).</summary>
    public ushort Window { get => Be16(Field.Window); set => SetBe16(Field.Window, value); }
    public ushort Checksum { get => Be16(Field.Checksum); set => SetBe16(Field.Checksum, value); }
    public ushort UrgentPointer { get => Be16(Field.Urgent); set => SetBe16(Field.Urgent, value); }

    public Span<byte> Options => _b[Field.Options..HeaderLength];
    public Span<byte> Payload => _b[HeaderLength..];
    public Span<byte> Segment => _b;

    /// <summary>
    /// RFC 9293 §3.1: the one's complement sum over the pseudo-header (source, destination, zero, protocol 6,
    /// TCP length) and the whole segment, the checksum field taken as zero. Unlike UDP, a computed zero is sent
    /// as zero (Linux: tcp_v4_send_check(), __tcp_v4_send_check()).
    /// </summary>
    public void FillChecksum(Ipv4Address src, Ipv4Address dst)
    {
        Checksum = 0;
        Checksum = InternetChecksum.Finish(InternetChecksum.Add(
            InternetChecksum.PseudoHeader(src, dst, IpProtocol.Tcp, _b.Length), _b));
    }

    /// <summary>Linux: tcp_checksum_complete() on the CHECKSUM_NONE path (tcp_v4_checksum_init()).</summary>
    public bool VerifyChecksum(Ipv4Address src, Ipv4Address dst) =>
        InternetChecksum.Fold(InternetChecksum.Add(
            InternetChecksum.PseudoHeader(src, dst, IpProtocol.Tcp, _b.Length), _b)) == 0xFFFF;

    private ushort Be16(int at) => BinaryPrimitives.ReadUInt16BigEndian(_b[at..]);
    private void SetBe16(int at, ushort v) => BinaryPrimitives.WriteUInt16BigEndian(_b[at..], v);
    private uint Be32(int at) => BinaryPrimitives.ReadUInt32BigEndian(_b[at..]);
    private void SetBe32(int at, uint v) => BinaryPrimitives.WriteUInt32BigEndian(_b[at..], v);
}

/// <summary>
/// The meaning of a TCP segment's header: ports, sequence and acknowledgment numbers, control bits (the reserved
/// bits are dropped), the raw window, the urgent pointer, the options and the payload length. The acknowledgment
/// number is kept whether or not ACK is set (Linux fills it in regardless: tcp_transmit_skb() writes rcv_nxt).
/// </summary>
public readonly record struct TcpRepr(
    ushort SourcePort,
    ushort DestinationPort,
    SeqNum Seq,
    SeqNum Ack,
    TcpFlags Flags,
    ushort Window,
    TcpOptionSet Options = default,
    int PayloadLength = 0,
    ushort UrgentPointer = 0)
{
    /// <summary>The header with options, in bytes: 20 plus Linux's aligned option layout.</summary>
    public int HeaderLength => TcpHeaderView.MinLength + Options.Length;

    /// <summary>The sequence space the segment occupies: payload, plus one each for SYN and FIN (RFC 9293 §3.4).</summary>
    public int SequenceLength => PayloadLength + ((Flags & TcpFlags.Syn) != 0 ? 1 : 0) + ((Flags & TcpFlags.Fin) != 0 ? 1 : 0);

    /// <summary>Linux: TCP_SKB_CB(skb)->end_seq = seq + syn + fin + len.</summary>
    public SeqNum EndSeq => Seq + SequenceLength;

    /// <summary>Parses a segment (the whole IP payload) and verifies its checksum.</summary>
    public static bool TryParse(Span<byte> segment, Ipv4Address src, Ipv4Address dst, out TcpRepr repr)
    {
        repr = default;
        return TcpHeaderView.TryCreate(segment, out var v) && TryParse(v, src, dst, out repr);
    }

    /// <summary>
    /// Parses a view made by <see cref="TcpHeaderView.TryCreate"/>, verifying the checksum first (Linux drops a bad
    /// one in tcp_v4_rcv() with TCP_MIB_CSUMERRORS, SKB_DROP_REASON_TCP_CSUM), unless <paramref name="verifyChecksum"/>
    /// is false (skb_csum_unnecessary()). Allocates nothing.
    /// </summary>
    public static bool TryParse(TcpHeaderView view, Ipv4Address src, Ipv4Address dst, out TcpRepr repr, bool verifyChecksum = true)
    {
        repr = default;
        if (verifyChecksum && !view.VerifyChecksum(src, dst)) return false;
        repr = new(view.SourcePort, view.DestinationPort, view.SequenceNumber, view.AcknowledgmentNumber, view.Flags,
            view.Window, TcpOptionSet.Parse(view.Options), view.Segment.Length - view.HeaderLength, view.UrgentPointer);
        return true;
    }

    /// <summary>
    /// Writes the header and options (Linux: __tcp_transmit_skb() and tcp_options_write()) over a segment whose
    /// payload is already in place after <see cref="HeaderLength"/> bytes, then the checksum over header and
    /// payload (unless <paramref name="fillChecksum"/> is false: a GSO packet's checksum is the device's job).
    /// <paramref name="segment"/> holds at least HeaderLength + PayloadLength bytes.
    /// </summary>
    public void Emit(Span<byte> segment, Ipv4Address src, Ipv4Address dst, bool fillChecksum = true)
    {
        int hl = HeaderLength;
        var v = TcpHeaderView.ForEmit(segment[..(hl + PayloadLength)]);
        v.SourcePort = SourcePort;
        v.DestinationPort = DestinationPort;
        v.SequenceNumber = Seq;
        v.AcknowledgmentNumber = Ack;
        v.DataOffset = hl / 4;
        v.Reserved = 0;
        v.Flags = Flags;
        v.Window = Window;
        v.UrgentPointer = UrgentPointer;
        Options.Write(v.Options);
        if (fillChecksum) v.FillChecksum(src, dst);
        else v.Checksum = 0; // CHECKSUM_PARTIAL: the device fills it in (Gso.Segment, Gso.CompleteChecksum)
    }

    /// <summary>
    /// tcpdump's line for the segment after "IP src.port &gt; dst.port: ", as <c>tcpdump -n -S</c> prints it
    /// (print-tcp.c): <c>Flags [S], seq 1, win 64240, options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0</c>.
    /// Flag letters in tcpdump's order F S R P . U E W, and e for AE (tcpdump 4.99.3 omits AE; later versions print
    /// e). "seq a:b" when there is payload; seq only with payload, SYN, FIN or RST; ack only with ACK; urg with URG.
    /// </summary>
    public override string ToString()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder("Flags [");
        AppendFlags(sb, Flags);
        sb.Append(']');
        if (PayloadLength > 0 || (Flags & (TcpFlags.Syn | TcpFlags.Fin | TcpFlags.Rst)) != 0)
        {
            sb.Append(", seq ").Append(Seq.Value.ToString(inv));
            if (PayloadLength > 0) sb.Append(':').Append((Seq + PayloadLength).Value.ToString(inv));
        }
        if ((Flags & TcpFlags.Ack) != 0) sb.Append(", ack ").Append(Ack.Value.ToString(inv));
        sb.Append(", win ").Append(Window.ToString(inv));
        if ((Flags & TcpFlags.Urg) != 0) sb.Append(", urg ").Append(UrgentPointer.ToString(inv));
        if (!Options.IsEmpty) sb.Append(", options [").Append(Options.ToString()).Append(']');
        sb.Append(", length ").Append(PayloadLength.ToString(inv));
        return sb.ToString();
    }

    /// <summary>The whole line of <c>tcpdump -n -S -t</c>: <c>IP 10.0.0.1.40000 &gt; 10.0.0.2.80: Flags [S], ...</c>.</summary>
    public string ToString(Ipv4Address src, Ipv4Address dst) =>
        $"IP {src}.{SourcePort} > {dst}.{DestinationPort}: {this}";

    /// <summary>tcpdump's tcp_flag_values, printed with bittok2str_nosep(), "none" when no bit is set.</summary>
    private static void AppendFlags(StringBuilder sb, TcpFlags f)
    {
        if (f == TcpFlags.None) { sb.Append("none"); return; }
        if ((f & TcpFlags.Fin) != 0) sb.Append('F');
        if ((f & TcpFlags.Syn) != 0) sb.Append('S');
        if ((f & TcpFlags.Rst) != 0) sb.Append('R');
        if ((f & TcpFlags.Psh) != 0) sb.Append('P');
        if ((f & TcpFlags.Ack) != 0) sb.Append('.');
        if ((f & TcpFlags.Urg) != 0) sb.Append('U');
        if ((f & TcpFlags.Ece) != 0) sb.Append('E');
        if ((f & TcpFlags.Cwr) != 0) sb.Append('W');
        if ((f & TcpFlags.Ae) != 0) sb.Append('e');
    }
}
