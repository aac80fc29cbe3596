using NetLab.Core.Addressing;
using NetLab.Core.Packets;
using NetLab.Core.Time;
using NetLab.Stack.Link;

namespace NetLab.Net;

/// <summary>Counters of a switch port (frames dropped for size are counted, unlike Linux's bridge, which frees them silently).</summary>
public sealed class SwitchPortStats
{
    public long RxFrames, TxFrames, TooBig, EgressDrops, Filtered;
}

/// <summary>One port of a <see cref="Switch"/>: an egress FIFO in front of its wire.</summary>
public sealed class SwitchPort : IWireEnd
{
    /// <summary>Egress buffer in frames (a shallow-buffered access switch).</summary>
    public const int DefaultQueueFrames = 1000;

    private readonly Switch _switch;

    internal SwitchPort(Switch sw, int index, int mtu)
    {
        _switch = sw;
        Index = index;
        Mtu = mtu;
    }

    public int Index { get; }
    public string Name => $"{_switch.Name}:port{Index}";
    public int Mtu { get; set; }
    public IWire? Wire { get; private set; }
    public PfifoQueue Egress { get; } = new(DefaultQueueFrames);
    public SwitchPortStats Stats { get; } = new();

    public void OnFrameReceived(Packet frame)
    {
        Stats.RxFrames++;
        _switch.Receive(this, frame);
    }

    public void OnWireIdle() => Pump();

    public void OnCarrierChanged(bool up) { if (up) Pump(); }

    public void AttachWire(IWire wire, int mtu)
    {
        Wire = wire;
        Mtu = mtu;
        Pump();
    }

    /// <summary>br_dev_queue_push_xmit(): frames over the port MTU are discarded. Takes ownership.</summary>
    internal void Send(Packet frame)
    {
        if (frame.Length > Mtu + EthernetHeaderView.Length)
        {
            Stats.TooBig++;
            frame.Dispose();
            return;
        }
        if (!Egress.TryEnqueue(frame))
        {
            Stats.EgressDrops++;
            frame.Dispose();
            return;
        }
        Pump();
    }

    private void Pump()
    {
        while (Wire is { IsBusy: false } && Egress.Dequeue() is { } frame)
        {
            Stats.TxFrames++;
            Wire.Transmit(frame);
        }
    }
}

/// <summary>
/// A learning switch (Linux bridge semantics): learns source MACs per port, ages them after 300 s,
/// forwards known unicast to one port and floods unknown unicast, multicast and broadcast.
/// Store-and-forward with no processing delay.
/// </summary>
public sealed class Switch
{
    /// <summary>BR_DEFAULT_AGEING_TIME.</summary>
    public static readonly SimDuration DefaultAgeing = SimDuration.FromSeconds(300);

    private readonly Scheduler _scheduler;
    private readonly List<SwitchPort> _ports = [];
    private readonly Dictionary<MacAddress, (SwitchPort Port, long SeenNs)> _fdb = [];

    internal Switch(string name, Scheduler scheduler)
    {
        Name = name;
        _scheduler = scheduler;
    }

    public string Name { get; }
    public SimDuration Ageing { get; set; } = DefaultAgeing;
    public int DefaultMtu { get; set; } = 1500;
    public IReadOnlyList<SwitchPort> Ports => _ports;

    public SwitchPort AddPort(int? mtu = null)
    {
        var p = new SwitchPort(this, _ports.Count + 1, mtu ?? DefaultMtu);
        _ports.Add(p);
        return p;
    }

    /// <summary>The forwarding database as `bridge fdb show` would list it: live entries only.</summary>
    public IEnumerable<(MacAddress Mac, SwitchPort Port, SimDuration Age)> Fdb()
    {
        long now = _scheduler.Now.Nanoseconds;
        foreach (var (mac, e) in _fdb)
            if (now - e.SeenNs < Ageing.Nanoseconds) yield return (mac, e.Port, new SimDuration(now - e.SeenNs));
    }

    /// <summary>br_handle_frame → br_fdb_update + br_forward / br_flood. Takes ownership.</summary>
    internal void Receive(SwitchPort ingress, Packet frame)
    {
        if (!EthernetRepr.TryParse(frame.Data, out var eth))
        {
            frame.Dispose();
            return;
        }
        long now = _scheduler.Now.Nanoseconds;
        if (eth.Source.IsUnicast && !eth.Source.IsZero) _fdb[eth.Source] = (ingress, now);
        if (eth.Destination.IsUnicast && _fdb.TryGetValue(eth.Destination, out var e) && now - e.SeenNs < Ageing.Nanoseconds)
        {
            if (e.Port == ingress)
            {
                ingress.Stats.Filtered++;
                frame.Dispose();
                return;
            }
            e.Port.Send(frame);
            return;
        }
        // Flood: a copy to every other port, the original to the last one.
        SwitchPort? last = null;
        foreach (var port in _ports)
        {
            if (port == ingress || port.Wire is null) continue;
            if (last is not null) last.Send(frame.Copy());
            last = port;
        }
        if (last is not null) last.Send(frame);
        else frame.Dispose();
    }
}
