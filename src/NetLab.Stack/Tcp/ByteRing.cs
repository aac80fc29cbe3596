namespace NetLab.Stack.Tcp;

/// <summary>
/// A growable ring of bytes: a socket's send data (snd_una..write_seq) or its in-order receive data
/// (copied_seq..rcv_nxt). Linux keeps skbs; NetLab keeps the bytes, which is what the queues hold on
/// the wire, and allocates only when the ring grows (steady state: no allocation). An idle socket
/// holds no array at all. A mutable struct kept inline in its socket (one object less per socket): use it only
/// through the field, never a copy.
/// </summary>
internal struct ByteRing
{
    public ByteRing() { }

    private byte[] _buf = [];
    private int _head;

    public int Count { get; private set; }

    /// <summary>Appends all of <paramref name="data"/>, growing the ring to a power of two when needed.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) return;
        EnsureCapacity(Count + data.Length);
        int tail = (_head + Count) & (_buf.Length - 1);
        int first = Math.Min(data.Length, _buf.Length - tail);
        data[..first].CopyTo(_buf.AsSpan(tail));
        data[first..].CopyTo(_buf);
        Count += data.Length;
    }

    /// <summary>Copies <paramref name="dest"/>.Length bytes starting <paramref name="offset"/> bytes from the head.</summary>
    public void CopyTo(int offset, Span<byte> dest)
    {
        if ((uint)offset > (uint)Count || dest.Length > Count - offset) throw new ArgumentOutOfRangeException(nameof(offset));
        if (dest.IsEmpty) return;
        int at = (_head + offset) & (_buf.Length - 1);
        int first = Math.Min(dest.Length, _buf.Length - at);
        _buf.AsSpan(at, first).CopyTo(dest);
        _buf.AsSpan(0, dest.Length - first).CopyTo(dest[first..]);
    }

    /// <summary>Drops <paramref name="n"/> bytes from the head; an emptied ring gives its array back.</summary>
    public void Consume(int n)
    {
        if ((uint)n > (uint)Count) throw new ArgumentOutOfRangeException(nameof(n));
        Count -= n;
        _head = Count == 0 ? 0 : (_head + n) & (_buf.Length - 1);
    }

    /// <summary>Releases the array when empty (idle sockets cost no buffer memory).</summary>
    public void TrimIfEmpty()
    {
        if (Count == 0) { _buf = []; _head = 0; }
    }

    public void Clear()
    {
        Count = 0;
        _head = 0;
        _buf = [];
    }

    private void EnsureCapacity(int needed)
    {
        if (needed <= _buf.Length) return;
        int size = Math.Max(4096, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)needed));
        var next = new byte[size];
        if (Count > 0) CopyTo(0, next.AsSpan(0, Count));
        _buf = next;
        _head = 0;
    }
}
