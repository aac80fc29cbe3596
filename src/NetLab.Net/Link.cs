using NetLab.Core.Packets;
using NetLab.Core.Randomness;
using NetLab.Core.Time;
using NetLab.Stack.Link;

namespace NetLab.Net;

/// <summary>Counters of one direction of a link.</summary>
public sealed class ChannelStats
{
    public long Frames, Bytes, WireBytes, Lost, Delivered, Reordered, Duplicated, Corrupted;
}

/// <summary>
/// One direction of a full-duplex cable: serialises a frame at the link rate (preamble, FCS and
/// inter-frame gap included), then delivers it after the propagation delay. Two timers per
/// direction, and in-flight frames in a FIFO (O(1) per frame) — a priority queue by arrival time once
/// reordering is enabled, since a held-back frame is overtaken.
/// </summary>
public sealed class Channel : IWire
{
    private readonly Scheduler _scheduler;
    private readonly IWireEnd _sender;
    private readonly IWireEnd _receiver;
    private readonly RandomStream _rng;
    private readonly Queue<(Packet Frame, long ArrivalNs)> _inFlight = new();
    private readonly PriorityQueue<Packet, (long ArrivalNs, long Order)> _reordered = new();
    private long _order;
    private readonly SimTimer _txDone;
    private readonly SimTimer _arrival;
    private long _lastArrivalNs;
    private bool _busy;

    internal Channel(Scheduler scheduler, IWireEnd sender, IWireEnd receiver, LinkParameters parameters, RandomStream rng)
    {
        _scheduler = scheduler;
        _sender = sender;
        _receiver = receiver;
        Parameters = parameters;
        _rng = rng;
        _txDone = new SimTimer(scheduler, OnTransmitDone);
        _arrival = new SimTimer(scheduler, OnArrival);
    }

    public LinkParameters Parameters { get; set; }
    public ChannelStats Stats { get; } = new();
    public bool IsBusy => _busy;

    /// <summary>Serialisation time of a frame: (max(len, 60) + 24) bytes at the link rate, rounded up to a nanosecond.</summary>
    public static long SerializationNs(int frameLength, long rateBps)
    {
        long bits = EthernetHeaderView.WireBytes(frameLength) * 8L;
        return (long)Math.Ceiling(bits * 1e9 / rateBps);
    }

    public void Transmit(Packet frame)
    {
        long now = _scheduler.Now.Nanoseconds;
        var p = Parameters;
        long txEnd = now + SerializationNs(frame.Length, p.RateBitsPerSecond);
        _busy = true;
        _txDone.Arm(new SimTime(txEnd));
        Stats.Frames++;
        Stats.Bytes += frame.Length;
        Stats.WireBytes += EthernetHeaderView.WireBytes(frame.Length);
        if (p.Loss > 0 && _rng.NextDouble() < p.Loss)
        {
            Stats.Lost++;
            frame.Dispose();
            return;
        }
        if (p.Corrupt > 0 && _rng.NextDouble() < p.Corrupt)
        {
            // netem corrupt: a single bit error at a random position.
            int bit = (int)_rng.NextUInt32((uint)frame.Length * 8);
            frame.Data[bit >> 3] ^= (byte)(1 << (bit & 7));
            frame.ChecksumUnnecessary = false; // the receiver must find the error
            Stats.Corrupted++;
        }
        long jitter = p.Jitter.Nanoseconds == 0 ? 0 : (long)((_rng.NextDouble() * 2 - 1) * p.Jitter.Nanoseconds);
        long arrival = Math.Max(txEnd + Math.Max(0, p.Delay.Nanoseconds + jitter), _lastArrivalNs);
        bool duplicate = p.Duplicate > 0 && _rng.NextDouble() < p.Duplicate;
        if (p.Reorder > 0 && _rng.NextDouble() < p.Reorder)
        {
            // Held back: it does not move _lastArrivalNs, so frames behind it may arrive first.
            long extra = 1 + (long)(_rng.NextDouble() * p.ReorderDelay.Nanoseconds);
            Stats.Reordered++;
            Enqueue(frame, arrival + extra, ordered: false);
            if (duplicate) EnqueueDuplicate(frame, arrival + extra, ordered: false);
            return;
        }
        _lastArrivalNs = arrival;
        Enqueue(frame, arrival, ordered: true);
        if (duplicate) EnqueueDuplicate(frame, arrival, ordered: true);
    }

    private void EnqueueDuplicate(Packet frame, long arrivalNs, bool ordered)
    {
        Stats.Duplicated++;
        Enqueue(frame.Copy(), arrivalNs, ordered);
    }

    private void Enqueue(Packet frame, long arrivalNs, bool ordered)
    {
        if (ordered && _reordered.Count == 0)
        {
            _inFlight.Enqueue((frame, arrivalNs));
        }
        else
        {
            // Once anything is out of order, everything goes through the priority queue until it drains
            // (ties keep their transmission order).
            while (_inFlight.TryDequeue(out var f)) _reordered.Enqueue(f.Frame, (f.ArrivalNs, _order++));
            _reordered.Enqueue(frame, (arrivalNs, _order++));
        }
        long next = NextArrival();
        if (!_arrival.IsArmed || _arrival.Deadline.Nanoseconds > next) _arrival.Arm(new SimTime(next));
    }

    private long NextArrival() =>
        _reordered.TryPeek(out _, out var key) ? key.ArrivalNs : _inFlight.TryPeek(out var head) ? head.ArrivalNs : long.MaxValue;

    private void OnTransmitDone()
    {
        _busy = false;
        _sender.OnWireIdle();
    }

    private void OnArrival()
    {
        long now = _scheduler.Now.Nanoseconds;
        while (true)
        {
            Packet frame;
            if (_reordered.TryPeek(out var f, out var key) && key.ArrivalNs <= now)
            {
                _reordered.Dequeue();
                frame = f;
            }
            else if (_reordered.Count == 0 && _inFlight.TryPeek(out var head) && head.ArrivalNs <= now)
            {
                _inFlight.Dequeue();
                frame = head.Frame;
            }
            else break;
            Stats.Delivered++;
            _receiver.OnFrameReceived(frame);
        }
        long next = NextArrival();
        if (next != long.MaxValue) _arrival.Arm(new SimTime(next));
    }

    /// <summary>Drops frames still on the wire (the cable is cut).</summary>
    internal void Cut()
    {
        while (_inFlight.TryDequeue(out var f)) f.Frame.Dispose();
        while (_reordered.TryDequeue(out var r, out _)) r.Dispose();
        _arrival.Cancel();
    }
}

/// <summary>A full-duplex point-to-point cable between two wire ends (NICs or switch ports).</summary>
public sealed class Link
{
    internal Link(string name, IWireEnd a, IWireEnd b, Channel aToB, Channel bToA)
    {
        Name = name;
        A = a;
        B = b;
        AToB = aToB;
        BToA = bToA;
    }

    public string Name { get; }
    public IWireEnd A { get; }
    public IWireEnd B { get; }
    public Channel AToB { get; }
    public Channel BToA { get; }
}
