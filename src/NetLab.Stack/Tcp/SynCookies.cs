using System.Diagnostics;
using NetLab.Core.Addressing;

namespace NetLab.Stack.Tcp;

/// <summary>
/// The options a cookie SYN-ACK hides in the low bits of its TSval, as Linux's inet_request_sock fields
/// <c>wscale_ok</c>, <c>snd_wscale</c> (the client's shift), <c>sack_ok</c> and <c>ecn_ok</c>.
/// <see cref="SndWscale"/> is 0 when <see cref="WscaleOk"/> is false.
/// </summary>
public readonly record struct SynCookieTsOptions(bool WscaleOk, byte SndWscale, bool SackOk, bool EcnOk);

/// <summary>
/// SYN cookies for IPv4, as net/ipv4/syncookies.c builds and checks them: a listener whose SYN queue overflowed
/// answers with a SYN-ACK whose ISN encodes the connection, and rebuilds the connection from the ACK alone.
/// <code>
///  31        24 23                                  0
/// +------------+-------------------------------------+
/// |   count    |  H(count, 1) + mssind   (mod 2^24)  |  then + H(0, 0) + client ISN (mod 2^32)
/// +------------+-------------------------------------+
/// </code>
/// H(c, k) is <c>siphash_4u32(saddr, daddr, sport &lt;&lt; 16 | dport, c)</c> under <c>syncookie_secret[k]</c>,
/// truncated to 32 bits, with the words of <see cref="SecureSequence"/>. The addresses and ports are those of the
/// received segment (the SYN, then the ACK), so the client comes first, unlike secure_tcp_seq(). count is
/// <see cref="TcpCookieTime"/>, a minute counter; mssind indexes msstab.
/// </summary>
public static class SynCookies
{
    private const int CookieBits = 24;                      // COOKIEBITS: count sits above them
    private const uint CookieMask = (1u << CookieBits) - 1; // COOKIEMASK

    /// <summary>MAX_SYNCOOKIE_AGE (include/net/tcp.h): a cookie is good in the period it was made and the next.</summary>
    public const int MaxSyncookieAge = 2;

    // The kernel's tick rate, CONFIG_HZ (100, 250, 300 or 1000 by build); NetLab models 1000. It decides where the
    // minute boundaries fall (see TcpCookieTime), nothing else here.
    private const ulong Hz = 1000;
    private const ulong NsecPerJiffy = 1_000_000_000 / Hz;
    // INITIAL_JIFFIES (include/linux/jiffies.h): jiffies_64 boots 300 s below 2^32 so that 32-bit wrap bugs show early.
    private const ulong InitialJiffies = (1UL << 32) - 300 * Hz;
    private const ulong TcpSyncookiePeriod = 60 * Hz;      // TCP_SYNCOOKIE_PERIOD, in jiffies

    // Linux's msstab: sorted, chosen from "An Analysis of TCP Maximum Segment Sizes" (Alcock and Nelson, 2011);
    // 1440 serves PPPoE. The index is 2 bits of the cookie. An array: a ReadOnlySpan property over constant data
    // allocated 72 bytes per access in unoptimised code (measured), and this path must not allocate.
    private static readonly ushort[] MssTab = [536, 1300, 1440, 1460];

    // The option bits of a cookie SYN-ACK's TSval (TS_OPT_* and TSBITS in syncookies.c):
    //  31                          6   5     4    3     0
    // +-----------------------------+-----+------+--------+
    // |  timestamp (ms), rounded    | ECN | SACK | WScale |   WScale 0xF (not a valid shift) = no window scaling
    // +-----------------------------+-----+------+--------+
    // There is no timestamp bit: an ACK that echoes a timestamp shows that timestamps were agreed.
    private const uint TsOptWscaleMask = 0xF; // TS_OPT_WSCALE_MASK
    private const uint TsOptSack = 1u << 4;   // TS_OPT_SACK
    private const uint TsOptEcn = 1u << 5;    // TS_OPT_ECN
    private const int TsBits = 6;             // TSBITS

    /// <summary>
    /// Linux: tcp_cookie_time(), <c>get_jiffies_64() / TCP_SYNCOOKIE_PERIOD</c>, truncated to 32 bits. Jiffies
    /// start at INITIAL_JIFFIES, 47.296 s into a 60 s period at HZ = 1000, so the counter first moves 12.704 s
    /// after boot and every 60 s after that, not on whole minutes of uptime.
    /// </summary>
    /// <param name="nowNs">Virtual nanoseconds since the host booted (the jiffies clock).</param>
    public static uint TcpCookieTime(long nowNs) =>
        (uint)((InitialJiffies + (ulong)nowNs / NsecPerJiffy) / TcpSyncookiePeriod);

    /// <summary>
    /// Linux: __cookie_v4_init_sequence(): the ISN of a cookie SYN-ACK. <paramref name="mss"/> is the client's MSS
    /// on the way in and, on the way out, the largest msstab entry not above it (536 for anything below 1300),
    /// which the SYN-ACK advertises. Linux's cookie_init_sequence() also stamps the listener's overflow time and
    /// counts SyncookiesSent; that is the caller's.
    /// </summary>
    /// <param name="saddr">The SYN's source address (the client).</param>
    /// <param name="clientIsn">The SYN's sequence number.</param>
    /// <param name="nowNs">Virtual nanoseconds since the host booted.</param>
    public static SeqNum CookieV4InitSequence(TcpSecrets secrets, Ipv4Address saddr, Ipv4Address daddr,
        ushort sport, ushort dport, SeqNum clientIsn, ref ushort mss, long nowNs)
    {
        int mssind;
        for (mssind = MssTab.Length - 1; mssind > 0; mssind--)
            if (mss >= MssTab[mssind]) break;
        mss = MssTab[mssind];
        return new(SecureTcpSynCookie(secrets, saddr, daddr, sport, dport, clientIsn.Value, (uint)mssind, nowNs));
    }

    /// <summary>
    /// Linux: __cookie_v4_check(): whether the ACK's <c>ack_seq - 1</c> is a cookie made for this 4-tuple and
    /// <c>seq - 1</c> in the current or the previous period, and if so the MSS it encodes. The 2-bit MSS index is
    /// not authenticated on its own: as in Linux, an ACK whose seq is k higher (or ack_seq k lower) than the
    /// cookie's, for k up to the index, passes with a smaller MSS.
    /// <para>
    /// Linux only gets here from cookie_v4_check() when tcp_syncookies is set, the segment is a bare ACK (no RST,
    /// no SYN) and the listener overflowed in the last two periods (tcp_synq_no_recent_overflow); it counts
    /// SyncookiesFailed or SyncookiesRecv on the result. Those are the caller's.
    /// </para>
    /// </summary>
    /// <param name="saddr">The ACK's source address (the client).</param>
    /// <param name="seq">The ACK's sequence number (client ISN + 1).</param>
    /// <param name="ackSeq">The ACK's acknowledgment number (cookie + 1).</param>
    /// <param name="nowNs">Virtual nanoseconds since the host booted.</param>
    /// <param name="mss">The encoded MSS, or 0 for a bad cookie (Linux's return value).</param>
    public static bool CookieV4Check(TcpSecrets secrets, Ipv4Address saddr, Ipv4Address daddr,
        ushort sport, ushort dport, SeqNum seq, SeqNum ackSeq, long nowNs, out ushort mss)
    {
        uint cookie = unchecked(ackSeq.Value - 1);
        uint sseq = unchecked(seq.Value - 1);
        uint mssind = CheckTcpSynCookie(secrets, cookie, saddr, daddr, sport, dport, sseq, nowNs);
        mss = mssind < (uint)MssTab.Length ? MssTab[(int)mssind] : (ushort)0;
        return mss != 0;
    }

    /// <summary>
    /// Linux: cookie_init_timestamp(), millisecond clock (<c>tcp_ns_to_ts(false, now)</c>): the TSval of a cookie
    /// SYN-ACK before the connection's ts_off is added. It is the current TS clock with the low 6 bits replaced by
    /// the options, 64 ms earlier when that would be in the future, so later TSvals never run backwards.
    /// tcp_make_synack() uses it only for cookie SYN-ACKs to clients that sent timestamps.
    /// <para>
    /// In the first 64 ms after boot, where the result would be negative, Linux's 64-bit nanosecond arithmetic
    /// overflows and sends an unrelated value; NetLab wraps modulo 2^32 and keeps the options. Microsecond
    /// timestamps (req_usec_ts) are not modelled.
    /// </para>
    /// </summary>
    /// <param name="nowNs">The TS clock, tcp_clock_ns(): virtual nanoseconds since the host booted.</param>
    public static uint CookieInitTimestamp(in SynCookieTsOptions options, long nowNs)
    {
        Debug.Assert(options.SndWscale <= TcpOptionLength.MaxWindowScale, "tcp_parse_options() clamps snd_wscale to 14");
        uint bits = options.WscaleOk ? options.SndWscale : TsOptWscaleMask;
        if (options.SackOk) bits |= TsOptSack;
        if (options.EcnOk) bits |= TsOptEcn;

        ulong tsNow = (ulong)nowNs / 1_000_000; // tcp_ns_to_ts(false, now): NSEC_PER_MSEC
        ulong ts = ((tsNow >> TsBits) << TsBits) | bits;
        if (ts > tsNow) ts -= 1UL << TsBits;
        return unchecked((uint)ts);
    }

    /// <summary>
    /// Linux: cookie_timestamp_decode(), with the ECN bit that cookie_tcp_reqsk_alloc() reads from the same
    /// TSecr: the options of a connection rebuilt from a valid cookie ACK. False means an option that this host's
    /// sysctls now forbid (Linux then treats the ACK as if no cookie matched, after counting SyncookiesRecv).
    /// <list type="bullet">
    /// <item>No timestamp: no options at all (Linux's tcp_clear_options()), whatever the sysctls.</item>
    /// <item>A timestamp with tcp_timestamps = 0: false.</item>
    /// <item>The SACK bit with tcp_sack = 0: false.</item>
    /// <item>WScale 0xF: no window scaling; otherwise that shift, and false if tcp_window_scaling = 0.</item>
    /// </list>
    /// <paramref name="timestamp"/>'s TSecr must already have ts_off removed, as cookie_tcp_check() does: when
    /// the TSecr is not 0 it subtracts <see cref="SecureSequence.SecureTcpTsOff"/>(local, remote), which also
    /// becomes the connection's ts_off; a TSecr of 0 is decoded as is, with ts_off 0 (WScale 0, no SACK, no ECN).
    /// EcnOk is the client's bit only; Linux then ANDs it with cookie_ecn_ok() (tcp_ecn or the route's ECN
    /// feature).
    /// </summary>
    public static bool CookieTimestampDecode(TcpTimestamp? timestamp, int tcpTimestamps, int tcpSack,
        int tcpWindowScaling, out SynCookieTsOptions options)
    {
        options = default;
        if (timestamp is not { TsEcr: var bits }) return true;
        if (tcpTimestamps == 0) return false;

        bool sackOk = (bits & TsOptSack) != 0;
        bool ecnOk = (bits & TsOptEcn) != 0;
        if (sackOk && tcpSack == 0) return false;

        uint wscale = bits & TsOptWscaleMask;
        if (wscale == TsOptWscaleMask)
        {
            options = new(WscaleOk: false, SndWscale: 0, sackOk, ecnOk);
            return true;
        }
        options = new(WscaleOk: true, SndWscale: (byte)wscale, sackOk, ecnOk);
        return tcpWindowScaling != 0;
    }

    /// <summary>Linux: secure_tcp_syn_cookie(); <paramref name="data"/> is the MSS index.</summary>
    private static uint SecureTcpSynCookie(TcpSecrets secrets, Ipv4Address saddr, Ipv4Address daddr,
        ushort sport, ushort dport, uint sseq, uint data, long nowNs)
    {
        uint count = TcpCookieTime(nowNs);
        return unchecked(CookieHash(secrets.SyncookieSecret0, saddr, daddr, sport, dport, 0)
            + sseq + (count << CookieBits)
            + ((CookieHash(secrets.SyncookieSecret1, saddr, daddr, sport, dport, count) + data) & CookieMask));
    }

    /// <summary>
    /// Linux: check_tcp_syn_cookie(): peel off H(0, 0) and the ISN, read the period from the top 8 bits, and
    /// return the data below H(count, 1), or uint.MaxValue when the period is too old (or in the future).
    /// </summary>
    private static uint CheckTcpSynCookie(TcpSecrets secrets, uint cookie, Ipv4Address saddr, Ipv4Address daddr,
        ushort sport, ushort dport, uint sseq, long nowNs)
    {
        uint count = TcpCookieTime(nowNs);
        unchecked
        {
            cookie -= CookieHash(secrets.SyncookieSecret0, saddr, daddr, sport, dport, 0) + sseq;
            uint diff = (count - (cookie >> CookieBits)) & (uint.MaxValue >> CookieBits);
            if (diff >= MaxSyncookieAge) return uint.MaxValue;
            return (cookie - CookieHash(secrets.SyncookieSecret1, saddr, daddr, sport, dport, count - diff)) & CookieMask;
        }
    }

    /// <summary>Linux: cookie_hash(), the 16 bytes saddr, daddr, dport, sport (network order) and le32(count).</summary>
    private static uint CookieHash(in SipKey key, Ipv4Address saddr, Ipv4Address daddr, ushort sport, ushort dport,
        uint count) =>
        (uint)SipHash.Hash4U32(SecureSequence.Be32(saddr), SecureSequence.Be32(daddr),
            SecureSequence.PortPair(sport, dport), count, key);
}
