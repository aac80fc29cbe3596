using NetLab.Core.Addressing;
using NetLab.Core.Packets;
using NetLab.Core.Time;
using NetLab.Stack.Link;

namespace NetLab.Stack.Neighbour;

/// <summary>NUD states (include/uapi/linux/neighbour.h), bit values as Linux's.</summary>
[Flags]
public enum NudState
{
    None = 0x00,
    Incomplete = 0x01,
    Reachable = 0x02,
    Stale = 0x04,
    Delay = 0x08,
    Probe = 0x10,
    Failed = 0x20,
    NoArp = 0x40,
    Permanent = 0x80,

    /// <summary>NUD_IN_TIMER: states whose timer runs.</summary>
    InTimer = Incomplete | Reachable | Delay | Probe,
    /// <summary>NUD_VALID: states with a usable link-layer address.</summary>
    Valid = Permanent | NoArp | Reachable | Probe | Stale | Delay,
    /// <summary>NUD_CONNECTED: states that need no verification before use.</summary>
    Connected = Permanent | NoArp | Reachable,
}

/// <summary>One neighbour (struct neighbour): an IPv4 address on a device and what we know of its MAC.</summary>
public sealed class NeighbourEntry
{
    internal NeighbourEntry(NetDevice device, Ipv4Address address, Scheduler scheduler, Action<NeighbourEntry> onTimer)
    {
        Device = device;
        Address = address;
        Timer = new SimTimer(scheduler, () => onTimer(this));
    }

    public NetDevice Device { get; }
    public Ipv4Address Address { get; }
    public MacAddress LinkAddress { get; internal set; }
    public NudState State { get; internal set; }
    /// <summary>Last reachability confirmation (ns).</summary>
    public long Confirmed { get; internal set; }
    /// <summary>Last state or address change (ns).</summary>
    public long Updated { get; internal set; }
    /// <summary>Last use for sending through the slow path (ns).</summary>
    public long Used { get; internal set; }
    public int Probes { get; internal set; }

    internal readonly Queue<Packet> ArpQueue = new();
    internal long ArpQueueBytes;
    internal readonly SimTimer Timer;

    /// <summary>The state name as ip neigh prints it.</summary>
    public string StateName => State switch
    {
        NudState.None => "NONE",
        NudState.Incomplete => "INCOMPLETE",
        NudState.Reachable => "REACHABLE",
        NudState.Stale => "STALE",
        NudState.Delay => "DELAY",
        NudState.Probe => "PROBE",
        NudState.Failed => "FAILED",
        NudState.NoArp => "NOARP",
        NudState.Permanent => "PERMANENT",
        _ => State.ToString().ToUpperInvariant(),
    };

    public override string ToString() =>
        (State & NudState.Valid) != 0
            ? $"{Address} dev {Device.Name} lladdr {LinkAddress} {StateName}"
            : $"{Address} dev {Device.Name} {StateName}";
}
