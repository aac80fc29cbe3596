using NetLab.Core.Addressing;
using NetLab.Core.Counters;
using NetLab.Core.Packets;
using NetLab.Core.Randomness;
using NetLab.Core.Time;
using NetLab.Stack.Icmp;
using NetLab.Stack.IPv4;
using NetLab.Stack.Link;

namespace NetLab.Stack.Neighbour;

/// <summary>
/// ARP and the IPv4 neighbour table (net/core/neighbour.c + net/ipv4/arp.c): resolution with
/// queued packets, the NUD state machine with Linux's timers, garbage collection, static entries.
/// </summary>
public sealed class NeighbourTable
{
    private const long NsPerSecond = 1_000_000_000;
    /// <summary>neigh_timer_handler floors every timer at HZ/100.</summary>
    private const long MinTimerNs = 10_000_000;

    private readonly Host _host;
    private readonly Dictionary<(int IfIndex, uint Address), NeighbourEntry> _entries = [];
    private readonly Dictionary<NetDevice, DeviceParms> _parms = [];
    private readonly RandomStream _rng;
    private readonly SimTimer _gcTimer;
    private long _lastFlush;

    /// <summary>A device's neigh_parms plus its randomised reachable_time.</summary>
    private sealed class DeviceParms(NeighParms sysctl)
    {
        public readonly NeighParms Sysctl = sysctl;
        public long ReachableTimeNs;
        public long LastRandNs;
        public int BaseUsedMs = -1;
    }

    internal NeighbourTable(Host host)
    {
        _host = host;
        _rng = host.RandomStream("neigh");
        _gcTimer = new SimTimer(host.Scheduler, PeriodicGc);
    }

    /// <summary>/proc/net/stat/arp_cache counters.</summary>
    public MibCounters<NeighMib> Stats { get; } = new("arp_cache");

    public IEnumerable<NeighbourEntry> Entries => _entries.Values;
    public int Count => _entries.Count;

    /// <summary>
    /// Raised for every valid ARP packet received: the view a packet socket such as arping's has,
    /// with sll_pkttype (Host, Broadcast or Multicast).
    /// </summary>
    public event Action<NetDevice, ArpRepr, PacketType>? ArpReceived;

    internal void RegisterDevice(NetDevice dev, NeighParms parms) => _parms[dev] = new DeviceParms(parms);

    public NeighbourEntry? Lookup(NetDevice dev, Ipv4Address address) =>
        _entries.GetValueOrDefault((dev.IfIndex, address.Value));

    /// <summary>neigh_rand_reach_time(): uniform in [base/2, 3·base/2), re-drawn every 300 s or when base changes.</summary>
    public long ReachableTimeNs(NetDevice dev)
    {
        var p = _parms[dev];
        long now = _host.Now.Nanoseconds;
        if (p.BaseUsedMs != p.Sysctl.BaseReachableTimeMs || now > p.LastRandNs + 300 * NsPerSecond)
        {
            long baseNs = p.Sysctl.BaseReachableTimeMs * 1_000_000L;
            p.ReachableTimeNs = baseNs == 0 ? 0 : baseNs / 2 + (long)(_rng.NextDouble() * baseNs);
            p.LastRandNs = now;
            p.BaseUsedMs = p.Sysctl.BaseReachableTimeMs;
        }
        return p.ReachableTimeNs;
    }

    private NeighParms Parms(NetDevice dev) => _parms[dev].Sysctl;

    // ---------------------------------------------------------------- output

    /// <summary>
    /// neigh_output(): add the Ethernet header for <paramref name="nextHop"/> and transmit, or queue
    /// the packet while ARP resolves it. <paramref name="pkt"/>.Data is the IP header. Takes ownership.
    /// Returns false when the device's qdisc dropped it (NET_XMIT_DROP).
    /// </summary>
    internal bool Output(NetDevice dev, Ipv4Address nextHop, Packet pkt, bool broadcast)
    {
        if (dev.IsLoopback || dev.NoArp) return Transmit(dev, dev.Mac, pkt);
        if (broadcast || nextHop.IsLimitedBroadcast) return Transmit(dev, MacAddress.Broadcast, pkt);
        // ip_eth_mc_map(): 01:00:5e + the low 23 bits of the group (RFC 1112 §6.4).
        if (nextHop.IsMulticast) return Transmit(dev, new MacAddress(0x01005E000000UL | (nextHop.Value & 0x7FFFFF)), pkt);
        Stats.Inc(NeighMib.Lookups);
        var n = Lookup(dev, nextHop);
        if (n is null)
        {
            n = Create(dev, nextHop);
            if (n is null)
            {
                _host.Drop(pkt, SkbDropReason.NeighFailed);
                return true;
            }
        }
        else Stats.Inc(NeighMib.Hits);

        if ((n.State & NudState.Connected) != 0)
        {
            // The hh_cache fast path: no bookkeeping, which is why REACHABLE usually decays to STALE.
            return Transmit(dev, n.LinkAddress, pkt);
        }
        // Queued for resolution (or dropped by it): neigh_resolve_output() reports success.
        return !EventSend(n, pkt) || Transmit(dev, n.LinkAddress, pkt);
    }

    /// <summary>
    /// __neigh_event_send(): true when the packet may go now (STALE/DELAY/PROBE); otherwise it has
    /// been queued or dropped.
    /// </summary>
    private bool EventSend(NeighbourEntry n, Packet pkt)
    {
        long now = _host.Now.Nanoseconds;
        var parms = Parms(n.Device);
        n.Used = now;
        switch (n.State)
        {
            case NudState.Stale:
                SetState(n, NudState.Delay);
                n.Timer.Arm(new SimTime(now + parms.DelayFirstProbeTime * NsPerSecond));
                return true;
            case NudState.Delay or NudState.Probe:
                return true;
            case NudState.None or NudState.Failed:
                if (parms.McastSolicit + parms.AppSolicit == 0)
                {
                    SetState(n, NudState.Failed);
                    _host.Drop(pkt, SkbDropReason.NeighFailed);
                    return false;
                }
                // INCOMPLETE with probes = ucast_solicit, so that the remaining mcast_solicit probes are broadcasts.
                n.Probes = parms.UcastSolicit;
                SetState(n, NudState.Incomplete);
                Enqueue(n, pkt);
                n.Timer.Arm(new SimTime(now + Math.Max(parms.RetransTimeMs * 1_000_000L, MinTimerNs)));
                Probe(n);
                return false;
            case NudState.Incomplete:
                Enqueue(n, pkt);
                return false;
            default:
                return true;
        }
    }

    /// <summary>arp_queue while INCOMPLETE, bounded by unres_qlen_bytes: the oldest packets make room.</summary>
    private void Enqueue(NeighbourEntry n, Packet pkt)
    {
        long limit = Parms(n.Device).UnresQlenBytes;
        long size = Truesize(pkt);
        while (n.ArpQueueBytes + size > limit && n.ArpQueue.TryDequeue(out var old))
        {
            n.ArpQueueBytes -= Truesize(old);
            Stats.Inc(NeighMib.UnresolvedDiscards);
            _host.Drop(old, SkbDropReason.NeighQueueFull);
        }
        n.ArpQueue.Enqueue(pkt);
        n.ArpQueueBytes += size;
    }

    private static long Truesize(Packet p) => p.Length + EthernetHeaderView.Length + 576;

    private static bool Transmit(NetDevice dev, MacAddress destination, Packet pkt)
    {
        new EthernetRepr(destination, dev.Mac, EtherType.Ipv4).Emit(pkt.Push(EthernetHeaderView.Length));
        return dev.Xmit(pkt);
    }

    // ---------------------------------------------------------------- timers

    /// <summary>neigh_timer_handler().</summary>
    private void OnTimer(NeighbourEntry n)
    {
        long now = _host.Now.Nanoseconds;
        var parms = Parms(n.Device);
        long delayProbe = parms.DelayFirstProbeTime * NsPerSecond;
        long retrans = parms.RetransTimeMs * 1_000_000L;
        long next = now + retrans;
        switch (n.State)
        {
            case NudState.Reachable:
            {
                long reachable = ReachableTimeNs(n.Device);
                if (now <= n.Confirmed + reachable) next = n.Confirmed + reachable;
                else if (now <= n.Used + delayProbe)
                {
                    SetState(n, NudState.Delay);
                    next = now + delayProbe;
                }
                else
                {
                    SetState(n, NudState.Stale);
                    return;
                }
                break;
            }
            case NudState.Delay:
                if (now <= n.Confirmed + delayProbe)
                {
                    SetState(n, NudState.Reachable);
                    next = n.Confirmed + ReachableTimeNs(n.Device);
                }
                else
                {
                    SetState(n, NudState.Probe);
                    n.Probes = 0;
                    next = now + Math.Max(retrans, MinTimerNs);
                }
                break;
            case NudState.Incomplete or NudState.Probe:
                break;
            default:
                return;
        }
        if ((n.State & (NudState.Incomplete | NudState.Probe)) != 0 && n.Probes >= MaxProbes(n))
        {
            SetState(n, NudState.Failed);
            Invalidate(n);
            return;
        }
        n.Timer.Arm(new SimTime(Math.Max(next, now + MinTimerNs)));
        if ((n.State & (NudState.Incomplete | NudState.Probe)) != 0) Probe(n);
    }

    /// <summary>neigh_max_probes(): ucast + app + (mcast_resolicit in PROBE, else mcast_solicit).</summary>
    private int MaxProbes(NeighbourEntry n)
    {
        var p = Parms(n.Device);
        return p.UcastSolicit + p.AppSolicit + (n.State == NudState.Probe ? p.McastResolicit : p.McastSolicit);
    }

    /// <summary>neigh_probe() + arp_solicit(): unicast to the known MAC while probes &lt; ucast_solicit, then broadcast.</summary>
    private void Probe(NeighbourEntry n)
    {
        var parms = Parms(n.Device);
        int probes = n.Probes - parms.UcastSolicit;
        MacAddress destination;
        MacAddress targetMac = MacAddress.Zero;
        if (probes < 0) destination = targetMac = n.LinkAddress;
        else if (probes - parms.AppSolicit < 0) { n.Probes++; return; } // app probes go to a user-space daemon: none here
        else destination = MacAddress.Broadcast;
        // The request is "unicast" at the link layer; its target MAC field stays zero as Linux sends it.
        targetMac = MacAddress.Zero;
        SendArp(n.Device, ArpOp.Request, SolicitSource(n), n.Address, destination, targetMac);
        n.Probes++;
    }

    /// <summary>arp_solicit() source selection per arp_announce (0: the queued packet's source if local).</summary>
    private Ipv4Address SolicitSource(NeighbourEntry n)
    {
        int announce = Math.Max(_host.Ipv4.DevConf(n.Device).ArpAnnounce, _host.AllConf.ArpAnnounce);
        if (announce < 2 && n.ArpQueue.Count > 0)
        {
            Packet? newest = null;
            foreach (var p in n.ArpQueue) newest = p;
            var src = Ipv4HeaderView.ForEmit(newest!.Data).Source;
            if (_host.Ipv4.IsLocalAddress(src) && (announce == 0 || OnLink(n.Device, src, n.Address))) return src;
        }
        return _host.Ipv4.SelectSourceAddress(n.Device, n.Address, RouteScope.Link);
    }

    private bool OnLink(NetDevice dev, Ipv4Address src, Ipv4Address target) =>
        _host.Ipv4.Addresses.Any(a => a.Device == dev && a.Local == src && a.Prefix.Contains(target));

    /// <summary>neigh_invalidate(): every queued packet gets ICMP host unreachable (arp_error_report) and is dropped.</summary>
    private void Invalidate(NeighbourEntry n)
    {
        Stats.Inc(NeighMib.ResFailed);
        while (n.ArpQueue.TryDequeue(out var pkt))
        {
            _host.Icmp.SendError(pkt, null, IcmpType.DestinationUnreachable, IcmpCode.HostUnreachable, 0);
            _host.Drop(pkt, SkbDropReason.NeighFailed);
        }
        n.ArpQueueBytes = 0;
    }

    private void SetState(NeighbourEntry n, NudState state)
    {
        n.State = state;
        n.Updated = _host.Now.Nanoseconds;
        if ((state & NudState.InTimer) == 0) n.Timer.Cancel();
    }

    // ---------------------------------------------------------------- update

    /// <summary>
    /// neigh_update(): learn <paramref name="lladdr"/> in <paramref name="state"/>. A valid entry keeps
    /// its address unless <paramref name="overrideAddress"/>; a STALE update of an unchanged address keeps the state.
    /// </summary>
    private void Update(NeighbourEntry n, MacAddress lladdr, NudState state, bool overrideAddress, bool admin = false)
    {
        var old = n.State;
        long now = _host.Now.Nanoseconds;
        if (!admin && (old & (NudState.NoArp | NudState.Permanent)) != 0) return;
        if ((old & NudState.Valid) != 0)
        {
            if (lladdr != n.LinkAddress && !overrideAddress) return;
            if (lladdr == n.LinkAddress && state == NudState.Stale && !admin) state = old;
        }
        if ((state & NudState.Connected) != 0) n.Confirmed = now;
        if (state != old || lladdr != n.LinkAddress)
        {
            n.LinkAddress = lladdr;
            SetState(n, state);
        }
        n.Updated = now;
        if (state == NudState.Reachable) n.Timer.Arm(new SimTime(now + ReachableTimeNs(n.Device)));
        else if (state == NudState.Delay && !n.Timer.IsArmed)
            n.Timer.Arm(new SimTime(now + Parms(n.Device).DelayFirstProbeTime * NsPerSecond));
        if ((old & NudState.Valid) == 0 && (state & NudState.Valid) != 0)
        {
            // Resolved: flush the packets that waited (through the normal path, so STALE moves to DELAY).
            n.ArpQueueBytes = 0;
            while (n.ArpQueue.TryDequeue(out var pkt))
            {
                if ((n.State & NudState.Connected) != 0 || EventSend(n, pkt)) Transmit(n.Device, n.LinkAddress, pkt);
            }
        }
    }

    /// <summary>neigh_confirm() / dst_confirm(): an upper layer saw forward progress (TCP ACKs, MSG_CONFIRM).</summary>
    public void Confirm(NetDevice dev, Ipv4Address address)
    {
        var n = Lookup(dev, address);
        if (n is not null) n.Confirmed = _host.Now.Nanoseconds;
    }

    // ---------------------------------------------------------------- receive

    /// <summary>arp_rcv() + arp_process(). Data is the ARP packet. Takes ownership.</summary>
    internal void ArpRcv(NetDevice dev, Packet pkt)
    {
        if (dev.NoArp || dev.IsLoopback || pkt.PacketType is PacketType.OtherHost or PacketType.Loopback
            || !ArpRepr.TryParse(pkt.Data, out var arp) || arp.Operation is not (ArpOp.Request or ArpOp.Reply))
        {
            _host.Drop(pkt, SkbDropReason.ArpInvalid);
            return;
        }
        var packetType = pkt.PacketType;
        pkt.Dispose();
        ArpReceived?.Invoke(dev, arp, packetType);
        if (arp.TargetIp.IsLoopback || arp.TargetIp.IsMulticast || arp.SenderIp.IsMulticast || arp.SenderIp.IsLoopback)
            return;
        if (arp.Operation == ArpOp.Request) Stats.Inc(packetType == PacketType.Host ? NeighMib.RcvProbesUcast : NeighMib.RcvProbesMcast);

        bool targetLocal = _host.Ipv4.IsLocalAddress(arp.TargetIp) && ArpIgnoreAllows(dev, arp);
        if (arp.SenderIp.IsUnspecified)
        {
            // Duplicate address detection probe (RFC 5227 §2.1.1): answer, learn nothing.
            if (arp.Operation == ArpOp.Request && targetLocal)
                SendArp(dev, ArpOp.Reply, arp.TargetIp, arp.SenderIp, arp.SenderMac, arp.SenderMac);
            return;
        }
        if (arp.Operation == ArpOp.Request && targetLocal)
        {
            // neigh_event_ns(): create or refresh the asker as STALE, then reply.
            var asker = Lookup(dev, arp.SenderIp) ?? Create(dev, arp.SenderIp);
            if (asker is not null) Update(asker, arp.SenderMac, NudState.Stale, overrideAddress: true);
            SendArp(dev, ArpOp.Reply, arp.TargetIp, arp.SenderIp, arp.SenderMac, arp.SenderMac);
            return;
        }
        bool gratuitous = arp.SenderIp == arp.TargetIp
            && (arp.Operation == ArpOp.Request || arp.TargetMac == arp.SenderMac);
        var n = Lookup(dev, arp.SenderIp);
        int accept = Math.Max(_host.Ipv4.DevConf(dev).ArpAccept, _host.AllConf.ArpAccept);
        if (n is null && accept != 0 && (gratuitous || arp.Operation == ArpOp.Reply))
            n = Create(dev, arp.SenderIp);
        if (n is null) return;
        var state = arp.Operation == ArpOp.Reply && packetType == PacketType.Host ? NudState.Reachable : NudState.Stale;
        long locktime = Parms(dev).Locktime * 10_000_000L;
        bool overrideAddress = _host.Now.Nanoseconds > n.Updated + locktime || gratuitous;
        Update(n, arp.SenderMac, state, overrideAddress);
    }

    /// <summary>arp_ignore modes 0 (any local address) and 1 (only addresses on the receiving device).</summary>
    private bool ArpIgnoreAllows(NetDevice dev, ArpRepr arp)
    {
        int mode = Math.Max(_host.Ipv4.DevConf(dev).ArpIgnore, _host.AllConf.ArpIgnore);
        return mode switch
        {
            0 => true,
            1 => _host.Ipv4.Addresses.Any(a => a.Device == dev && a.Local == arp.TargetIp),
            2 => _host.Ipv4.Addresses.Any(a => a.Device == dev && a.Local == arp.TargetIp && a.Prefix.Contains(arp.SenderIp)),
            8 => false,
            _ => true,
        };
    }

    /// <summary>arp_send(): one ARP packet out of <paramref name="dev"/>.</summary>
    public void SendArp(NetDevice dev, ushort op, Ipv4Address senderIp, Ipv4Address targetIp, MacAddress destination,
        MacAddress targetMac, MacAddress? senderMac = null)
    {
        var pkt = _host.Pool.Rent(PacketPool.DefaultHeadroom, ArpPacketView.Length);
        new ArpRepr(op, senderMac ?? dev.Mac, senderIp, targetMac, targetIp).Emit(pkt.Data);
        new EthernetRepr(destination, dev.Mac, EtherType.Arp).Emit(pkt.Push(EthernetHeaderView.Length));
        dev.Xmit(pkt);
    }

    /// <summary>A gratuitous ARP request announcing <paramref name="address"/> (inetdev_send_gratuitous_arp).</summary>
    public void SendGratuitous(NetDevice dev, Ipv4Address address) =>
        SendArp(dev, ArpOp.Request, address, address, MacAddress.Broadcast, MacAddress.Zero);

    // ---------------------------------------------------------------- table management

    private NeighbourEntry? Create(NetDevice dev, Ipv4Address address)
    {
        var t = _host.NeighTable;
        long now = _host.Now.Nanoseconds;
        if (_entries.Count >= t.GcThresh3 || (_entries.Count >= t.GcThresh2 && now > _lastFlush + 5 * NsPerSecond))
        {
            ForcedGc();
            if (_entries.Count >= t.GcThresh3)
            {
                Stats.Inc(NeighMib.TableFulls);
                return null;
            }
        }
        var n = new NeighbourEntry(dev, address, _host.Scheduler, OnTimer)
        {
            Confirmed = now - 2 * Parms(dev).BaseReachableTimeMs * 1_000_000L,
            Updated = now,
            Used = now,
        };
        _entries[(dev.IfIndex, address.Value)] = n;
        Stats.Inc(NeighMib.Allocs);
        if (_entries.Count >= t.GcThresh1 && !_gcTimer.IsArmed) _gcTimer.ArmAfter(GcPeriod(dev));
        return n;
    }

    private SimDuration GcPeriod(NetDevice dev) =>
        SimDuration.FromMilliseconds(Math.Max(Parms(dev).BaseReachableTimeMs / 2, 1));

    /// <summary>neigh_periodic_work(): every base_reachable_time/2, only while the table holds gc_thresh1 entries.</summary>
    private void PeriodicGc()
    {
        if (_entries.Count < _host.NeighTable.GcThresh1) return;
        Stats.Inc(NeighMib.PeriodicGcRuns);
        long now = _host.Now.Nanoseconds;
        foreach (var n in _entries.Values.ToList())
        {
            if ((n.State & (NudState.Permanent | NudState.InTimer)) != 0) continue;
            if (n.State == NudState.Failed || now >= n.Used + Parms(n.Device).GcStaleTime * NsPerSecond) Remove(n);
        }
        var any = _entries.Values.FirstOrDefault();
        if (any is not null && _entries.Count >= _host.NeighTable.GcThresh1) _gcTimer.ArmAfter(GcPeriod(any.Device));
    }

    /// <summary>neigh_forced_gc(): evict FAILED/NOARP or not-recently-updated entries down to gc_thresh2.</summary>
    private void ForcedGc()
    {
        Stats.Inc(NeighMib.ForcedGcRuns);
        long now = _host.Now.Nanoseconds;
        int excess = _entries.Count - _host.NeighTable.GcThresh2;
        foreach (var n in _entries.Values.ToList())
        {
            if (excess <= 0) break;
            if (n.State == NudState.Permanent) continue;
            if (n.State is NudState.Failed or NudState.NoArp || now - n.Updated > 5 * NsPerSecond)
            {
                Remove(n);
                excess--;
            }
        }
        _lastFlush = now;
    }

    private void Remove(NeighbourEntry n)
    {
        n.Timer.Cancel();
        while (n.ArpQueue.TryDequeue(out var pkt)) _host.Drop(pkt, SkbDropReason.NeighDead);
        _entries.Remove((n.Device.IfIndex, n.Address.Value));
        Stats.Inc(NeighMib.Destroys);
    }

    /// <summary>ip neigh add/replace ... nud permanent|reachable|stale|noarp (an administrative update).</summary>
    public NeighbourEntry SetStatic(NetDevice dev, Ipv4Address address, MacAddress lladdr, NudState state = NudState.Permanent)
    {
        var n = Lookup(dev, address) ?? Create(dev, address) ?? throw new InvalidOperationException("neighbour table overflow");
        Update(n, lladdr, state, overrideAddress: true, admin: true);
        return n;
    }

    /// <summary>ip neigh del.</summary>
    public bool Delete(NetDevice dev, Ipv4Address address)
    {
        var n = Lookup(dev, address);
        if (n is null) return false;
        Remove(n);
        return true;
    }

    /// <summary>ip neigh flush dev DEV: every non-permanent entry of the device.</summary>
    public int Flush(NetDevice? dev = null)
    {
        int removed = 0;
        foreach (var n in _entries.Values.ToList())
        {
            if ((dev is null || n.Device == dev) && n.State != NudState.Permanent) { Remove(n); removed++; }
        }
        return removed;
    }

    /// <summary>neigh_ifdown / arp_evict_nocarrier: a device going down forgets its dynamic neighbours.</summary>
    internal void OnDeviceStateChanged(NetDevice dev)
    {
        if (!dev.IsUp) Flush(dev);
        else if (Math.Max(_host.Ipv4.DevConf(dev).ArpNotify, _host.AllConf.ArpNotify) != 0)
        {
            foreach (var a in _host.Ipv4.Addresses.Where(a => a.Device == dev)) SendGratuitous(dev, a.Local);
        }
    }
}
