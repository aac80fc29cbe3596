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
        using var conflictSeen = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        // §2.1.1: a conflict is any ARP packet whose sender IP is the address, or a probe for it from another host.
        void OnArp(NetDevice d, ArpRepr arp, PacketType type)
        {
            if (d != dev || arp.SenderMac == dev.Mac || conflict is not null) return;
            bool usesIt = arp.SenderIp == address;
            bool probesIt = arp.SenderIp.IsUnspecified && arp.Operation == ArpOp.Request && arp.TargetIp == address;
            if (!usesIt && !probesIt) return;
            conflict = arp.SenderMac;
            // Wake the prober from its own event, not from inside the ARP receive path.
            host.Scheduler.Post(_ => conflictSeen.Cancel(), null);
        }

        host.Neighbours.ArpReceived += OnArp;
        try
        {
            await Task.Delay(Random(rng, SimDuration.Zero, ProbeWait).ToTimeSpan(), time, conflictSeen.Token);
            for (int i = 0; i < ProbeNum; i++)
            {
                host.Neighbours.SendArp(dev, ArpOp.Request, Ipv4Address.Any, address, MacAddress.Broadcast, MacAddress.Zero);
                var wait = i < ProbeNum - 1 ? Random(rng, ProbeMin, ProbeMax) : AnnounceWait;
                await Task.Delay(wait.ToTimeSpan(), time, conflictSeen.Token);
            }
        }
        catch (OperationCanceledException) when (conflict is not null)
        {
            return new AcdResult(address, true, conflict.Value, host.Now);
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

    /// <summary>Uniform in [min, max], at 1 ms granularity as the daemons use.</summary>
    private static SimDuration Random(RandomStream rng, SimDuration min, SimDuration max) =>
        min + SimDuration.FromMilliseconds(rng.Next((int)((max - min).TotalMilliseconds) + 1));
}
