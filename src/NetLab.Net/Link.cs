using NetLab.Core.Packets;
using NetLab.Core.Randomness;
using NetLab.Core.Time;
using NetLab.Stack.Link;

namespace NetLab.Net;

/// <summary>Counters of one direction of a link.</summary>
public sealed class ChannelStats
{
    public long Frames, Bytes, WireBytes, Lost, Delivered;
}

/// <summary>
/// One direction of a full-duplex cable: serialises a frame at the link rate (preamble, FCS and
/// inter-frame gap included), then delivers it after the propagation delay. Two timers per
/// direction, and in-flight frames in a FIFO: O(1) per frame.
/// </summary>
public sealed class Channel : IWire
{
    private readonly Scheduler _scheduler;
    private readonly IWireEnd _sender;
    private readonly IWireEnd _receiver;
    private readonly RandomStream _rng;
    private readonly Queue<(Packet Frame, long ArrivalNs)> _inFlight = new();
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
        long jitter = p.Jitter.Nanoseconds == 0 ? 0 : (long)((_rng.NextDouble() * 2 - 1) * p.Jitter.Nanoseconds);
        long arrival = Math.Max(txEnd + Math.Max(0, p.Delay.Nanoseconds + jitter), _lastArrivalNs);
        _lastArrivalNs = arrival;
        _inFlight.Enqueue((frame, arrival));
        if (!_arrival.IsArmed) _arrival.Arm(new SimTime(arrival));
    }

    private void OnTransmitDone()
    {
        _busy = false;
        _sender.OnWireIdle();
    }

    private void OnArrival()
    {
        long now = _scheduler.Now.Nanoseconds;
        while (_inFlight.TryPeek(out var head) && head.ArrivalNs <= now)
        {
            _inFlight.Dequeue();
            Stats.Delivered++;
            _receiver.OnFrameReceived(head.Frame);
        }
        if (_inFlight.TryPeek(out var next)) _arrival.Arm(new SimTime(next.ArrivalNs));
    }

    /// <summary>Drops frames still on the wire (the cable is cut).</summary>
    internal void Cut()
    {
        while (_inFlight.TryDequeue(out var f)) f.Frame.Dispose();
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
