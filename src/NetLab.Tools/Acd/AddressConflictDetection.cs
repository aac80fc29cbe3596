using NetLab.Core.Addressing;
using NetLab.Core.Packets;
using NetLab.Core.Randomness;
using NetLab.Core.Time;
using NetLab.Stack;
using NetLab.Stack.Link;
using NetLab.Stack.Neighbour;

namespace NetLab.Tools.Acd;

/// <summary>What address conflict detection found.</summary>
/// <param name="ConflictingMac">The MAC of the host already using the address, when there is one.</param>
public readonly record struct AcdResult(Ipv4Address Address, bool Conflict, MacAddress ConflictingMac, SimTime DecidedAt);

/// <summary>
/// IPv4 Address Conflict Detection (RFC 5227), the user-space step that NetworkManager (n-acd) and
/// systemd-networkd (sd-ipv4acd) run before configuring an address; the kernel does not. Three ARP
/// probes with sender IP 0.0.0.0, then, if nobody answered, the address is claimed and announced
/// with two gratuitous ARP requests. This is the notes' "三次 ARP" before a static address is used.
/// </summary>
public static class AddressConflictDetection
{
    // RFC 5227 §1.1 constants.
    public static readonly SimDuration ProbeWait = SimDuration.FromSeconds(1);
    public const int ProbeNum = 3;
    public static readonly SimDuration ProbeMin = SimDuration.FromSeconds(1);
    public static readonly SimDuration ProbeMax = SimDuration.FromSeconds(2);
    public static readonly SimDuration AnnounceWait = SimDuration.FromSeconds(2);
    public const int AnnounceNum = 2;
    public static readonly SimDuration AnnounceInterval = SimDuration.FromSeconds(2);

    /// <summary>
    /// Probes <paramref name="address"/> on <paramref name="dev"/> (§2.1.1). On no conflict it calls
    /// <paramref name="claim"/> (which configures the address) and sends the announcements (§2.3).
    /// Runs on the host's scheduler in virtual time.
    /// </summary>
    public static async Task<AcdResult> ProbeAndAnnounceAsync(Host host, NetDevice dev, Ipv4Address address,
        Action claim, CancellationToken cancellationToken = default)
    {
        var rng = host.RandomStream($"acd/{dev.Name}/{address}");
        var time = host.Scheduler.TimeProvider;
        MacAddress? conflict = null;
        var conflictSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // §2.1.1: a conflict is any ARP packet whose sender IP is the address, or a probe for it from another host.
        void OnArp(NetDevice d, ArpRepr arp, PacketType type)
        {
            if (d != dev || arp.SenderMac == dev.Mac) return;
            bool usesIt = arp.SenderIp == address;
            bool probesIt = arp.SenderIp.IsUnspecified && arp.Operation == ArpOp.Request && arp.TargetIp == address;
            if ((usesIt || probesIt) && conflict is null)
            {
                conflict = arp.SenderMac;
                conflictSeen.TrySetResult();
            }
        }

        host.Neighbours.ArpReceived += OnArp;
        try
        {
            if (!await WaitOrConflict(Random(rng, SimDuration.Zero, ProbeWait), conflictSeen.Task, time, cancellationToken))
                return Conflict(host, address, conflict);
            for (int i = 0; i < ProbeNum; i++)
            {
                host.Neighbours.SendArp(dev, ArpOp.Request, Ipv4Address.Any, address, MacAddress.Broadcast, MacAddress.Zero);
                var wait = i < ProbeNum - 1 ? Random(rng, ProbeMin, ProbeMax) : AnnounceWait;
                if (!await WaitOrConflict(wait, conflictSeen.Task, time, cancellationToken))
                    return Conflict(host, address, conflict);
            }
        }
        finally
        {
            host.Neighbours.ArpReceived -= OnArp;
        }

        claim();
        for (int i = 0; i < AnnounceNum; i++)
        {
            if (i > 0) await Task.Delay(AnnounceInterval.ToTimeSpan(), time, cancellationToken);
            host.Neighbours.SendGratuitous(dev, address);
        }
        return new AcdResult(address, false, default, host.Now);
    }

    private static AcdResult Conflict(Host host, Ipv4Address address, MacAddress? mac) =>
        new(address, mac is not null, mac ?? default, host.Now);

    /// <summary>Waits <paramref name="d"/>; false if a conflict shows up first.</summary>
    private static async Task<bool> WaitOrConflict(SimDuration d, Task conflict, TimeProvider time, CancellationToken ct)
    {
        if (conflict.IsCompleted) return false;
        var delay = Task.Delay(d.ToTimeSpan(), time, ct);
        var first = await Task.WhenAny(delay, conflict);
        if (first == delay) await delay; // surfaces cancellation
        return first == delay && !conflict.IsCompleted;
    }

    /// <summary>Uniform in [min, max], at 1 ms granularity as the daemons use.</summary>
    private static SimDuration Random(RandomStream rng, SimDuration min, SimDuration max) =>
        min + SimDuration.FromMilliseconds(rng.Next((int)((max - min).TotalMilliseconds) + 1));
}
