using NetLab.Core.Packets;
using NetLab.Core.Time;
using NetLab.Stack.Icmp;
using NetLab.Stack.Link;

namespace NetLab.Stack.IPv4;

/// <summary>
/// IPv4 reassembly (net/ipv4/ip_fragment.c + net/ipv4/inet_fragment.c): one queue per
/// {saddr, daddr, id, protocol}, fragments grouped in Linux's "runs" (a sorted list stands in for
/// the rb-tree), a 30 s timer per queue, ipfrag_high_thresh accounting and the ipfrag_max_dist check.
/// The datagram is copied into one packet where Linux chains a frag_list.
/// </summary>
public sealed class Ipv4Defrag
{
    /// <summary>SKB_TRUESIZE overhead charged per fragment, as elsewhere in NetLab.</summary>
    private const int TruesizeOverhead = 576;

    // ip_frag_ecn_table[]: index is the OR of IPFRAG_ECN_NOT_ECT (1), ECT_1 (2), ECT_0 (4), CE (8)
    // over all fragments; 0xff drops the datagram (RFC 3168 §5.3), 3 (CE) is ORed into the TOS.
    private static ReadOnlySpan<byte> EcnTable =>
        [0, 0, 0, 0xff, 0, 0xff, 0, 0xff, 0, 0xff, 3, 0xff, 3, 0xff, 3, 0xff];

    private readonly Host _host;
    private readonly Dictionary<FragKey, FragQueue> _queues = [];
    private readonly Dictionary<uint, InetPeer> _peers = [];

    internal Ipv4Defrag(Host host) => _host = host;

    /// <summary>Bytes charged to fragment queues (fqdir->mem, sockstat "FRAG: memory").</summary>
    public long Memory { get; private set; }

    /// <summary>Incomplete datagrams being reassembled.</summary>
    public int QueueCount => _queues.Count;

    /// <summary>frag_v4_compare_key without user and vif.</summary>
    private readonly record struct FragKey(uint Source, uint Destination, ushort Id, byte Protocol);

    /// <summary>The part of struct inet_peer that reassembly uses: the per-source fragment counter.</summary>
    private sealed class InetPeer
    {
        public uint Rid;
        public int Refs;
    }

    /// <summary>One received fragment; Data is its payload (the IP header stays at NetworkOffset).</summary>
    private sealed class Frag(Packet packet, int offset, int length, long truesize)
    {
        public readonly Packet Packet = packet;
        public readonly int Offset = offset;
        /// <summary>Payload bytes kept (Linux trims non-last fragments to a multiple of 8).</summary>
        public readonly int Length = length;
        public readonly long Truesize = truesize;
        public Frag? Next;
    }

    /// <summary>A node of Linux's rb_fragments: adjacent fragments appended at the tail form one run.</summary>
    private struct Run(Frag head)
    {
        public readonly Frag Head = head;
        public Frag Tail = head;
        public readonly int Offset = head.Offset;
        public int End = head.Offset + head.Length;
    }

    private enum InsertResult { Ok, Dup, Overlap }

    /// <summary>struct ipq.</summary>
    private sealed class FragQueue(FragKey key, InetPeer? peer)
    {
        public readonly FragKey Key = key;
        public readonly InetPeer? Peer = peer;
        public SimTimer Timer = null!;
        /// <summary>Runs sorted by offset; the last one is the only one that grows.</summary>
        public readonly List<Run> Runs = [];
        public bool FirstIn, LastIn;
        public int Len, Meat, Iif, MaxSize, MaxDfSize;
        public byte Ecn;
        public uint Rid;
        public long Stamp;
    }

    /// <summary>
    /// ip_defrag(): takes ownership of a fragment (Data at its IP header). Returns the whole
    /// datagram (Data at its rewritten IP header: offset 0, MF clear, total length, checksum) once
    /// complete, else null.
    /// </summary>
    public Packet? Gather(Packet fragment, NetDevice dev)
    {
        _host.IpStats.Inc(IpMib.ReasmReqds);
        var hdr = Ipv4HeaderView.ForEmit(fragment.Data);
        var key = new FragKey(hdr.Source.Value, hdr.Destination.Value, hdr.Identification, hdr.Protocol);

        // inet_frag_find(): over high_thresh no fragment is queued, not even for an existing queue.
        long high = _host.Ipv4Sysctl.IpfragHighThresh;
        if (high == 0 || Memory > high)
        {
            _host.IpStats.Inc(IpMib.ReasmFails);
            _host.Drop(fragment, SkbDropReason.NotSpecified);
            return null;
        }
        if (!_queues.TryGetValue(key, out var q))
        {
            q = Create(key);
            _queues.Add(key, q);
        }
        return Queue(q, fragment, dev);
    }

    /// <summary>inet_frag_create() + ip4_frag_init(): the timer starts now and is never pushed back by later fragments.</summary>
    private FragQueue Create(FragKey key)
    {
        InetPeer? peer = null;
        if (_host.Ipv4Sysctl.IpfragMaxDist != 0)
        {
            if (!_peers.TryGetValue(key.Source, out peer)) _peers.Add(key.Source, peer = new InetPeer());
            peer.Refs++;
        }
        var q = new FragQueue(key, peer);
        q.Timer = new SimTimer(_host.Scheduler, () => Expire(q));
        q.Timer.Arm(_host.Now + SimDuration.FromSeconds(_host.Ipv4Sysctl.IpfragTime));
        return q;
    }

    /// <summary>ip_frag_queue(): place the fragment, or discard it or the whole queue.</summary>
    private Packet? Queue(FragQueue q, Packet pkt, NetDevice dev)
    {
        if (TooFar(q)) Reinit(q);

        pkt.NetworkOffset = pkt.DataOffset;
        var hdr = Ipv4HeaderView.ForEmit(pkt.Data);
        byte ecn = (byte)(1 << (hdr.Tos & 3)); // ip4_frag_ecn()
        int offset = hdr.FragmentOffset;
        int ihl = hdr.HeaderLength;
        bool df = hdr.DontFragment;
        long truesize = pkt.Length + TruesizeOverhead;
        int end = offset + pkt.Length - ihl;

        if (!hdr.MoreFragments)
        {
            // The final fragment: bytes already beyond its end, or a different end, is corruption.
            if (end < q.Len || (q.LastIn && end != q.Len)) return DiscardQueue(q, pkt);
            q.LastIn = true;
            q.Len = end;
        }
        else
        {
            end &= ~7;
            if (end > q.Len)
            {
                if (q.LastIn) return DiscardQueue(q, pkt);
                q.Len = end;
            }
        }
        if (end == offset) return DiscardQueue(q, pkt);

        pkt.Pull(ihl);
        switch (Insert(q, pkt, offset, end, truesize))
        {
            case InsertResult.Dup:
                _host.Drop(pkt, SkbDropReason.DupFrag);
                return null;
            case InsertResult.Overlap:
                _host.IpExtStats.Inc(IpExtMib.ReasmOverlaps);
                return DiscardQueue(q, pkt);
        }

        q.Iif = dev.IfIndex;
        q.Stamp = pkt.Timestamp;
        q.Meat += end - offset;
        q.Ecn |= ecn;
        Memory += truesize;
        if (offset == 0) q.FirstIn = true;
        int fragsize = end - offset + ihl;
        if (fragsize > q.MaxSize) q.MaxSize = fragsize;
        if (df && fragsize > q.MaxDfSize) q.MaxDfSize = fragsize;

        if (q.FirstIn && q.LastIn && q.Meat == q.Len) return Reasm(q);
        return null;
    }

    /// <summary>
    /// inet_frag_queue_insert(): append at the tail (extending the last run if adjacent), else
    /// binary-search the runs. Inside one run is a duplicate; any other overlap is fatal
    /// (RFC 5722 §4, which Linux applies to IPv4 too).
    /// </summary>
    private static InsertResult Insert(FragQueue q, Packet pkt, int offset, int end, long truesize)
    {
        var runs = q.Runs;
        if (runs.Count == 0)
        {
            runs.Add(new Run(new Frag(pkt, offset, end - offset, truesize)));
            return InsertResult.Ok;
        }
        int lastEnd = runs[^1].End;
        if (lastEnd < end)
        {
            if (offset < lastEnd) return InsertResult.Overlap;
            var frag = new Frag(pkt, offset, end - offset, truesize);
            if (offset == lastEnd)
            {
                // fragrun_append_to_last()
                var last = runs[^1];
                last.Tail.Next = frag;
                last.Tail = frag;
                last.End = end;
                runs[^1] = last;
            }
            else runs.Add(new Run(frag));
            return InsertResult.Ok;
        }
        // The first run ending after offset is the only one that can decide: runs are disjoint,
        // so a fragment touching two runs is not inside either (the rb-tree walk gives the same answer).
        int lo = 0, hi = runs.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (runs[mid].End <= offset) lo = mid + 1;
            else hi = mid;
        }
        if (lo < runs.Count && runs[lo].Offset < end)
            return offset >= runs[lo].Offset && end <= runs[lo].End ? InsertResult.Dup : InsertResult.Overlap;
        // A fragment placed by the search is a run of its own, even when adjacent to a neighbour.
        runs.Insert(lo, new Run(new Frag(pkt, offset, end - offset, truesize)));
        return InsertResult.Ok;
    }

    /// <summary>
    /// ip_frag_too_far(): more than ipfrag_max_dist fragments from this source since the queue's
    /// last one means its missing fragments were probably lost. Counts ReasmFails.
    /// </summary>
    private bool TooFar(FragQueue q)
    {
        int max = _host.Ipv4Sysctl.IpfragMaxDist;
        if (q.Peer is null || max == 0) return false;
        uint start = q.Rid;
        uint end = ++q.Peer.Rid;
        q.Rid = end;
        if (q.Runs.Count == 0 || end - start <= (uint)max) return false;
        _host.IpStats.Inc(IpMib.ReasmFails);
        return true;
    }

    /// <summary>
    /// ip_frag_reinit(): drop what the queue holds and start over with a fresh timer.
    /// max_size and max_df_size survive, as in Linux.
    /// </summary>
    private void Reinit(FragQueue q)
    {
        q.Timer.Arm(_host.Now + SimDuration.FromSeconds(_host.Ipv4Sysctl.IpfragTime));
        Flush(q, SkbDropReason.FragTooFar);
        q.FirstIn = q.LastIn = false;
        q.Len = q.Meat = q.Iif = 0;
        q.Ecn = 0;
    }

    /// <summary>The discard_qp path of ip_frag_queue(): the whole queue goes, and the fragment with it.</summary>
    private Packet? DiscardQueue(FragQueue q, Packet pkt)
    {
        Kill(q);
        Flush(q, null);
        _host.IpStats.Inc(IpMib.ReasmFails);
        _host.Drop(pkt, SkbDropReason.NotSpecified);
        return null;
    }

    /// <summary>ipq_kill() + ip4_frag_free(): unhash the queue, stop its timer, release the peer.</summary>
    private void Kill(FragQueue q)
    {
        _queues.Remove(q.Key);
        q.Timer.Cancel();
        if (q.Peer is { } peer && --peer.Refs == 0) _peers.Remove(q.Key.Source);
    }

    /// <summary>
    /// inet_frag_queue_flush() / inet_frag_rbtree_purge(): free every held fragment and uncharge it.
    /// A null reason is SKB_CONSUMED (inet_frag_destroy of a killed queue): not a drop.
    /// </summary>
    private void Flush(FragQueue q, SkbDropReason? reason)
    {
        foreach (var run in q.Runs)
        {
            for (var f = run.Head; f is not null; f = f.Next)
            {
                Memory -= f.Truesize;
                if (reason is { } r) _host.Drop(f.Packet, r);
                else f.Packet.Dispose();
            }
        }
        q.Runs.Clear();
    }

    /// <summary>
    /// ip_expire(): ReasmFails and ReasmTimeout, and ICMP time exceeded (fragment reassembly time
    /// exceeded) about the offset-0 fragment if it arrived, sent to its source through the device
    /// the last fragment came in on.
    /// </summary>
    private void Expire(FragQueue q)
    {
        Kill(q);
        _host.IpStats.Inc(IpMib.ReasmFails);
        _host.IpStats.Inc(IpMib.ReasmTimeout);
        if (q.FirstIn && _host.DeviceByIndex(q.Iif) is { } dev)
            _host.Icmp.SendError(q.Runs[0].Head.Packet, dev, IcmpType.TimeExceeded, IcmpCode.FragmentReassemblyTimeExceeded, 0);
        Flush(q, SkbDropReason.FragReasmTimeout);
    }

    /// <summary>
    /// ip_frag_reasm(): the offset-0 fragment's header (options included) followed by the payload,
    /// with total length, TOS (CE), DF and checksum rewritten. Metadata comes from the offset-0
    /// fragment (skb_morph), the time stamp from the last fragment queued.
    /// </summary>
    private Packet? Reasm(FragQueue q)
    {
        Kill(q);
        var head = q.Runs[0].Head.Packet;
        int ihl = head.DataOffset - head.NetworkOffset;
        int len = ihl + q.Len;
        byte ecn = EcnTable[q.Ecn];
        if (ecn == 0xff || len > 65535)
        {
            Flush(q, null);
            _host.IpStats.Inc(IpMib.ReasmFails);
            return null;
        }

        var whole = _host.Pool.Rent(PacketPool.DefaultHeadroom, len);
        var data = whole.Data;
        head.Buffer.Slice(head.NetworkOffset, ihl).CopyTo(data);
        foreach (var run in q.Runs)
            for (var f = run.Head; f is not null; f = f.Next)
                f.Packet.Data[..f.Length].CopyTo(data[(ihl + f.Offset)..]);

        var hdr = Ipv4HeaderView.ForEmit(data);
        hdr.TotalLength = (ushort)len;
        hdr.Tos |= ecn;
        // DF only if the largest fragment had it, so a forwarder re-fragments to the sender's size.
        hdr.FlagsAndOffset = q.MaxDfSize == q.MaxSize ? Ipv4HeaderView.FlagDf : (ushort)0;
        hdr.FillChecksum();

        whole.NetworkOffset = whole.DataOffset;
        whole.IngressIfIndex = head.IngressIfIndex;
        whole.PacketType = head.PacketType;
        whole.Protocol = head.Protocol;
        whole.Mark = head.Mark;
        whole.Priority = head.Priority;
        whole.Timestamp = q.Stamp;
        _host.IpStats.Inc(IpMib.ReasmOKs);
        Flush(q, null);
        return whole;
    }
}
