namespace NetLab.Stack;

// Member names are Linux's counter names, in /proc/net/snmp and /proc/net/netstat order.
#pragma warning disable CA1707

/// <summary>"Ip:" in /proc/net/snmp (IPSTATS_MIB_*).</summary>
public enum IpMib
{
    InReceives, InHdrErrors, InAddrErrors, ForwDatagrams, InUnknownProtos, InDiscards, InDelivers,
    OutRequests, OutDiscards, OutNoRoutes, ReasmTimeout, ReasmReqds, ReasmOKs, ReasmFails,
    FragOKs, FragFails, FragCreates, OutTransmits,
}

/// <summary>"IpExt:" in /proc/net/netstat.</summary>
public enum IpExtMib
{
    InNoRoutes, InTruncatedPkts, InMcastPkts, OutMcastPkts, InBcastPkts, OutBcastPkts,
    InOctets, OutOctets, InMcastOctets, OutMcastOctets, InBcastOctets, OutBcastOctets, InCsumErrors,
    ReasmOverlaps,
}

/// <summary>"Icmp:" in /proc/net/snmp (ICMP_MIB_*).</summary>
public enum IcmpMib
{
    InMsgs, InErrors, InCsumErrors, InDestUnreachs, InTimeExcds, InParmProbs, InSrcQuenchs, InRedirects,
    InEchos, InEchoReps, InTimestamps, InTimestampReps, InAddrMasks, InAddrMaskReps,
    OutMsgs, OutErrors, OutRateLimitGlobal, OutRateLimitHost, OutDestUnreachs, OutTimeExcds, OutParmProbs,
    OutSrcQuenchs, OutRedirects, OutEchos, OutEchoReps, OutTimestamps, OutTimestampReps, OutAddrMasks, OutAddrMaskReps,
}

/// <summary>"Udp:" in /proc/net/snmp (UDP_MIB_*).</summary>
public enum UdpMib
{
    InDatagrams, NoPorts, InErrors, OutDatagrams, RcvbufErrors, SndbufErrors, InCsumErrors, IgnoredMulti, MemErrors,
}

/// <summary>The few "ArpTable" style neighbour statistics of /proc/net/stat/arp_cache.</summary>
public enum NeighMib
{
    Allocs, Destroys, HashGrows, ResFailed, Lookups, Hits, RcvProbesMcast, RcvProbesUcast, PeriodicGcRuns, ForcedGcRuns,
    UnresolvedDiscards, TableFulls,
}
