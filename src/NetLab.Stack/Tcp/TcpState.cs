namespace NetLab.Stack.Tcp;

/// <summary>sk_state for TCP, with Linux's numbers (the st column of /proc/net/tcp).</summary>
public enum TcpState : byte
{
    Established = 1, SynSent = 2, SynRecv = 3, FinWait1 = 4, FinWait2 = 5, TimeWait = 6, Close = 7,
    CloseWait = 8, LastAck = 9, Listen = 10, Closing = 11,
    /// <summary>TCP_NEW_SYN_RECV: a request sock (half-open connection on a listener).</summary>
    NewSynRecv = 12,
}

public static class TcpStateNames
{
    /// <summary>The names ss prints (sstate_name in iproute2 misc/ss.c).</summary>
    public static string SsName(this TcpState s) => s switch
    {
        TcpState.Established => "ESTAB",
        TcpState.SynSent => "SYN-SENT",
        TcpState.SynRecv or TcpState.NewSynRecv => "SYN-RECV",
        TcpState.FinWait1 => "FIN-WAIT-1",
        TcpState.FinWait2 => "FIN-WAIT-2",
        TcpState.TimeWait => "TIME-WAIT",
        TcpState.Close => "UNCONN",
        TcpState.CloseWait => "CLOSE-WAIT",
        TcpState.LastAck => "LAST-ACK",
        TcpState.Listen => "LISTEN",
        TcpState.Closing => "CLOSING",
        _ => "UNKNOWN",
    };

    /// <summary>RFC 9293 §3.3.2 names, for logs.</summary>
    public static string RfcName(this TcpState s) => s switch
    {
        TcpState.Established => "ESTABLISHED",
        TcpState.SynSent => "SYN-SENT",
        TcpState.SynRecv or TcpState.NewSynRecv => "SYN-RECEIVED",
        TcpState.FinWait1 => "FIN-WAIT-1",
        TcpState.FinWait2 => "FIN-WAIT-2",
        TcpState.TimeWait => "TIME-WAIT",
        TcpState.Close => "CLOSED",
        TcpState.CloseWait => "CLOSE-WAIT",
        TcpState.LastAck => "LAST-ACK",
        TcpState.Listen => "LISTEN",
        TcpState.Closing => "CLOSING",
        _ => "UNKNOWN",
    };
}
