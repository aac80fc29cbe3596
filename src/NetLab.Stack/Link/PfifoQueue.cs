using NetLab.Core.Packets;

namespace NetLab.Stack.Link;

/// <summary>Statistics as `tc -s qdisc` prints them.</summary>
public sealed class QdiscStats
{
    public long Bytes, Packets, Drops, Overlimits, Requeues;
    public int BacklogPackets;
    public long BacklogBytes;
}

/// <summary>
/// A packet FIFO with a length limit in packets: Linux's pfifo / the default qdisc for a device
/// with txqueuelen (the tc issue replaces it with real qdiscs). O(1) enqueue and dequeue.
/// </summary>
public sealed class PfifoQueue(int limit)
{
    private readonly Queue<Packet> _queue = new();

    public int Limit { get; set; } = limit;
    public QdiscStats Stats { get; } = new();
    public int Count => _queue.Count;

    /// <summary>Queues the packet, or returns false (tail drop) when full; the caller keeps ownership on false.</summary>
    public bool TryEnqueue(Packet p)
    {
        if (_queue.Count >= Limit)
        {
            Stats.Drops++;
            return false;
        }
        _queue.Enqueue(p);
        Stats.BacklogPackets++;
        Stats.BacklogBytes += p.Length;
        return true;
    }

    public Packet? Dequeue()
    {
        if (!_queue.TryDequeue(out var p)) return null;
        Stats.BacklogPackets--;
        Stats.BacklogBytes -= p.Length;
        Stats.Packets++;
        Stats.Bytes += p.Length;
        return p;
    }

    /// <summary>Drops everything (device down): returns the packets to the pool.</summary>
    public void Purge()
    {
        while (_queue.TryDequeue(out var p)) p.Dispose();
        Stats.BacklogPackets = 0;
        Stats.BacklogBytes = 0;
    }
}
