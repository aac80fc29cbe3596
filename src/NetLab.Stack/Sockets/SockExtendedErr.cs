using NetLab.Core.Addressing;

namespace NetLab.Stack.Sockets;

/// <summary>SO_EE_ORIGIN_* of struct sock_extended_err.</summary>
public enum ErrOrigin : byte { None = 0, Local = 1, Icmp = 2 }

/// <summary>
/// One entry of a socket's error queue (IP_RECVERR, read with MSG_ERRQUEUE): struct
/// sock_extended_err, the offender (SO_EE_OFFENDER), the TTL of the ICMP (IP_RECVTTL), the
/// destination of the datagram that failed (msg_name) and its quoted payload.
/// </summary>
public sealed record SockExtendedErr(
    Errno Errno,
    ErrOrigin Origin,
    byte Type,
    byte Code,
    uint Info,
    Ipv4Address Offender,
    int OffenderTtl,
    Ipv4Address Destination,
    ushort DestinationPort,
    byte[] Payload,
    long TimestampNs);
