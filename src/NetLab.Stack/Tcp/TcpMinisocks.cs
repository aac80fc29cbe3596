using NetLab.Core.Addressing;
using NetLab.Core.Time;

namespace NetLab.Stack.Tcp;

/// <summary>A connection's 4-tuple from our side (the key of the established, request and TIME_WAIT hashes).</summary>
internal readonly record struct FourTuple(Ipv4Address Local, ushort LocalPort, Ipv4Address Remote, ushort RemotePort)
{
    // Every segment looks its socket up by this key (__inet_lookup_established): compare and hash the raw words
    // rather than field by field through EqualityComparer.
    public bool Equals(FourTuple o) =>
        Local.Value == o.Local.Value && Remote.Value == o.Remote.Value && LocalPort == o.LocalPort && RemotePort == o.RemotePort;

    public override int GetHashCode() =>
        (int)((Local.Value * 0x9E3779B1u) ^ (Remote.Value * 0x85EBCA77u) ^ ((uint)LocalPort << 16 | RemotePort) * 0xC2B2AE3Du);
}

/// <summary>
/// A request sock (struct tcp_request_sock, state TCP_NEW_SYN_RECV): what a listener keeps for a
/// half-open connection between the SYN and the final ACK, with its SYN-ACK retransmission timer.
/// </summary>
internal sealed class RequestSock
{
    public required TcpSocket Listener;
    public required FourTuple Tuple;
    public SeqNum RcvIsn;
    public SeqNum SntIsn;
    public int Mss;              // the peer's MSS (mss_clamp)
    public int Advmss;           // ours, advertised in the SYN-ACK
    public bool TstampOk, SackOk, WscaleOk;
    public int SndWscale, RcvWscale;
    public uint TsRecent;
    public uint TsOff;
    public int RcvWnd, WindowClamp;
    public int NumTimeout;       // SYN-ACK timer expiries (backoff)
    public int NumRetrans;       // SYN-ACK retransmissions, by timer or for a retransmitted SYN (tcp_rtx_synack)
    public bool Acked;           // the final ACK was dropped for a full accept queue
    public long SntSynackUs = -1; // snt_synack: when the first SYN-ACK left ("Timestamp first SYNACK")
    public uint SntTsvalFirst, SntTsvalLast; // the TSvals of the first and the last SYN-ACK (tcp_check_req's tsecr_reject)
    public long TimeoutUs = TcpSocket.TcpTimeoutInitUs;
    public SimTimer? Timer;
    public long LastOowAckUs;

    public SeqNum RcvNxt => RcvIsn + 1;
}

/// <summary>
/// struct tcp_timewait_sock: what remains of a connection in TIME_WAIT, or an orphaned FIN_WAIT2
/// (substate), until its timer expires: enough to answer retransmitted FINs, RSTs and new SYNs.
/// </summary>
internal sealed class TimeWaitSock
{
    public required FourTuple Tuple;
    public TcpState Substate;
    public bool Reuse;           // tw_reuse: the socket's SO_REUSEADDR, which bind() over this TIME_WAIT needs too
    public SeqNum SndNxt, RcvNxt;
    public int RcvWnd, RcvWscale;
    public bool TsOk;
    public uint TsRecent;
    public long TsRecentStampUs;
    public uint TsOffset;
    public long EntryUs;
    public long DeadlineUs;
    public long LastOowAckUs;
    public SimTimer? Timer;
}

/// <summary>What tcp_timewait_state_process() tells tcp_v4_rcv to do.</summary>
internal enum TimeWaitAction { Success, Rst, Ack, Syn }
