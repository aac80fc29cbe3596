using NetLab.Stack.Tcp;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>
/// A segment the remote peer sends to the DUT: the TCP header and payload, and the IPv4 fields that carry it.
/// Tests derive one from <see cref="TcpHarness.SendTemplate"/> with <c>with</c> (smoltcp's SEND_TEMPL).
/// </summary>
public sealed record InboundSegment
{
    public ushort SourcePort { get; init; }
    public ushort DestinationPort { get; init; }
    public TcpFlags Flags { get; init; }
    public SeqNum Seq { get; init; }
    public SeqNum Ack { get; init; }
    /// <summary>The raw window field (scaled by the peer's shift on non-SYN segments).</summary>
    public ushort Window { get; init; }
    /// <summary>Written in Linux's layout (<see cref="TcpOptionSet.Write"/>), as a Linux peer sends them.</summary>
    public TcpOptionSet Options { get; init; }
    public byte[] Payload { get; init; } = [];
    public ushort UrgentPointer { get; init; }
    /// <summary>Sends the segment with its TCP checksum off by one, as a segment corrupted in transit.</summary>
    public bool BadChecksum { get; init; }

    public byte Ttl { get; init; }
    public byte Tos { get; init; }
    public ushort IpId { get; init; }
    public bool DontFragment { get; init; }

    public TcpRepr ToRepr() =>
        new(SourcePort, DestinationPort, Seq, Ack, Flags, Window, Options, Payload.Length, UrgentPointer);
}
