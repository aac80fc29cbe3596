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

/// <summary>"Tcp:" in /proc/net/snmp (TCP_MIB_*). CurrEstab is a gauge; RtoAlgorithm..MaxConn are constants.</summary>
public enum TcpMib
{
    RtoAlgorithm, RtoMin, RtoMax, MaxConn, ActiveOpens, PassiveOpens, AttemptFails, EstabResets, CurrEstab,
    InSegs, OutSegs, RetransSegs, InErrs, OutRsts, InCsumErrors,
}

/// <summary>"TcpExt:" in /proc/net/netstat (LINUX_MIB_*), in the order Linux 6.18 prints them.</summary>
public enum TcpExtMib
{
    SyncookiesSent, SyncookiesRecv, SyncookiesFailed, EmbryonicRsts, PruneCalled, RcvPruned, OfoPruned,
    OutOfWindowIcmps, LockDroppedIcmps, ArpFilter, TW, TWRecycled, TWKilled, PAWSActive, PAWSEstab, BeyondWindow,
    TSEcrRejected, PAWSOldAck, PAWSTimewait, DelayedACKs, DelayedACKLocked, DelayedACKLost, ListenOverflows,
    ListenDrops, TCPHPHits, TCPPureAcks, TCPHPAcks, TCPRenoRecovery, TCPSackRecovery, TCPSACKReneging,
    TCPSACKReorder, TCPRenoReorder, TCPTSReorder, TCPFullUndo, TCPPartialUndo, TCPDSACKUndo, TCPLossUndo,
    TCPLostRetransmit, TCPRenoFailures, TCPSackFailures, TCPLossFailures, TCPFastRetrans, TCPSlowStartRetrans,
    TCPTimeouts, TCPLossProbes, TCPLossProbeRecovery, TCPRenoRecoveryFail, TCPSackRecoveryFail, TCPRcvCollapsed,
    TCPBacklogCoalesce, TCPDSACKOldSent, TCPDSACKOfoSent, TCPDSACKRecv, TCPDSACKOfoRecv, TCPAbortOnData,
    TCPAbortOnClose, TCPAbortOnMemory, TCPAbortOnTimeout, TCPAbortOnLinger, TCPAbortFailed, TCPMemoryPressures,
    TCPMemoryPressuresChrono, TCPSACKDiscard, TCPDSACKIgnoredOld, TCPDSACKIgnoredNoUndo, TCPSpuriousRTOs,
    TCPMD5NotFound, TCPMD5Unexpected, TCPMD5Failure, TCPSackShifted, TCPSackMerged, TCPSackShiftFallback,
    TCPBacklogDrop, PFMemallocDrop, TCPMinTTLDrop, TCPDeferAcceptDrop, IPReversePathFilter, TCPTimeWaitOverflow,
    TCPReqQFullDoCookies, TCPReqQFullDrop, TCPRetransFail, TCPRcvCoalesce, TCPOFOQueue, TCPOFODrop, TCPOFOMerge,
    TCPChallengeACK, TCPSYNChallenge, TCPFastOpenActive, TCPFastOpenActiveFail, TCPFastOpenPassive,
    TCPFastOpenPassiveFail, TCPFastOpenListenOverflow, TCPFastOpenCookieReqd, TCPFastOpenBlackhole,
    TCPSpuriousRtxHostQueues, BusyPollRxPackets, TCPAutoCorking, TCPFromZeroWindowAdv, TCPToZeroWindowAdv,
    TCPWantZeroWindowAdv, TCPSynRetrans, TCPOrigDataSent, TCPHystartTrainDetect, TCPHystartTrainCwnd,
    TCPHystartDelayDetect, TCPHystartDelayCwnd, TCPACKSkippedSynRecv, TCPACKSkippedPAWS, TCPACKSkippedSeq,
    TCPACKSkippedFinWait2, TCPACKSkippedTimeWait, TCPACKSkippedChallenge, TCPWinProbe, TCPKeepAlive, TCPMTUPFail,
    TCPMTUPSuccess, TCPDelivered, TCPDeliveredCE, TCPAckCompressed, TCPZeroWindowDrop, TCPRcvQDrop,
    TCPWqueueTooBig, TCPFastOpenPassiveAltKey, TcpTimeoutRehash, TcpDuplicateDataRehash, TCPDSACKRecvSegs,
    TCPDSACKIgnoredDubious, TCPMigrateReqSuccess, TCPMigrateReqFailure, TCPPLBRehash, TCPAORequired, TCPAOBad,
    TCPAOKeyNotFound, TCPAOGood, TCPAODroppedIcmps,
}
