using NetLab.Core.Addressing;
using NetLab.Core.Time;
using NetLab.Stack.Tcp;
using static NetLab.Stack.Tests.Tcp.TcpHarness;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>
/// The remote end of a segment script once the connection is up: the DUT connected (active open) and the peer
/// answered its SYN at <see cref="Rtt"/>, so the DUT's first RTT sample is exactly that. Offsets count payload
/// bytes from the first data byte of each direction (<see cref="D"/> for the DUT's stream, <see cref="P"/> for the
/// peer's), as packetdrill's relative sequence numbers do. The peer's TSval is its clock in ms (+1, never 0) and its
/// TSecr echoes the DUT's clock at the time the test names (default: the DUT's last segment seen by
/// <see cref="Expect"/>).
/// </summary>
public sealed class TcpPeer
{
    private uint _lastDutTsVal;
    private int _peerNext; // end of the peer's data sent so far (its SND.NXT as an offset)

    private TcpPeer(TcpHarness h, TcpSocket socket) { H = h; Socket = socket; }

    public TcpHarness H { get; }
    public TcpSocket Socket { get; }
    public SimDuration Rtt { get; private init; }
    public bool Timestamps { get; private init; }
    public bool Sack { get; private init; }
    /// <summary>The peer's window shift (what its raw window fields are scaled by).</summary>
    public int PeerWscale { get; private init; }
    /// <summary>DUT TSval − its clock in ms (secure_tcp_ts_off).</summary>
    public uint DutTsOffset { get; private init; }
    public SeqNum DutIsn { get; private init; }
    /// <summary>The sequence number of the DUT's data byte <paramref name="offset"/>.</summary>
    public SeqNum D(int offset) => DutIsn + 1 + offset;
    /// <summary>The sequence number of the peer's data byte <paramref name="offset"/>.</summary>
    public SeqNum P(int offset) => RemoteIsn + 1 + offset;
    /// <summary>The DUT's TSval at <paramref name="at"/>.</summary>
    public uint DutTs(SimDuration at) => DutTsOffset + (uint)(at.Nanoseconds / 1_000_000);

    /// <summary>
    /// The DUT connects at 0 and the peer answers at <paramref name="rtt"/> with a SYN-ACK carrying the chosen options
    /// (Linux's defaults: MSS 1460, SACK, TS, wscale 7, window 65160); the DUT's ACK is checked.
    /// </summary>
    public static TcpPeer Connect(TcpHarness h, SimDuration rtt, bool ts = true, bool sack = true, byte? wscale = 7,
        ushort mss = 1460, ushort synAckWindow = 65160, Action<TcpSocket>? configure = null)
    {
        var s = h.Host.Tcp.Open();
        configure?.Invoke(s);
        Assert.Equal(Errno.None, s.Bind(Ipv4Address.Any, LocalPort));
        h.At(SimDuration.Zero, () => Assert.Equal(Errno.EINPROGRESS, s.Connect(RemoteIp, RemotePort)));
        var syn = h.ExpectSent(SimDuration.Zero, Seg.Flags(TcpFlags.Syn));
        uint tsOff = syn.Tcp.Options.Timestamp?.TsVal ?? 0;
        var peer = new TcpPeer(h, s)
        {
            Rtt = rtt,
            Timestamps = ts && syn.Tcp.Options.Timestamp is not null,
            Sack = sack,
            PeerWscale = wscale is { } w && syn.Tcp.Options.WindowScale is not null ? w : 0,
            DutTsOffset = tsOff,
            DutIsn = syn.Tcp.Seq,
        };
        h.Send(rtt, SendTemplate with
        {
            Flags = TcpFlags.Syn | TcpFlags.Ack, Seq = RemoteIsn, Ack = syn.Tcp.Seq + 1, Window = synAckWindow,
            Options = new TcpOptionSet
            {
                Mss = mss, SackPermitted = sack, WindowScale = wscale,
                Timestamp = ts ? new TcpTimestamp(PeerTs(rtt), tsOff) : null,
            },
        });
        peer.Expect(rtt, Seg.Flags(TcpFlags.Ack), Seg.Seq(peer.D(0)), Seg.Ack(peer.P(0)));
        return peer;
    }

    private static uint PeerTs(SimDuration at) => (uint)(at.Nanoseconds / 1_000_000) + 1;

    /// <summary><see cref="TcpHarness.ExpectSent(SimDuration, SegCheck[])"/>, remembering the DUT's TSval for echoes.</summary>
    public SentSegment Expect(SimDuration at, params SegCheck[] checks)
    {
        var s = H.ExpectSent(at, checks);
        if (s.Tcp.Options.Timestamp is { } t) _lastDutTsVal = t.TsVal;
        return s;
    }

    /// <summary>A data segment from the DUT: seq D(offset), length, ACK set, and PSH as given.</summary>
    public SentSegment ExpectData(SimDuration at, int offset, int length, bool psh = false, params SegCheck[] more) =>
        Expect(at, [Seg.Flags(psh ? TcpFlags.Psh | TcpFlags.Ack : TcpFlags.Ack), Seg.Seq(D(offset)), Seg.PayloadLength(length), .. more]);

    /// <summary>A pure ACK from the DUT acknowledging the peer's bytes up to <paramref name="ackOffset"/>.</summary>
    public SentSegment ExpectAck(SimDuration at, int ackOffset, params SegCheck[] more) =>
        Expect(at, [Seg.Flags(TcpFlags.Ack), Seg.Ack(P(ackOffset)), Seg.PayloadLength(0), .. more]);

    /// <summary>
    /// The peer acknowledges the DUT's bytes up to <paramref name="ackOffset"/> at <paramref name="at"/>, with
    /// optional SACK blocks (offset pairs) and a raw window (default 65535 &gt;&gt; ... i.e. large).
    /// </summary>
    public void Ack(SimDuration at, int ackOffset, ushort window = 2000, (int Start, int End)[]? sack = null,
        uint? ecr = null, int? peerOffset = null)
    {
        H.Send(at, Segment(at, P(peerOffset ?? _peerNext), D(ackOffset), TcpFlags.Ack, window, [], sack, ecr));
    }

    /// <summary>The peer sends payload bytes at its stream offset <paramref name="offset"/> (ACKing the DUT's <paramref name="ackOffset"/>).</summary>
    public void Data(SimDuration at, int offset, int length, int ackOffset = 0, bool psh = true, ushort window = 2000,
        bool fin = false, uint? ecr = null)
    {
        var flags = TcpFlags.Ack | (psh ? TcpFlags.Psh : TcpFlags.None) | (fin ? TcpFlags.Fin : TcpFlags.None);
        _peerNext = Math.Max(_peerNext, offset + length + (fin ? 1 : 0));
        H.Send(at, Segment(at, P(offset), D(ackOffset), flags, window, Pattern(offset, length), null, ecr));
    }

    /// <summary>The bytes the peer sends at stream offsets [offset, offset + length): (offset mod 251), a checkable pattern.</summary>
    public static byte[] Pattern(int offset, int length)
    {
        var b = new byte[length];
        for (int i = 0; i < length; i++) b[i] = (byte)((offset + i) % 251);
        return b;
    }

    public InboundSegment Segment(SimDuration at, SeqNum seq, SeqNum ack, TcpFlags flags, ushort window, byte[] payload,
        (int Start, int End)[]? sack = null, uint? ecr = null)
    {
        TcpSackBlocks blocks = default;
        if (sack is { Length: > 0 })
            blocks = new TcpSackBlocks(sack.Select(b => new SackBlock(D(b.Start), D(b.End))).ToArray());
        return SendTemplate with
        {
            Flags = flags, Seq = seq, Ack = ack, Window = window, Payload = payload,
            Options = new TcpOptionSet
            {
                Timestamp = Timestamps ? new TcpTimestamp(PeerTs(at), ecr ?? _lastDutTsVal) : null,
                SackBlocks = Sack ? blocks : default,
            },
        };
    }
}
