namespace NetLab.Stack.Tcp;

/// <summary>TCP_SKB_CB(skb)->sacked bits (include/net/tcp.h).</summary>
[Flags]
internal enum TcpCbSacked : byte
{
    None = 0,
    SackedAcked = 0x01,  // TCPCB_SACKED_ACKED: SACKed by the peer
    SackedRetrans = 0x02, // TCPCB_SACKED_RETRANS: retransmitted and not yet (S)ACKed
    Lost = 0x04,          // TCPCB_LOST: marked lost
    EverRetrans = 0x10,   // TCPCB_EVER_RETRANS: retransmitted at least once (Karn)
}

/// <summary>
/// One MSS of sent sequence space in the retransmit queue. Linux keeps TSO skbs of several MSS (pcount &gt; 1) and
/// splits them with tcp_fragment() when SACK or a partial retransmission cuts one; NetLab keeps one entry per MSS, so
/// every counter that Linux keeps in packets (packets_out, sacked_out, lost_out, retrans_out) counts entries, and
/// marks where Linux's skbs begin with <see cref="SkbStart"/>: a run of entries from one SkbStart to the next is one
/// skb, sent (and retransmitted) as one GSO packet.
/// </summary>
internal struct TxSeg
{
    public SeqNum Seq;
    public SeqNum EndSeq;        // includes SYN and FIN
    public TcpFlags Flags;       // SYN and FIN carried by this segment (and PSH forced by tcp_write_wakeup)
    public TcpCbSacked Sacked;
    public long TxUs;            // skb_mstamp: last (re)transmission
    // tcp_rate.c: the delivery state when this segment was (re)sent.
    public long DeliveredAtSend;
    public long DeliveredUsAtSend;
    public long FirstTxUsAtSend;
    public bool AppLimitedAtSend;
    public bool RateValid;       // tx.delivered_mstamp != 0: not yet used for a rate sample
    public bool SkbStart;        // the first MSS of a Linux skb (a TSO/GSO packet); the queue's head always is one

    public readonly int DataLength => (EndSeq - Seq) - ((Flags & TcpFlags.Syn) != 0 ? 1 : 0) - ((Flags & TcpFlags.Fin) != 0 ? 1 : 0);
}

/// <summary>tcp_rtx_queue as a deque of <see cref="TxSeg"/> in sequence order: O(1) append and pop, no allocation in steady state.</summary>
internal sealed class RtxQueue
{
    private TxSeg[] _a = [];
    private int _head;

    public int Count { get; private set; }

    public ref TxSeg this[int i] => ref _a[(_head + i) & (_a.Length - 1)];

    public ref TxSeg Head => ref this[0];
    public ref TxSeg Tail => ref this[Count - 1];

    /// <summary>The index of the first entry whose EndSeq is after <paramref name="seq"/> (Count if none): binary search.</summary>
    public int FirstEndingAfter(SeqNum seq)
    {
        int lo = 0, hi = Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (SeqNum.After(this[mid].EndSeq, seq)) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }

    /// <summary>Whether entry <paramref name="i"/> begins a Linux skb.</summary>
    public bool IsSkbStart(int i) => i == 0 || this[i].SkbStart;

    public void Add(in TxSeg s)
    {
        if (Count == _a.Length) Grow();
        _a[(_head + Count) & (_a.Length - 1)] = s;
        Count++;
    }

    public void RemoveHead()
    {
        _head = (_head + 1) & (_a.Length - 1);
        Count--;
        if (Count == 0) _head = 0;
    }

    public void RemoveTail()
    {
        Count--;
        if (Count == 0) _head = 0;
    }

    public void Clear()
    {
        Count = 0;
        _head = 0;
        _a = [];
    }

    private void Grow()
    {
        var next = new TxSeg[Math.Max(16, _a.Length * 2)];
        for (int i = 0; i < Count; i++) next[i] = this[i];
        _a = next;
        _head = 0;
    }
}
