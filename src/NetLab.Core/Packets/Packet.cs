using System.Buffers;

namespace NetLab.Core.Packets;

/// <summary>How a received frame was addressed, as Linux's skb->pkt_type.</summary>
public enum PacketType : byte { Host, Broadcast, Multicast, OtherHost, Outgoing, Loopback }

/// <summary>
/// A pooled buffer with headroom and tailroom, like Linux's sk_buff: a protocol pushes its header
/// in front on the way down and pulls it off on the way up, without copying the payload.
/// Single owner: whoever holds it last calls <see cref="Dispose"/> (CONVENTIONS rule 3).
/// </summary>
public sealed class Packet : IDisposable
{
    private readonly PacketPool _pool;
    private byte[] _buffer = [];
    private int _head;
    private int _length;
    internal bool InPool;

    internal Packet(PacketPool pool) => _pool = pool;

    /// <summary>The bytes from the current header to the end of the data.</summary>
    public Span<byte> Data => _buffer.AsSpan(_head, _length);
    public int Length => _length;
    public int Headroom => _head;
    public int Tailroom => _buffer.Length - _head - _length;
    internal int Capacity => _buffer.Length;

    /// <summary>The whole underlying buffer, for headers recorded by absolute offset.</summary>
    public Span<byte> Buffer => _buffer;

    /// <summary>Absolute offset of <see cref="Data"/> in <see cref="Buffer"/>.</summary>
    public int DataOffset => _head;

    // Metadata, as skb fields.
    public int IngressIfIndex;
    public PacketType PacketType;
    public ushort Protocol;          // skb->protocol (EtherType)
    public int NetworkOffset = -1;   // skb->network_header (absolute)
    public int TransportOffset = -1; // skb->transport_header (absolute)
    public uint Mark;
    public byte Priority;
    public long Timestamp;           // virtual ns when received or created
    /// <summary>skb_shinfo(skb)->gso_size: payload bytes per wire segment of a TCP super-segment, 0 for a plain packet.</summary>
    public int GsoSize;
    /// <summary>skb_shinfo(skb)->gso_segs: how many wire segments this packet stands for (1 for a plain packet).</summary>
    public int GsoSegs = 1;
    /// <summary>
    /// The transport checksum is known good (skb->ip_summed CHECKSUM_UNNECESSARY / CHECKSUM_PARTIAL): the local stack
    /// computed it and nothing has changed the bytes since, as for packets crossing a veth. The receiving stack then
    /// skips verifying it; a link that corrupts a frame clears it, so the receiver finds the bad checksum.
    /// </summary>
    public bool ChecksumUnnecessary;

    /// <summary>Prepends <paramref name="n"/> bytes and returns them (skb_push).</summary>
    public Span<byte> Push(int n)
    {
        if ((uint)n > (uint)_head) throw new InvalidOperationException($"skb_under_panic: push {n} with headroom {_head}");
        _head -= n;
        _length += n;
        return _buffer.AsSpan(_head, n);
    }

    /// <summary>Removes <paramref name="n"/> bytes from the front (skb_pull).</summary>
    public void Pull(int n)
    {
        if ((uint)n > (uint)_length) throw new InvalidOperationException($"pull {n} past length {_length}");
        _head += n;
        _length -= n;
    }

    /// <summary>Appends <paramref name="n"/> zeroed bytes and returns them (skb_put).</summary>
    public Span<byte> Put(int n)
    {
        if ((uint)n > (uint)Tailroom) throw new InvalidOperationException($"skb_over_panic: put {n} with tailroom {Tailroom}");
        var span = _buffer.AsSpan(_head + _length, n);
        span.Clear();
        _length += n;
        return span;
    }

    /// <summary>Cuts the data to <paramref name="length"/> bytes (skb_trim).</summary>
    public void Trim(int length)
    {
        if (length < _length) _length = Math.Max(0, length);
    }

    /// <summary>Moves the data start to an absolute offset (e.g. back to the network header).</summary>
    public void ResetTo(int absoluteOffset, int length)
    {
        _head = absoluteOffset;
        _length = length;
    }

    /// <summary>A full copy with the same headroom and metadata (Linux clones; NetLab copies).</summary>
    public Packet Copy()
    {
        var p = _pool.RentUninitialized(_head, _length, Tailroom);
        Data.CopyTo(p.Data);
        p.IngressIfIndex = IngressIfIndex;
        p.PacketType = PacketType;
        p.Protocol = Protocol;
        p.NetworkOffset = NetworkOffset;
        p.TransportOffset = TransportOffset;
        p.Mark = Mark;
        p.Priority = Priority;
        p.Timestamp = Timestamp;
        p.GsoSize = GsoSize;
        p.GsoSegs = GsoSegs;
        p.ChecksumUnnecessary = ChecksumUnnecessary;
        return p;
    }

    internal void Init(int headroom, int length, int tailroom, bool clear = true)
    {
        int size = headroom + length + tailroom;
        if (_buffer.Length < size)
        {
            if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = ArrayPool<byte>.Shared.Rent(size);
        }
        _head = headroom;
        _length = length;
        // Stale bytes from another user of the buffer must never reach the wire: runs stay reproducible.
        if (clear) _buffer.AsSpan(headroom, length).Clear();
        IngressIfIndex = 0;
        PacketType = PacketType.Host;
        Protocol = 0;
        NetworkOffset = -1;
        TransportOffset = -1;
        Mark = 0;
        Priority = 0;
        Timestamp = 0;
        GsoSize = 0;
        GsoSegs = 1;
        ChecksumUnnecessary = false;
    }

    public void Dispose() => _pool.Return(this);
}

/// <summary>
/// A world's packet pool. Single-threaded; <see cref="Outstanding"/> is the leak check every
/// test fixture ends with (lwIP's memp check).
/// </summary>
public sealed class PacketPool
{
    /// <summary>Room reserved in front of a transport payload for TCP/UDP + IPv4 + Ethernet (+VLAN, tunnels).</summary>
    public const int DefaultHeadroom = 128;
    public const int DefaultTailroom = 16;

    /// <summary>Packets whose buffers are above this size (GSO packets, jumbo and loopback frames) are pooled apart,
    /// so that small and large uses do not keep swapping each other's buffers through the ArrayPool.</summary>
    private const int LargeBuffer = 4096;

    private readonly Stack<Packet> _free = new();
    private readonly Stack<Packet> _freeLarge = new();

    public int Outstanding { get; private set; }
    public long Rented { get; private set; }

    public Packet Rent(int headroom, int length, int tailroom = DefaultTailroom)
    {
        var p = Take(headroom + length + tailroom);
        p.InPool = false;
        p.Init(headroom, length, tailroom);
        Outstanding++;
        Rented++;
        return p;
    }

    /// <summary>
    /// A packet whose Data is not cleared: for callers that write every byte of it at once (a segment's header
    /// and payload), so the hot path does not zero what it is about to overwrite.
    /// </summary>
    public Packet RentUninitialized(int headroom, int length, int tailroom = DefaultTailroom)
    {
        var p = Take(headroom + length + tailroom);
        p.InPool = false;
        p.Init(headroom, length, tailroom, clear: false);
        Outstanding++;
        Rented++;
        return p;
    }

    /// <summary>A packet whose data is a copy of <paramref name="bytes"/> (for receive paths and tests).</summary>
    public Packet RentCopy(ReadOnlySpan<byte> bytes, int headroom = DefaultHeadroom)
    {
        var p = RentUninitialized(headroom, bytes.Length);
        bytes.CopyTo(p.Data);
        return p;
    }

    internal void Return(Packet p)
    {
        if (p.InPool) throw new InvalidOperationException("Packet returned to its pool twice (double free).");
        p.InPool = true;
        Outstanding--;
        (p.Capacity > LargeBuffer ? _freeLarge : _free).Push(p);
    }

    private Packet Take(int size)
    {
        var free = size > LargeBuffer ? _freeLarge : _free;
        return free.Count > 0 ? free.Pop() : new Packet(this);
    }
}
